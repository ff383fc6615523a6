package imapserver

import (
	"fmt"
	"strings"
	"testing"
)

// TestHeaderOverOneMiB is issue 12 finding 8: HEADER.FIELDS and SEARCH
// HEADER looked only at the first 1 MiB of a header, silently: a field
// after it was neither fetched nor found. Both now read the whole header
// (bounded by the message size limit).
func TestHeaderOverOneMiB(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	var b strings.Builder
	b.WriteString("From: bob@example.org\r\nSubject: big header\r\n")
	for i := 0; b.Len() < 3<<19; i++ { // 1.5 MiB of fields
		fmt.Fprintf(&b, "X-Filler-%d: %s\r\n", i, strings.Repeat("f", 200))
	}
	b.WriteString("X-Target: the needle\r\n\r\nbody\r\n")
	if err := f.deliver("alice", "INBOX", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, f.start())
	c.send("a1 LOGIN alice pw")
	c.expect("a1 OK")
	c.send("a2 SELECT INBOX")
	c.expect("a2 OK")
	c.send("a3 FETCH 1 BODY.PEEK[HEADER.FIELDS (X-Target)]")
	if l := c.expect("* 1 FETCH"); !strings.HasPrefix(l, "* 1 FETCH (BODY[HEADER.FIELDS (X-Target)] {24}") {
		t.Fatalf("got %q", l)
	}
	if l := c.expect("X-Target"); l != "X-Target: the needle\r\n" {
		t.Errorf("fetched %q", l)
	}
	c.expect("a3 OK")
	c.send("a4 SEARCH HEADER X-Target needle")
	if l := c.expect("* SEARCH"); strings.TrimSpace(l) != "* SEARCH 1" {
		t.Errorf("SEARCH HEADER past 1 MiB: %q, want * SEARCH 1", l)
	}
	c.expect("a4 OK")
}
