package imapserver

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// TestForeignView: a foreign message imported from VMS MAIL (binary body,
// no header of its own) is served as one part whose Content-Type the
// magic table gives its first octets (site records first), base64-encoded;
// BODY[], BODY[HEADER], BODY[TEXT], partial fetches, RFC822.SIZE,
// BODYSTRUCTURE and BINARY[1] (the decoded octets) all agree. A text
// message is not touched.
func TestForeignView(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	f.opts.Mail11 = &mail11.Options{Hostname: testHost}
	site, err := mail11.ParseMagic(strings.NewReader("0 string %PDF-1.0 application/x-old-pdf\n"), "site")
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Magic = site.Then(mail11.DefaultMagic())
	var raw bytes.Buffer
	raw.WriteString("%PDF-1.4\r\n")
	for i := range 300 {
		b := byte(i * 7) // NUL included: the store marks it foreign
		if b == '\r' || b == '\n' {
			b = 'x' // the store makes bare CR and LF CRLF
		}
		raw.WriteByte(b)
	}
	env := func(subj string) *store.VMSEnvelope {
		return &store.VMSEnvelope{From: "NODE::SMITH", To: "ALICE", Subject: subj, Date: testTime}
	}
	f.deliverVMS("alice", "\r\n"+raw.String(), env("report"))
	f.deliverVMS("alice", "\r\n%PDF-1.0\r\n\x00", env("old report"))
	f.deliverVMS("alice", "\r\nplain text\r\n", env("note"))
	c := dialClient(t, f.start())
	all := &imap.FetchItemBodySection{Peek: true}
	hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
	text := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierText}
	partial := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierText, Partial: &imap.SectionPartial{Offset: 70, Size: 100}}
	bin := &imap.FetchItemBinarySection{Peek: true, Part: []int{1}}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{
		RFC822Size: true, Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{all, hdr, text, partial},
		BinarySection: []*imap.FetchItemBinarySection{bin},
	}).Collect()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("fetch: %v", err)
	}
	for i, want := range []struct {
		typ, sub string
		body     []byte
	}{{"application", "pdf", raw.Bytes()}, {"application", "x-old-pdf", []byte("%PDF-1.0\r\n\x00")}} {
		m := msgs[i]
		body, h, txt := m.FindBodySection(all), m.FindBodySection(hdr), m.FindBodySection(text)
		if int64(len(body)) != m.RFC822Size || !bytes.Equal(body, append(append([]byte{}, h...), txt...)) {
			t.Errorf("message %d: BODY[] %d octets, RFC822.SIZE %d, HEADER+TEXT %d", i+1, len(body), m.RFC822Size, len(h)+len(txt))
		}
		ct := "Content-Type: " + want.typ + "/" + want.sub + "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\n"
		if !bytes.HasPrefix(h, []byte("Date: ")) || !bytes.Contains(h, []byte("MIME-Version: 1.0\r\n"+ct)) {
			t.Errorf("message %d: header\n%s", i+1, h)
		}
		dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(txt), "\r\n", ""))
		if err != nil || !bytes.Equal(dec, want.body) {
			t.Errorf("message %d: BODY[TEXT] decodes to %q (%v), want %q", i+1, dec, err, want.body)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(txt), "\r\n"), "\r\n") {
			if len(line) > 76 {
				t.Errorf("message %d: base64 line of %d characters", i+1, len(line))
			}
		}
		if got := m.FindBinarySection(bin); !bytes.Equal(got, want.body) {
			t.Errorf("message %d: BINARY[1] %q, want %q", i+1, got, want.body)
		}
		if p := m.FindBodySection(partial); !bytes.Equal(p, txt[min(70, len(txt)):min(170, len(txt))]) {
			t.Errorf("message %d: BODY[TEXT]<70.100> %q, want %q", i+1, p, txt[min(70, len(txt)):min(170, len(txt))])
		}
		sp, ok := m.BodyStructure.(*imap.BodyStructureSinglePart)
		if !ok || sp.Type != want.typ || sp.Subtype != want.sub || !strings.EqualFold(sp.Encoding, "base64") || sp.Size != uint32(len(txt)) {
			t.Errorf("message %d: BODYSTRUCTURE %#v", i+1, m.BodyStructure)
		}
		if m.Envelope == nil || m.Envelope.Subject != []string{"report", "old report"}[i] {
			t.Errorf("message %d: ENVELOPE %#v", i+1, m.Envelope)
		}
	}
	if h := msgs[2].FindBodySection(hdr); bytes.Contains(h, []byte("Content-Type")) || string(msgs[2].FindBodySection(text)) != "plain text\r\n" {
		t.Errorf("the text message was changed: %q", msgs[2].FindBodySection(all))
	}
}
