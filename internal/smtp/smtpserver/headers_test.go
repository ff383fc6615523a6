package smtpserver

import (
	"bytes"
	"strings"
	"testing"
)

func TestHeaderFields(t *testing.T) {
	msg := "A: 1\r\nAuthentication-Results: x;\r\n\tspf=pass\r\nB : 2\r\n\r\nbody: no\r\n"
	got := headerFields([]byte(msg), true)
	if len(got) != 3 || got[1].name != "Authentication-Results" || string(got[1].value) != " x;\r\n\tspf=pass" || got[2].name != "B" {
		t.Fatalf("fields %+v", got)
	}
	if msg[got[1].start:got[1].end] != "Authentication-Results: x;\r\n\tspf=pass\r\n" {
		t.Errorf("span %q", msg[got[1].start:got[1].end])
	}
	// A truncated head stops before a field that may continue.
	if got := headerFields([]byte("A: 1\r\nB: 2\r\n"), false); len(got) != 1 {
		t.Errorf("truncated head: %+v", got)
	}
	if got := headerFields([]byte("A: 1\r\nB: 2\r\n"), true); len(got) != 2 {
		t.Errorf("whole message of header only: %+v", got)
	}
	for _, bad := range []string{"no colon\r\nA: 1\r\n\r\n", " lead: x\r\n\r\n", ": x\r\n\r\n"} {
		if got := headerFields([]byte(bad), true); len(got) != 0 {
			t.Errorf("%q: %+v", bad, got)
		}
	}
}

// TestInspectDrop: fields the Inspector drops are absent from what is
// delivered; the rest of the message is byte for byte as sent.
func TestInspectDrop(t *testing.T) {
	msg := &message{sp: newSpool(t.TempDir()), prepend: "X-Top: 1\r\n"}
	sent := "Authentication-Results: us; spf=pass\r\nFrom: a@b\r\nAuthentication-Results: them;\r\n dkim=pass\r\n" +
		"Authentication-Results: us;\r\n\tdmarc=pass\r\n\r\nAuthentication-Results: us; body\r\n"
	msg.sp.Write([]byte(sent))
	for _, f := range headerFields(msg.sp.Head(), true) {
		if strings.EqualFold(f.name, "Authentication-Results") && bytes.HasPrefix(bytes.TrimSpace(f.value), []byte("us;")) {
			msg.drop = append(msg.drop, span{f.start, f.end})
		}
	}
	var b bytes.Buffer
	b.ReadFrom(msg.content())
	want := "X-Top: 1\r\nFrom: a@b\r\nAuthentication-Results: them;\r\n dkim=pass\r\n\r\nAuthentication-Results: us; body\r\n"
	if b.String() != want {
		t.Errorf("delivered %q\nwant      %q", b.String(), want)
	}
}

func FuzzHeaderFields(f *testing.F) {
	for _, s := range []string{"A: 1\r\nB: 2\r\n\r\nbody", "A: 1\r\n x\r\n", "A\r\n", "\r\n", ": \r\n\r\n", "A: \r\n\t\r\n\r\n"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, head []byte, complete bool) {
		prev := 0
		for _, fd := range headerFields(head, complete) {
			if fd.start != prev || fd.end <= fd.start || fd.end > len(head) {
				t.Fatalf("span [%d,%d) after %d in %d octets", fd.start, fd.end, prev, len(head))
			}
			if !bytes.HasPrefix(head[fd.start:], []byte(fd.name)) {
				t.Fatalf("name %q not at the field's start", fd.name)
			}
			prev = fd.end
		}
	})
}
