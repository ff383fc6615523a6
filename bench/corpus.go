package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// The corpus is generated, never downloaded: the same seed gives the same
// bytes on every machine, so both servers (and every run) see identical
// mail.
const (
	corpusSeed = 20261101

	// searchWord is put into the text of every searchWordEvery-th message
	// and nowhere else, so that UID SEARCH TEXT has a known answer.
	searchWord      = "quokkaphone"
	searchWordEvery = 97

	// searchFrom sends every searchFromEvery-th message.
	searchFrom      = "marmot.search@example.org"
	searchFromEvery = 89

	// searchSubject ends the Subject of every searchSubjectEvery-th
	// message, so that UID SEARCH SUBJECT has a known answer.
	searchSubject      = "Wombat Quarterly"
	searchSubjectEvery = 83

	// attachEvery: every attachEvery-th message is MIME with an attachment
	// (2 %); the others are plain text of minTextSize..maxTextSize bytes.
	attachEvery = 50
	minTextSize = 2 << 10
	maxTextSize = 20 << 10
	minAttach   = 16 << 10

	benchDomain = "localhost"
)

// vocabulary is the word list the text bodies are drawn from. None of
// these words contains searchWord.
var vocabulary = []string{
	"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
	"by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
	"an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has",
	"there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "meeting",
	"report", "budget", "server", "mailbox", "quarterly", "schedule", "invoice", "project",
	"deadline", "review", "attached", "please", "thanks", "regards", "update", "release",
	"customer", "order", "shipment", "warehouse", "ledger", "account", "cluster", "node",
	"volume", "backup", "tape", "queue", "batch", "printer", "terminal", "operator",
	"manager", "engineer", "contract", "proposal", "agenda", "minutes", "travel", "expense",
	"approval", "signature", "holiday", "weekend", "monday", "friday", "morning", "evening",
	"coffee", "lunch", "office", "building", "parking", "network", "outage", "maintenance",
	"window", "upgrade", "patch", "security", "password", "policy", "training", "session",
	"résumé", "café", "naïve", "Zürich", "München", "Ærø",
}

var firstNames = []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
	"Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor",
	"Walter", "Yolanda"}

var domains = []string{"example.com", "example.net", "example.org", "corp.example", "mail.test"}

// corpus is the generated mail: msgs[i] is message i, in CRLF form.
type corpus struct {
	msgs  [][]byte
	bytes int64
	// wantText, wantFrom and wantSubject are how many messages SEARCH
	// TEXT searchWord, FROM searchFrom and SUBJECT searchSubject must find
	// among all the messages.
	wantText, wantFrom, wantSubject int
}

// newCorpus generates n messages; attachments are at most maxAttach bytes
// (before base64), and the first MIME message carries one of exactly
// maxAttach bytes so the largest size is always exercised.
func newCorpus(n, maxAttach int) *corpus {
	rng := rand.New(rand.NewPCG(corpusSeed, uint64(n)))
	c := &corpus{msgs: make([][]byte, n)}
	first := true
	for i := range n {
		var m []byte
		if i%attachEvery == attachEvery-1 && maxAttach > 0 {
			size := maxAttach
			if !first {
				size = logUniform(rng, min(minAttach, maxAttach), maxAttach)
			}
			first = false
			m = mimeMessage(rng, i, size)
		} else {
			m = textMessage(rng, i)
		}
		c.msgs[i] = m
		c.bytes += int64(len(m))
		if i%searchWordEvery == searchWordEvery-1 {
			c.wantText++
		}
		if i%searchFromEvery == searchFromEvery-1 {
			c.wantFrom++
		}
		if i%searchSubjectEvery == searchSubjectEvery-1 {
			c.wantSubject++
		}
	}
	return c
}

func logUniform(rng *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	l, h := math.Log(float64(lo)), math.Log(float64(hi))
	return int(math.Exp(l + rng.Float64()*(h-l)))
}

// header writes the header fields every message has.
func header(b *bytes.Buffer, rng *rand.Rand, i int) {
	from := fmt.Sprintf("%s <%s.%d@%s>", firstNames[rng.IntN(len(firstNames))],
		firstNames[rng.IntN(len(firstNames))], rng.IntN(50), domains[rng.IntN(len(domains))])
	if i%searchFromEvery == searchFromEvery-1 {
		from = "Marmot Search <" + searchFrom + ">"
	}
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Minute)
	fmt.Fprintf(b, "From: %s\r\n", from)
	fmt.Fprintf(b, "To: Bench User <bench@%s>\r\n", benchDomain)
	if rng.IntN(4) == 0 {
		fmt.Fprintf(b, "Cc: %s <%s@%s>\r\n", firstNames[rng.IntN(len(firstNames))], "team", domains[rng.IntN(len(domains))])
	}
	subject := fmt.Sprintf("%s %s %s #%d", words(rng, 1), words(rng, 1), words(rng, 1), i)
	if i%searchSubjectEvery == searchSubjectEvery-1 {
		subject += " " + searchSubject
	}
	fmt.Fprintf(b, "Subject: %s\r\n", subject)
	fmt.Fprintf(b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(b, "Message-ID: <%d.%d@bench.postern.test>\r\n", i, corpusSeed)
	b.WriteString("MIME-Version: 1.0\r\n")
}

func words(rng *rand.Rand, n int) string {
	var b bytes.Buffer
	for j := range n {
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[rng.IntN(len(vocabulary))])
	}
	return b.String()
}

// text writes about size bytes of wrapped prose lines.
func text(b *bytes.Buffer, rng *rand.Rand, i, size int) {
	start := b.Len()
	line := 0
	if i%searchWordEvery == searchWordEvery-1 {
		b.WriteString("Note the " + searchWord + " item below.\r\n")
	}
	for b.Len()-start < size {
		w := vocabulary[rng.IntN(len(vocabulary))]
		if line+len(w)+1 > 72 {
			b.WriteString("\r\n")
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	b.WriteString("\r\n")
}

func textMessage(rng *rand.Rand, i int) []byte {
	var b bytes.Buffer
	header(&b, rng, i)
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	text(&b, rng, i, minTextSize+rng.IntN(maxTextSize-minTextSize))
	return b.Bytes()
}

func mimeMessage(rng *rand.Rand, i, attach int) []byte {
	var b bytes.Buffer
	header(&b, rng, i)
	boundary := fmt.Sprintf("=_bench_%d", i)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	text(&b, rng, i, minTextSize+rng.IntN(4<<10))
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/octet-stream; name=\"data-%d.bin\"\r\n", boundary, i)
	fmt.Fprintf(&b, "Content-Disposition: attachment; filename=\"data-%d.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", i)
	raw := make([]byte, attach)
	for j := 0; j < len(raw); j += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && j+k < len(raw); k++ {
			raw[j+k] = byte(v >> (8 * k))
		}
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

// writeMaildir writes the first n messages as a Maildir (for `postern
// import` when Postern does not serve LMTP yet).
func (c *corpus) writeMaildir(dir string, n int) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	for i := range min(n, len(c.msgs)) {
		name := fmt.Sprintf("%010d.M%dP1.bench:2,", 1700000000+i, i)
		if err := os.WriteFile(filepath.Join(dir, "cur", name), c.msgs[i], 0o600); err != nil {
			return err
		}
	}
	return nil
}
