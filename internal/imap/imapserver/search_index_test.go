package imapserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/storetest"
)

// headerCorpus generates n messages whose headers exercise what the
// header index must decode as the scan does: RFC 2047 words (B and Q, in
// UTF-8, ISO-8859-1, KOI8-R, windows-1252 and an unknown charset, split
// across words), raw 8-bit UTF-8 and Latin-1, fields folded over lines,
// several From and To fields, groups, empty and missing fields.
func headerCorpus(n int) []string {
	rng := rand.New(rand.NewPCG(15, 2026))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	name := func() string {
		return pick("Alice Martin", `"Dr. Who"`, "=?UTF-8?B?WsO8cmljaCBNw7xsbGVy?=", "=?ISO-8859-1?Q?J=F6rg_Stra=DFe?=",
			"=?KOI8-R?B?5M3J1NLJyg==?=", "=?windows-1252?Q?Euro_=80_Caf=E9?=", "=?x-unknown?Q?Caf=E9?=",
			"Zürich Müller", "Caf\xe9 Latin", "=?UTF-8?Q?split_?= =?UTF-8?Q?word?=", "Marmot Search", "")
	}
	addr := func() string {
		a := pick("alice", "bob", "marmot.search", "carol.quokka", "zb") + "@" + pick("example.org", "example.net", "xn--mnchen-3ya.de")
		if nm := name(); nm != "" {
			return nm + " <" + a + ">"
		}
		return a
	}
	list := func() string {
		switch rng.IntN(5) {
		case 0:
			return addr() + ", " + addr()
		case 1:
			return "team: " + addr() + ", " + addr() + ";"
		case 2:
			return addr() + ",\r\n " + addr()
		case 3:
			return "undisclosed-recipients:;"
		}
		return addr()
	}
	subject := func() string {
		return pick("Quarterly report", "=?UTF-8?Q?Caf=C3=A9_?= =?UTF-8?Q?und_Stra=C3=9Fe?=", "a long subject that is\r\n folded before\r\n\tquokka",
			"Re: ÄRGER in Zürich", "=?ISO-8859-1?B?w6l06Q==?= raw \xe9t\xe9", "", "=?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?= news", "quokkaphone")
	}
	var out []string
	for i := range n {
		var b strings.Builder
		for range rng.IntN(3) { // 0, 1 or 2 From fields
			fmt.Fprintf(&b, "%s: %s\r\n", pick("From", "FROM", "from"), list())
		}
		for range rng.IntN(3) {
			fmt.Fprintf(&b, "To: %s\r\n", list())
		}
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "Cc: %s\r\n", list())
		}
		if rng.IntN(5) == 0 {
			fmt.Fprintf(&b, "Bcc: %s\r\n", list())
		}
		if rng.IntN(6) != 0 {
			fmt.Fprintf(&b, "Subject: %s\r\n", subject())
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "X-Tag: %s\r\n", pick("alpha", "Zürich", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "folded\r\n value here", "", "beta quokka"))
		}
		if rng.IntN(4) == 0 {
			fmt.Fprintf(&b, "Reply-To: %s\r\n", list())
		}
		fmt.Fprintf(&b, "Message-ID: <%d.%d@example.org>\r\n\r\nbody %d\r\n", i, rng.IntN(1000), i)
		out = append(out, b.String())
	}
	return out
}

// headerNeedles are the strings the header differential test looks for.
var headerNeedles = []string{
	"alice", "ALICE", "zürich", "MÜLLER", "jörg", "straße", "дмитрий", "€", "café", "caf\ufffd", "\ufffd",
	"marmot.search@example.org", "example.net", "<bob@", "team: ", "undisclosed", "split word", "=?",
	"quokka", "report", "folded before\tquokka", "ärger", "été", "прив", "grüße", "", "q", "xn--", ";",
}

// TestSearchIndexMatchesScan runs the header keys through the store's
// index and through the scan (plainStore hides store.Searcher) on one
// generated corpus, in every view, and requires equal results: FROM,
// TO, CC, BCC, SUBJECT and HEADER alone and inside OR, NOT and with
// other keys, with messages stored with an OpenVMS envelope and some
// messages the index says it holds nothing for (staleSearcher), which
// are read.
func TestSearchIndexMatchesScan(t *testing.T) {
	n := 300
	if testing.Short() || raceEnabled {
		n = 60
	}
	corpus := headerCorpus(n)
	views := map[string]func(*fixture){
		"stored":  func(*fixture) {},
		"send-id": func(f *fixture) { f.opts.SendIDHeaders = true },
		"mail11-ignore": func(f *fixture) {
			f.opts.Mail11 = &mail11.Options{Hostname: testHost}
			f.opts.IgnoreMail11Headers = true
		},
		"mail11": func(f *fixture) { f.opts.Mail11 = &mail11.Options{Hostname: testHost} },
	}
	for name, setView := range views {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			setView(f)
			f.addUser("alice", "pw")
			for i, m := range corpus {
				flags := []string{`\Seen`}[:i%2]
				if err := f.deliver("alice", "INBOX", []byte(m), flags...); err != nil {
					t.Fatal(err)
				}
			}
			f.deliverVMS("alice", "\r\nFrom VMS, Zürich.\r\n", &store.VMSEnvelope{From: "NODE::ALICE", To: "BOB", Subject: "vms report"})
			f.deliverVMS("alice", "From: bob@example.org\r\nSubject: own report\r\n\r\nbody\r\n", &store.VMSEnvelope{
				From: `SMTP%"bob@example.org"`, To: "ALICE", Subject: "real report", OwnHeader: true})
			storetest.FlushIndex(t, f.st)
			idx := dialClient(t, f.start())
			f.opts.Store = staleSearcher{f.st}
			stale := dialClient(t, f.start())
			f.opts.Store = plainStore{f.st}
			scan := dialClient(t, f.start())
			found, crits := 0, headerCriteria()
			if testing.Short() || raceEnabled {
				crits, found = crits[:len(crits)/3], 1000
			}
			if name == "mail11" {
				// The index stands for no message of this view (every
				// header is rebuilt): a sample shows it is not used.
				crits, found = crits[len(crits)-40:], 1000
			}
			for _, crit := range crits {
				want := uidSearch(t, scan, crit)
				for label, c := range map[string]*imapclient.Client{"index": idx, "stale index": stale} {
					if got := uidSearch(t, c, crit); !slices.Equal(got, want) {
						t.Errorf("%s, %s: got %v, the scan %v", label, describe(crit), got, want)
					}
				}
				found += len(want)
			}
			if found < 1000 {
				t.Errorf("only %d matches in all: the corpus or the needles lost their point", found)
			}
		})
	}
}

// headerCriteria are the searches of TestSearchIndexMatchesScan.
func headerCriteria() []imap.SearchCriteria {
	var out []imap.SearchCriteria
	h := func(k, v string) imap.SearchCriteria {
		return imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}}
	}
	for i, n := range headerNeedles {
		keys := []string{"From", "To", "Subject", "X-Tag"}
		if i%3 == 0 {
			keys = append(keys, "Cc", "Bcc", "Reply-To", "Message-ID", "X-IMAP4-ID", "Nonesuch")
		}
		for _, k := range keys {
			out = append(out, h(k, n))
		}
	}
	out = append(out,
		imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{h("From", "alice"), h("Subject", "report")}}},
		imap.SearchCriteria{Not: []imap.SearchCriteria{h("To", "example.net")}},
		imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "zürich"}, {Key: "X-Tag", Value: "a"}},
			Flag: []imap.Flag{imap.FlagSeen}},
		imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "quokka"}}, Larger: 200},
		imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Cc", Value: ""}}, Body: []string{"body 1"}},
		imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "bob"}}, SentSince: testTime.AddDate(-30, 0, 0)},
	)
	return out
}

func uidSearch(t *testing.T, c *imapclient.Client, crit imap.SearchCriteria) []imap.UID {
	t.Helper()
	data, err := c.UIDSearch(&crit, nil).Wait()
	if err != nil {
		t.Fatalf("UID SEARCH %s: %v", describe(crit), err)
	}
	return data.AllUIDs()
}

func describe(crit imap.SearchCriteria) string { return fmt.Sprintf("%+v", crit) }

// staleSearcher is a store whose search index holds nothing for every
// third message, as for mail stored before the index existed.
type staleSearcher struct{ store.Store }

type staleSession struct{ store.Session }

func (s staleSearcher) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	ss, err := s.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return staleSession{ss}, nil
}

func (s staleSession) SearchIndex(ctx context.Context, mailbox store.MailboxID, q store.SearchQuery) (store.SearchResult, error) {
	res, err := s.Session.(store.Searcher).SearchIndex(ctx, mailbox, q)
	if err != nil {
		return res, err
	}
	res.Matched = slices.DeleteFunc(res.Matched, func(u store.UID) bool { return u%3 == 0 })
	infos, err := s.Messages(ctx, mailbox)
	if err != nil {
		return res, err
	}
	for _, in := range infos {
		if in.UID%3 == 0 && !slices.Contains(res.Unindexed, in.UID) {
			res.Unindexed = append(res.Unindexed, in.UID)
		}
	}
	slices.Sort(res.Unindexed)
	return res, nil
}
