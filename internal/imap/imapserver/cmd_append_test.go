package imapserver

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAppendSpoolFailure: when the server cannot spool an APPEND literal
// too large for memory (its temporary directory is gone: a full or broken
// disk), it reads the rest of the literal, answers NO [SERVERBUG] and the
// session goes on (issue 12, item 5); before, the file error was taken for
// a broken connection and the client got no answer at all.
func TestAppendSpoolFailure(t *testing.T) {
	fx := newFixture(t)
	if err := fx.addUser("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	fx.opts.TempDir = filepath.Join(t.TempDir(), "gone")
	addr := fx.start()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(nc)
	body := "Subject: big\r\n\r\n" + strings.Repeat("x", maxMemoryLiteral) + "\r\n"
	// The second literal's data holds a command: it must stay data.
	go nc.Write([]byte("a1 LOGIN alice secret\r\na2 APPEND INBOX {" + itoa(len(body)) + "+}\r\n" + body +
		" {11+}\r\nx1 LOGOUT\r\n\r\na3 NOOP\r\n"))
	var got []string
	for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "a3 ") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, strings.TrimSuffix(line, "\r\n"))
	}
	want := []string{"a2 NO [SERVERBUG] Internal error; the incident was logged", "a3 OK NOOP completed"}
	if tail := got[len(got)-2:]; tail[0] != want[0] || tail[1] != want[1] {
		t.Errorf("got %q, want it to end with %q", got, want)
	}
}

// TestStorageErrorCodes: storage failures are answered with the response
// code that fits (RFC 5530 §3), never taken for a broken connection.
func TestStorageErrorCodes(t *testing.T) {
	for errno, code := range map[syscall.Errno]string{syscall.ENOSPC: "LIMIT", syscall.EDQUOT: "OVERQUOTA", syscall.EIO: "SERVERBUG"} {
		err := &net.OpError{Op: "read", Err: errno} // the connection's own: I/O
		if cls, _, _ := classify(err); cls != classIO {
			t.Errorf("%v from the connection: class %v, want I/O", errno, cls)
		}
		ferr := wrapPath(errno)
		if cls, c, _ := classify(ferr); cls != classInternal || c != code {
			t.Errorf("%v from a file: class %v code %q, want internal %q", errno, cls, c, code)
		}
	}
}
