package imapserver

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/storetest"
)

// threadCorpus generates messages for THREAD and the Mail11 view's
// derived envelopes: References folded over lines, repeated, empty or
// missing; Resent-*, Reply-To, Sender and Return-Path fields in random
// order and case, several To and Cc fields.
func threadCorpus(n int) []string {
	rng := rand.New(rand.NewPCG(5256, 15))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	var out []string
	for i := range n {
		var b strings.Builder
		for _, f := range []string{"Resent-Reply-To", "resent-from", "Reply-To", "Resent-Sender", "SENDER", "Return-Path", "From"} {
			if rng.IntN(4) == 0 {
				fmt.Fprintf(&b, "%s: %s\r\n", f, pick("<>", "r@example.org", "=?UTF-8?Q?R=C3=A9mi?= <remi@example.fr>", `"a b" <ab@example.org>`, ""))
			}
		}
		for range rng.IntN(3) {
			fmt.Fprintf(&b, "%s: %s\r\n", pick("To", "Cc"), pick("x@example.org, y@example.org", "team: z@example.org;", "w@example.net"))
		}
		fmt.Fprintf(&b, "Subject: %s\r\nMessage-ID: <m%d@example.org>\r\n", pick("Re: thread", "thread", "Fwd: other", "[list] thread"), i)
		if i > 0 && rng.IntN(5) != 0 {
			parent := rng.IntN(i)
			fmt.Fprintf(&b, "In-Reply-To: <m%d@example.org>\r\n", parent)
			switch rng.IntN(4) {
			case 0:
				fmt.Fprintf(&b, "References: <m%d@example.org>\r\n", parent)
			case 1:
				fmt.Fprintf(&b, "References: <m%d@example.org>\r\n\t<m%d@example.org>\r\n", rng.IntN(i), parent)
			case 2:
				fmt.Fprintf(&b, "references: <m%d@example.org>\r\nReferences: <m%d@example.org>\r\n", parent, rng.IntN(i))
			default:
				b.WriteString("References:\r\n")
			}
		}
		fmt.Fprintf(&b, "Date: %s\r\n\r\nbody\r\n", testTime.AddDate(0, 0, -rng.IntN(300)).Format("Mon, 02 Jan 2006 15:04:05 -0700"))
		out = append(out, b.String())
	}
	return out
}

// TestKeptHeadersMatchFiles: THREAD REFERENCES and REFS (which read
// References) and FETCH ENVELOPE in the Mail11 view (whose envelope of
// SMTP mail is derived from Resent-*, Sender, Return-Path…) give the same
// answers from the header fields the store keeps as from the files
// (plainStore hides store.HeaderKeeper), in every view, with messages
// imported with an OpenVMS envelope among them.
func TestKeptHeadersMatchFiles(t *testing.T) {
	n := 150
	if testing.Short() || raceEnabled {
		n = 40
	}
	corpus := threadCorpus(n)
	views := map[string]func(*fixture){
		"stored": func(*fixture) {},
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
			for _, m := range corpus {
				if err := f.deliver("alice", "INBOX", []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			f.deliverVMS("alice", "References: <m1@example.org>\r\nSubject: own\r\n\r\nbody\r\n", &store.VMSEnvelope{
				From: `SMTP%"bob@example.org"`, To: "ALICE", Subject: "real", OwnHeader: true})
			storetest.FlushIndex(t, f.st)
			kept := dialClient(t, f.start())
			f.opts.Store = plainStore{f.st}
			files := dialClient(t, f.start())
			for _, alg := range []imap.ThreadAlgorithm{imap.ThreadReferences, "REFS"} {
				opts := &imapclient.ThreadOptions{Algorithm: alg, SearchCriteria: &imap.SearchCriteria{}}
				a, errA := kept.UIDThread(opts).Wait()
				b, errB := files.UIDThread(opts).Wait()
				if errA != nil || errB != nil || !reflect.DeepEqual(a, b) || len(a) == 0 {
					t.Errorf("UID THREAD %s: kept fields %v (%v), files %v (%v)", alg, a, errA, b, errB)
				}
			}
			seq := imap.SeqSetNum(1)
			seq.AddRange(1, 0)
			env := func(c *imapclient.Client) []*imap.Envelope {
				msgs, err := c.Fetch(seq, &imap.FetchOptions{Envelope: true}).Collect()
				if err != nil {
					t.Fatal(err)
				}
				var out []*imap.Envelope
				for _, m := range msgs {
					out = append(out, m.Envelope)
				}
				return out
			}
			if a, b := env(kept), env(files); !reflect.DeepEqual(a, b) || len(a) != len(corpus)+1 {
				t.Errorf("FETCH 1:* ENVELOPE differs: kept fields %d envelopes, files %d", len(a), len(b))
				for i := range min(len(a), len(b)) {
					if !reflect.DeepEqual(a[i], b[i]) {
						t.Errorf("message %d: %+v vs %+v", i+1, a[i], b[i])
						break
					}
				}
			}
		})
	}
}
