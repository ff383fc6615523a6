package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// sortThreadMail: a reply by References, a forward that joins by subject,
// a list prefix, an encoded display name.
var sortThreadMail = []string{
	"From: Zed <zed@example.org>\nTo: alice@example.com\nSubject: hello\n" +
		"Date: Tue, 01 Dec 2026 10:00:00 +0000\nMessage-ID: <a@example.org>\n\none\n",
	"From: adam@example.org\nTo: alice@example.com\nSubject: Re: hello\n" +
		"Date: Tue, 01 Dec 2026 11:00:00 +0000\nMessage-ID: <b@example.org>\nReferences: <a@example.org>\n\ntwo\n",
	"From: =?UTF-8?Q?=C3=89mile?= <emile@example.fr>\nTo: alice@example.com\nSubject: [list] apple\n" +
		"Date: Mon, 30 Nov 2026 09:00:00 +0000\nMessage-ID: <c@example.fr>\n\nthree\n",
	"From: bea@example.org\nTo: alice@example.com\nSubject: Fwd: hello\n" +
		"Date: Wed, 02 Dec 2026 08:00:00 +0000\nMessage-ID: <d@example.org>\n\nfour\n",
}

// TestIMAPSortThreadImaplib uses Python imaplib's sort() and thread() (and
// its uid() for UID SORT and UID THREAD), the calls a webmail makes
// (Roundcube: UID THREAD REFS, UID SORT (DATE) US-ASCII HEADER SUBJECT …).
func TestIMAPSortThreadImaplib(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	for _, m := range sortThreadMail {
		e.run(m, "deliver", "alice").must(t, 0)
	}
	script := `
import imaplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
M = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx, timeout=20)
M.login("alice", "alice-pw")
typ, caps = M.capability()
for c in (b"SORT", b"SORT=DISPLAY", b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES", b"THREAD=REFS"):
    assert c in caps[0].split(), caps
typ, data = M.select("INBOX", readonly=True); assert data[0] == b"4", data
typ, data = M.sort("(SUBJECT)", "UTF-8", "ALL"); assert typ == "OK" and data[0] == b"3 1 2 4", data
typ, data = M.sort("REVERSE DATE", "UTF-8", "ALL"); assert data[0] == b"4 2 1 3", data
typ, data = M.sort("(DISPLAYFROM)", "UTF-8", "ALL"); assert data[0] == b"2 4 3 1", data
typ, data = M.uid("SORT", "(DATE)", "US-ASCII", "HEADER", "SUBJECT", "hello"); assert data[0] == b"1 2 4", data
typ, data = M.sort("(SUBJECT)", "UTF-8", "TEXT", '"not there"'); assert typ == "OK" and data[0] in (b"", None), data
typ, data = M.thread("REFERENCES", "UTF-8", "ALL"); assert typ == "OK" and data[0] == b"(3)(1 (2)(4))", data
typ, data = M.thread("ORDEREDSUBJECT", "UTF-8", "ALL"); assert data[0] == b"(3)(1 (2)(4))", data
typ, data = M.uid("THREAD", "REFS", "US-ASCII", "ALL"); assert data[0] == b"(3)(1 2)(4)", data
# imaplib raises on BAD and returns NO.
for call in (lambda: M.sort("(BOGUS)", "UTF-8", "ALL"), lambda: M.thread("BOGUS", "UTF-8", "ALL")):
    try:
        call(); assert False
    except imaplib.IMAP4.error as e:
        assert "BAD" in str(e), e
typ, data = M.sort("(SUBJECT)", "X-NOSUCH", "ALL"); assert typ == "NO" and b"[BADCHARSET" in data[0], (typ, data)
typ, data = M.thread("REFS", "X-NOSUCH", "ALL"); assert typ == "NO" and b"[BADCHARSET" in data[0], (typ, data)
typ, data = M.noop(); assert typ == "OK"
M.logout()
print("ok")
`
	out := python(t, script, strconv.Itoa(p.secure), p.cafile)
	if !strings.Contains(out, "ok") {
		t.Fatalf("imaplib: %s", out)
	}
}

// TestIMAPSortThreadGoIMAP uses the go-imap v2 client's Sort and
// UIDThread. QUIRK of go-imap v2.0.0-beta.8: its THREAD reader expects a
// space before every thread-list, where RFC 5256 §4 puts none between
// them (Dovecot agrees), so only a one-thread result is read with it.
func TestIMAPSortThreadGoIMAP(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	for _, m := range sortThreadMail {
		e.run(m, "deliver", "alice").must(t, 0)
	}
	pem, err := os.ReadFile(p.cafile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := imapclient.DialTLS("localhost:"+strconv.Itoa(p.secure), &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "alice-pw").Wait(); err != nil {
		t.Fatal(err)
	}
	caps := c.Caps()
	if !caps.Has(imap.CapSort) || !caps.Has(imap.CapSortDisplay) ||
		!slices.Contains(caps.ThreadAlgorithms(), imap.ThreadReferences) || !slices.Contains(caps.ThreadAlgorithms(), imap.ThreadOrderedSubject) {
		t.Fatalf("capabilities: %v", caps)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	nums, err := c.Sort(&imapclient.SortOptions{
		SearchCriteria: &imap.SearchCriteria{},
		SortCriteria:   []imapclient.SortCriterion{{Key: imapclient.SortKeyDate, Reverse: true}},
	}).Wait()
	if err != nil || !slices.Equal(nums, []uint32{4, 2, 1, 3}) {
		t.Errorf("SORT (REVERSE DATE) = %v, %v; want [4 2 1 3]", nums, err)
	}
	nums, err = c.UIDSort(&imapclient.SortOptions{
		SearchCriteria: &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "hello"}}},
		SortCriteria:   []imapclient.SortCriterion{{Key: imapclient.SortKeyFrom}},
	}).Wait()
	if err != nil || !slices.Equal(nums, []uint32{2, 4, 1}) {
		t.Errorf("UID SORT (FROM) HEADER Subject hello = %v, %v; want [2 4 1]", nums, err)
	}
	threads, err := c.UIDThread(&imapclient.ThreadOptions{
		Algorithm:      imap.ThreadReferences,
		SearchCriteria: &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "hello"}}},
	}).Wait()
	want := []imapclient.ThreadData{{Chain: []uint32{1}, SubThreads: []imapclient.ThreadData{{Chain: []uint32{2}}, {Chain: []uint32{4}}}}}
	if err != nil || !reflect.DeepEqual(threads, want) {
		t.Errorf("UID THREAD REFERENCES = %+v, %v; want %+v", threads, err, want)
	}
}

// TestIMAPESortImaplib sends ESORT (RFC 5267 §3) and CONTEXT=SORT's
// PARTIAL (§4.4) from Python imaplib, which has no call for them, through
// its command layer: SORT and UID SORT with RETURN answer one ESEARCH
// tagged with the command, in sort order. A UID SEARCH with UPDATE
// (CONTEXT=SEARCH, §4.3) is told of another connection's APPEND as ADDTO,
// until CANCELUPDATE.
func TestIMAPESortImaplib(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	for _, m := range sortThreadMail {
		e.run(m, "deliver", "alice").must(t, 0)
	}
	script := `
import imaplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
M = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx, timeout=20)
M.login("alice", "alice-pw")
caps = M.capability()[1][0].split()
assert b"ESORT" in caps and b"CONTEXT=SEARCH" in caps and b"CONTEXT=SORT" in caps, caps
M.select("INBOX", readonly=True)
typ, data = M._simple_command("SORT", "RETURN (ALL COUNT) (SUBJECT) UTF-8 ALL"); assert typ == "OK", data
es = M.untagged_responses.pop("ESEARCH"); assert len(es) == 1 and es[0].endswith(b"ALL 3,1:2,4 COUNT 4"), es
typ, data = M.uid("SORT", "RETURN (MIN MAX) (REVERSE DATE) UTF-8 ALL"); assert typ == "OK", data
es = M.untagged_responses.pop("ESEARCH"); assert len(es) == 1 and es[0].endswith(b"UID MIN 4 MAX 3"), es
typ, data = M._simple_command("SORT", "RETURN (PARTIAL 1:2) (SUBJECT) UTF-8 ALL"); assert typ == "OK", data
es = M.untagged_responses.pop("ESEARCH"); assert len(es) == 1 and es[0].endswith(b"PARTIAL (1:2 3,1)"), es
try:
    M._simple_command("SORT", "RETURN (BOGUS) (SUBJECT) UTF-8 ALL"); assert False
except imaplib.IMAP4.error as e:
    assert "BAD" in str(e) or "BOGUS" in str(e), e
# CONTEXT=SEARCH UPDATE (§4.3): another connection's APPEND comes as ADDTO.
typ, data = M.uid("SEARCH", "RETURN (UPDATE COUNT) UNSEEN"); assert typ == "OK", data
es = M.untagged_responses.pop("ESEARCH"); assert len(es) == 1 and es[0].endswith(b"UID COUNT 4"), es
tag = es[0].split(b'"')[1].decode()
B = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx, timeout=20)
B.login("alice", "alice-pw")
typ, data = B.append("INBOX", None, None, b"From: x@example.org\r\nSubject: zulu\r\n\r\nz\r\n"); assert typ == "OK", data
M.noop()
es = M.untagged_responses.pop("ESEARCH"); assert es == [('(TAG "%s") UID ADDTO (0 5)' % tag).encode()], es
imaplib.Commands["CANCELUPDATE"] = ("SELECTED",)  # imaplib does not know it
typ, data = M._simple_command("CANCELUPDATE", '"%s"' % tag); assert typ == "OK", data
B.append("INBOX", None, None, b"From: x@example.org\r\nSubject: yankee\r\n\r\ny\r\n")
M.noop()
assert "ESEARCH" not in M.untagged_responses, M.untagged_responses
B.logout()
M.logout()
print("ok")
`
	out := python(t, script, strconv.Itoa(p.secure), p.cafile)
	if !strings.Contains(out, "ok") {
		t.Fatalf("imaplib: %s", out)
	}
}
