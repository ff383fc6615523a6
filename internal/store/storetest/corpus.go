package storetest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// ftsWords is the vocabulary of textCorpus: ASCII words, words with
// accents, Cyrillic and Greek, so that needles cross charsets.
var ftsWords = []string{
	"quokka", "phone", "marmot", "report", "meeting", "Zürich", "café", "Straße", "ÉTÉ", "naïve", "déjà",
	"привет", "мир", "Ωmega", "αλφα", "budget", "Q3", "invoice", "€100", "naïveté", "résumé", "ZÜRICH",
	"the", "and", "of", "to", "kelvin", "K", "ſ", "İstanbul",
}

// TextCorpus generates n messages for the text index differential test:
// bodies in UTF-8, ISO-8859-1, windows-1252, KOI8-R and an unknown
// charset, as 8bit, quoted-printable (soft breaks inside words) and
// base64; multipart/alternative with HTML, multipart/mixed with text and
// binary attachments, nested message/rfc822, a top-level attachment,
// encoded-word headers, and broken base64.
func TextCorpus(n int) []string {
	rng := rand.New(rand.NewPCG(3, 14))
	text := func() string {
		var b strings.Builder
		for i := range 20 + rng.IntN(200) {
			if i > 0 {
				b.WriteString(pickOf(rng, " ", " ", " ", "\r\n", ", ", ". "))
			}
			b.WriteString(pickOf(rng, ftsWords...))
		}
		return b.String()
	}
	type enc struct{ cs, cte string }
	encode := func(s string, e enc) (string, bool) {
		var raw []byte
		switch e.cs {
		case "iso-8859-1", "x-unknown":
			r, err := charmap.ISO8859_1.NewEncoder().String(s)
			if err != nil {
				return "", false
			}
			raw = []byte(r)
		case "windows-1252":
			r, err := charmap.Windows1252.NewEncoder().String(s)
			if err != nil {
				return "", false
			}
			raw = []byte(r)
		case "koi8-r":
			r, err := charmap.KOI8R.NewEncoder().String(s)
			if err != nil {
				return "", false
			}
			raw = []byte(r)
		default:
			raw = []byte(s)
		}
		switch e.cte {
		case "base64":
			b64 := base64.StdEncoding.EncodeToString(raw)
			var b strings.Builder
			for len(b64) > 76 {
				b.WriteString(b64[:76] + "\r\n")
				b64 = b64[76:]
			}
			b.WriteString(b64)
			return b.String(), true
		case "quoted-printable":
			var b bytes.Buffer
			w := quotedprintable.NewWriter(&b)
			w.Write(raw)
			w.Close()
			return b.String(), true
		}
		return string(raw), true
	}
	part := func(sub string) string {
		for {
			e := enc{pickOf(rng, "utf-8", "utf-8", "iso-8859-1", "windows-1252", "koi8-r", "x-unknown", ""),
				pickOf(rng, "8bit", "quoted-printable", "base64", "7bit")}
			s := text()
			if sub == "html" {
				s = "<html><body><p>" + strings.ReplaceAll(s, " ", "</b> <b>") + "</p></body></html>"
			}
			body, ok := encode(s, e)
			if !ok {
				continue // the word does not exist in that charset: try another
			}
			ct := "text/" + sub
			if e.cs != "" {
				ct += "; charset=" + e.cs
			}
			return "Content-Type: " + ct + "\r\nContent-Transfer-Encoding: " + e.cte + "\r\n\r\n" + body + "\r\n"
		}
	}
	attach := func() string {
		data := make([]byte, 100+rng.IntN(3000))
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		copy(data[rng.IntN(50):], "quokka phone attached")
		return "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString(data) + "\r\n"
	}
	header := func(i int) string {
		return fmt.Sprintf("From: %s <u%d@example.org>\r\nSubject: %s %s\r\nMessage-ID: <t%d@example.org>\r\n",
			pickOf(rng, "Alice", "=?UTF-8?Q?Z=C3=BCrich?=", "=?ISO-8859-1?Q?Caf=E9?="), i%50, pickOf(rng, ftsWords...),
			pickOf(rng, "report", "=?UTF-8?B?0L/RgNC40LLQtdGC?=", "naïve"), i)
	}
	var out []string
	for i := range n {
		h := header(i)
		var m string
		switch rng.IntN(8) {
		case 0, 1, 2:
			m = h + part("plain")
		case 3:
			m = h + "Content-Type: multipart/alternative; boundary=alt\r\n\r\n--alt\r\n" + part("plain") + "--alt\r\n" + part("html") + "--alt--\r\n"
		case 4:
			m = h + "Content-Type: multipart/mixed; boundary=mix\r\n\r\npreamble " + pickOf(rng, ftsWords...) + "\r\n--mix\r\n" +
				part("plain") + "--mix\r\n" + attach() + "--mix--\r\nepilogue\r\n"
		case 5:
			m = h + "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n" + part("plain") + "--o\r\nContent-Type: message/rfc822\r\n\r\n" +
				header(i+n) + "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n" + part("html") + "--i--\r\n--o--\r\n"
		case 6:
			m = h + "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				base64.StdEncoding.EncodeToString([]byte("%PDF "+text())) + "\r\n"
		default:
			m = h + "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				base64.StdEncoding.EncodeToString([]byte(text()))[:40] + "!!@@" + base64.StdEncoding.EncodeToString([]byte(text())) + "\r\n"
		}
		out = append(out, m)
	}
	return out
}

func pickOf(rng *rand.Rand, xs ...string) string { return xs[rng.IntN(len(xs))] }

// TextNeedles are BODY and TEXT strings for TextCorpus: words in several
// scripts, across part and field boundaries, short ones an index cannot
// answer, invalid UTF-8 and quotes.
var TextNeedles = []string{
	"quokka", "QUOKKA PHONE", "zürich", "ZÜRICH", "café", "CAFÉ", "straße", "été", "ÉTÉ", "привет", "ПРИВЕТ", "ωmega",
	"€100", "naïveté", "résumé", "<b>quokka</b>", "</b> <b>", "phone attached", "%pdf", "preamble", "epilogue",
	"from: alice", "subject: café", "zürich <u1", "meeting\r\nbudget", "q3, invoice", "kelvin k", "ſ", "\ufffd",
	"caf\xe9", "istanbul", "İstanbul", "u7@example", "of the", "m", "of", "x-imap4-id: 1", "\"", "a\"b",
}
