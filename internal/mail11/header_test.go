package mail11

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

var arrival = time.Date(2001, 5, 30, 16, 19, 53, 0, time.FixedZone("", 3600))

// site is the configuration of the header examples: the manual's R2 host
// with a substitute domain.
var site = Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes}

func decnetEnvelope() *store.VMSEnvelope {
	return &store.VMSEnvelope{
		From:         "ORDERS::J_SMITH",
		PersonalName: "John Smith",
		To:           "BROWN, HOST12::JONES",
		CC:           `SMTP%"boss@federation.gov"`,
		Subject:      "Quarterly report",
		Date:         arrival,
	}
}

func TestPOPHeader(t *testing.T) {
	tests := []struct {
		name string
		env  *store.VMSEnvelope
		opts POPOptions
		want string
	}{
		{
			name: "DECnet sender, To and CC as stored",
			env:  decnetEnvelope(),
			opts: POPOptions{Options: site},
			want: "Date: Wed, 30 May 2001 16:19:53 +0100\r\n" +
				"From: j_smith@acme.widgets.com\r\n" +
				"To: BROWN, HOST12::JONES\r\n" +
				"CC: SMTP%\"boss@federation.gov\"\r\n" +
				"Subject: Quarterly report\r\n" +
				"X-VMS-From: ORDERS::J_SMITH \"John Smith\"\r\n" +
				"\r\n",
		},
		{
			name: "personal name and ID headers; Gateway-Node is ignored",
			env:  &store.VMSEnvelope{From: "HOST13::J_JONES", PersonalName: "Jones, J.", Date: arrival},
			opts: POPOptions{
				Options:       withGateway(withPersonal(site), widgets),
				SendIDHeaders: true, Server: "orders.acme.widgets.com Postern 1.0", ID: "17.1",
			},
			want: "Date: Wed, 30 May 2001 16:19:53 +0100\r\n" +
				"From: \"Jones, J.\" <\"HOST13::J_JONES\"@acme.widgets.com>\r\n" +
				"X-VMS-From: HOST13::J_JONES \"Jones, J.\"\r\n" +
				"X-POP3-Server: orders.acme.widgets.com Postern 1.0\r\n" +
				"X-POP3-ID: 17.1\r\n" +
				"\r\n",
		},
		{
			name: "empty fields and zero date are left out",
			env:  &store.VMSEnvelope{From: "SMITH"},
			opts: POPOptions{Options: site},
			want: "From: smith@acme.widgets.com\r\nX-VMS-From: SMITH\r\n\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(POPHeader(tc.env, tc.opts))
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			checkHeader(t, got)
		})
	}
}

func TestIMAPHeader(t *testing.T) {
	tests := []struct {
		name string
		env  *store.VMSEnvelope
		opts IMAPOptions
		want string
	}{
		{
			name: "DECnet sender, recipients rebuilt and routed",
			env:  decnetEnvelope(),
			opts: IMAPOptions{Options: site},
			want: "Date: Wed, 30 May 2001 16:19:53 +0100\r\n" +
				"From: j_smith@acme.widgets.com\r\n" +
				"To: brown@acme.widgets.com, jones@host12.acme.widgets.com\r\n" +
				"CC: boss@federation.gov\r\n" +
				"Subject: Quarterly report\r\n" +
				"X-VMS-From: ORDERS::J_SMITH \"John Smith\"\r\n" +
				"\r\n",
		},
		{
			name: "Gateway-Node, accented subject, ID headers",
			env: &store.VMSEnvelope{From: "ORDERS::J_SMITH", To: "BROWN", Subject: "Café crème",
				Date: arrival},
			opts: IMAPOptions{
				Options:       withGateway(Options{Hostname: orders, SubstituteDomain: acme}, widgets),
				SendIDHeaders: true, Server: "orders Postern 1.0", ID: "42",
			},
			want: "Date: Wed, 30 May 2001 16:19:53 +0100\r\n" +
				"From: \"ORDERS::J_SMITH\"@widgets.xyzcorp.com\r\n" +
				"To: \"ORDERS::BROWN\"@widgets.xyzcorp.com\r\n" +
				"Subject: =?utf-8?q?Caf=C3=A9_cr=C3=A8me?=\r\n" +
				"X-VMS-From: ORDERS::J_SMITH\r\n" +
				"X-IMAP4-Server: orders Postern 1.0\r\n" +
				"X-IMAP4-ID: 42\r\n" +
				"\r\n",
		},
		{
			name: "the manual's SMTP sender with cent signs",
			env:  &store.VMSEnvelope{From: `SMTP%"¢ABCMTS::MRGATE::\¢ABCDEF::VIVALDI \¢¢@xyz.org"`, Date: arrival},
			opts: IMAPOptions{Options: site},
			want: "Date: Wed, 30 May 2001 16:19:53 +0100\r\n" +
				"From: \"ABCMTS::MRGATE::\\\"ABCDEF::VIVALDI \\\"\"@xyz.org\r\n" +
				"X-VMS-From: =?utf-8?q?SMTP%\"=C2=A2ABCMTS::MRGATE::\\=C2=A2ABCDEF::VIVAL?=\r\n" +
				" =?utf-8?q?DI_\\=C2=A2=C2=A2@xyz.org\"?=\r\n" +
				"\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(IMAPHeader(tc.env, tc.opts))
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			checkHeader(t, got)
			hdr, _ := message.ReadHeader(strings.NewReader(got), 0)
			if v := message.DecodeHeaderText(hdr.Get("X-VMS-From")); v != vmsFromLine(tc.env) {
				t.Errorf("X-VMS-From decodes to %q", v)
			}
			if v := message.DecodeHeaderText(hdr.Get("Subject")); v != tc.env.Subject {
				t.Errorf("Subject decodes to %q", v)
			}
		})
	}
}

func withPersonal(o Options) Options { o.PersonalName = true; return o }

func withGateway(o Options, gw string) Options { o.GatewayNode = gw; return o }

// checkHeader checks the form of a header block: CRLF lines, no bare CR or
// LF, lines within 998 octets, continuation lines that are not blank, one
// blank line at the end, and that message.ReadHeader reads it whole.
func checkHeader(t *testing.T, h string) {
	t.Helper()
	if !strings.HasSuffix(h, "\r\n\r\n") && h != "\r\n" {
		t.Fatalf("header does not end with a blank line: %q", h)
	}
	body := strings.TrimSuffix(h, "\r\n")
	lines := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i, l)
		}
		if len(l) > maxLineLen {
			t.Errorf("line %d has %d octets", i, len(l))
		}
		if h != "\r\n" && strings.TrimSpace(l) == "" {
			t.Errorf("line %d is blank inside the header: %q", i, h)
		}
		if i == 0 && (l == "" || l[0] == ' ') {
			t.Errorf("first line is a continuation: %q", l)
		}
		if l != "" && l[0] != ' ' && !strings.Contains(l, ": ") {
			t.Errorf("line %d is neither a field nor a continuation: %q", i, l)
		}
	}
	hdr, err := message.ReadHeader(strings.NewReader(h+"body\r\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, f := range hdr {
		if f.Name == "" {
			t.Errorf("malformed field %q", f.Raw)
		}
		raw = append(raw, f.Raw...)
	}
	if string(raw)+"\r\n" != h {
		t.Errorf("ReadHeader does not give the block back:\n%q\n%q", raw, h)
	}
}

// TestHeaderInjection puts CR, LF and other control characters in every
// stored field: none may start a line of its own.
func TestHeaderInjection(t *testing.T) {
	evil := "x\r\nBcc: victim@example.org\r\n\r\nbody\nX-Evil: 1\rY\x00\x1b[31m"
	env := &store.VMSEnvelope{
		From: "SMTP%\"a@b.example\"\r\nBcc: victim@example.org", PersonalName: evil,
		To: evil, CC: evil, Subject: evil, Date: arrival,
	}
	pop := POPOptions{Options: withPersonal(site), SendIDHeaders: true, Server: evil, ID: evil}
	imap := IMAPOptions{Options: withPersonal(site), SendIDHeaders: true, Server: evil, ID: evil}
	for name, h := range map[string][]byte{"POP": POPHeader(env, pop), "IMAP": IMAPHeader(env, imap)} {
		t.Run(name, func(t *testing.T) {
			checkHeader(t, string(h))
			hdr, _ := message.ReadHeader(bytes.NewReader(h), 0)
			for _, f := range hdr {
				switch strings.ToLower(f.Name) {
				case "bcc", "x-evil":
					t.Errorf("injected field %q", f.Raw)
				}
			}
			if bytes.ContainsAny(h, "\x00\x1b") {
				t.Errorf("control characters in %q", h)
			}
		})
	}
}

func TestEncodeText(t *testing.T) {
	dec := func(s string) string { return message.DecodeHeaderText(s) }
	tests := []struct {
		in, want string
	}{
		{"plain ASCII", "plain ASCII"},
		{"Café crème brûlée ok", "=?utf-8?q?Caf=C3=A9_cr=C3=A8me_br=C3=BBl=C3=A9e?= ok"},
		{"a é  é b", "a =?utf-8?q?=C3=A9__=C3=A9?= b"},
		{"ééé", "=?utf-8?b?w6nDqcOp?="},
		{"looks =?utf-8?q?x?= encoded", "looks =?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3F=3D?= encoded"},
		{"tab\there", "tab here"},
	}
	for _, tc := range tests {
		got := encodeText(tc.in)
		if got != tc.want {
			t.Errorf("encodeText(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
		if d := dec(got); d != clean(tc.in) {
			t.Errorf("decodes to %q, want %q", d, clean(tc.in))
		}
	}
}

// TestFolding checks long values: folded at white space within 78
// characters, unfolding gives the value back, and the decoded subject is
// the stored one.
func TestFolding(t *testing.T) {
	long := strings.Repeat("Quarterly report on widgets, ", 10) + "end"
	accented := strings.Repeat("Élève à l'école ", 12) + "fin"
	word := strings.Repeat("w", 2500)
	many := make([]string, 40)
	for i := range many {
		many[i] = "USER" + strings.Repeat("X", i%7)
	}
	env := &store.VMSEnvelope{From: "SMITH", To: strings.Join(many, ","), Subject: long, Date: arrival}
	for _, subj := range []string{long, accented, word, "a" + strings.Repeat(" ", 200) + "b"} {
		env.Subject = subj
		h := string(IMAPHeader(env, IMAPOptions{Options: site}))
		checkHeader(t, h)
		for _, l := range strings.Split(h, "\r\n") {
			if len(l) > foldWidth && strings.Contains(strings.TrimLeft(l, " "), " ") {
				t.Errorf("line of %d could have been folded: %q", len(l), l)
			}
		}
		hdr, _ := message.ReadHeader(strings.NewReader(h), 0)
		if got := message.DecodeHeaderText(hdr.Get("Subject")); got != subj {
			t.Errorf("subject round trip:\n got %q\nwant %q", got, subj)
		}
		if got := hdr.Get("To"); strings.Count(got, "@") != len(many) || strings.Contains(got, "\r") {
			t.Errorf("To %q", got)
		}
	}
}

func TestFoldForced(t *testing.T) {
	// A structured value with no white space at all: broken by force.
	v := strings.Repeat("é", 1000)
	b := fold(nil, "To: "+v, 4)
	checkHeader(t, string(b)+"\r\n")
	if got := strings.ReplaceAll(string(b), "\r\n ", ""); got != "To: "+v+"\r\n" {
		t.Errorf("forced break lost text")
	}
}

// TestFoldLongSpaceRun: a run of spaces longer than a line (FuzzRewrite's
// find) becomes one space; no line is white space only.
func TestFoldLongSpaceRun(t *testing.T) {
	b := fold(nil, "CC: a"+strings.Repeat(" ", 2000)+"b", 4)
	checkHeader(t, string(b)+"\r\n")
	if got := string(b); got != "CC: a\r\n b\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestDateLayout(t *testing.T) {
	d := time.Date(2024, 1, 5, 9, 3, 7, 0, time.FixedZone("", -5*3600-30*60))
	if got := d.Format(dateLayout); got != "Fri, 05 Jan 2024 09:03:07 -0530" {
		t.Errorf("got %q", got)
	}
}
