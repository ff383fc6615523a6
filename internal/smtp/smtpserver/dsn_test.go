package smtpserver

import (
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestSubmissionDSN: go-smtp's client sends RET, ENVID, NOTIFY and ORCPT
// (RFC 3461) to submission, which advertises DSN; the queue gets them
// decoded, per recipient.
func TestSubmissionDSN(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode submission\nuser alice secret\nremote 192.0.2.9"))
	c := e.smtpClient(t)
	if ok, _ := c.Extension("DSN"); !ok {
		t.Fatal("DSN not advertised")
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "secret")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@example.org", &smtp.MailOptions{Return: smtp.DSNReturnFull, EnvelopeID: "id+1=x"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("friend@remote.example", &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifySuccess, smtp.DSNNotifyFailure},
		OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "Friend@remote.example"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("other@remote.example", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: alice@example.org\r\nSubject: dsn\r\n\r\nhi\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	q := e.queue.all()
	if len(q) != 1 {
		t.Fatalf("queued %+v", q)
	}
	if q[0].dsn != (DSNRequest{Ret: "FULL", EnvID: "id+1=x"}) {
		t.Errorf("DSN request %+v", q[0].dsn)
	}
	want := []DSNRecipient{{Addr: "friend@remote.example", Notify: []string{"SUCCESS", "FAILURE"}, ORcpt: "rfc822;Friend@remote.example"},
		{Addr: "other@remote.example"}}
	if !reflect.DeepEqual(q[0].rcpts, want) {
		t.Errorf("recipients %+v, want %+v", q[0].rcpts, want)
	}
}

// TestDSNRefusals: bad DSN parameters get 501, and inbound SMTP, which
// does not offer DSN, 555.
func TestDSNRefusals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode submission\nuser alice secret"))
	c := e.dial()
	c.expect("220 *")
	c.send("EHLO client")
	c.reply()
	c.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
	c.expect("235 *")
	for _, bad := range []string{"RET=ALL", "ENVID=a=b", "ENVID=" + strings.Repeat("x", 101), "RET=FULL RET=HDRS", "ENVID=+4"} {
		c.send("MAIL FROM:<alice@example.org> " + bad)
		c.expect("501 5.5.4 *")
	}
	c.send("MAIL FROM:<alice@example.org>")
	c.expect("250 *")
	for _, bad := range []string{"NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,SUCCESS", "NOTIFY=SOMETIMES", "ORCPT=rfc822", "ORCPT=;a@b", "ORCPT=rfc822;a+4x", "NOTIFY=DELAY NOTIFY=DELAY"} {
		c.send("RCPT TO:<friend@remote.example> " + bad)
		c.expect("501 5.5.4 *")
	}
	in := newTestEnv(t, parseSetup(t, "mode smtp\nuser alice pw"))
	ic := in.dial()
	ic.expect("220 *")
	ic.send("EHLO client")
	if ext := strings.Join(ic.reply(), "\n"); strings.Contains(ext, "DSN") {
		t.Errorf("inbound offers DSN:\n%s", ext)
	}
	ic.send("MAIL FROM:<x@example.net> RET=FULL")
	ic.expect("555 5.5.4 *")
	ic.send("MAIL FROM:<x@example.net>")
	ic.expect("250 *")
	ic.send("RCPT TO:<alice@example.org> NOTIFY=NEVER")
	ic.expect("555 5.5.4 *")
}

func TestDecodeXtext(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "a+2Bb": "a+b", "+3D": "=", "x+40y.z": "x@y.z"} {
		if got, err := decodeXtext(in); err != nil || got != want {
			t.Errorf("decodeXtext(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"a=b", "+", "+4", "+4g", "+2b", "a b", "\x80"} {
		if _, err := decodeXtext(bad); err == nil {
			t.Errorf("decodeXtext(%q) accepted", bad)
		}
	}
}

func FuzzDSNParams(f *testing.F) {
	for _, s := range []string{"rfc822;a+40b", "SUCCESS,FAILURE", "NEVER", "x+2B", "utf-8;\\x{40}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := decodeXtext(s); err == nil && len(d) > len(s) {
			t.Fatal("decoded longer than encoded")
		}
		if n, err := parseNotify(s); err == nil && (len(n) == 0 || len(n) > 3) {
			t.Fatalf("NOTIFY %q gave %v", s, n)
		}
		if typ, _, err := parseORcpt(s); err == nil && typ == "" {
			t.Fatal("ORCPT without a type")
		}
	})
}
