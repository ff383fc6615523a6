package imapserver

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// nestedMessage has a multipart/alternative inside a multipart/mixed, and
// a message/rfc822 attachment with its own multipart body.
const nestedMessage = "From: \"Bob Smith\" <bob@example.org>\r\n" +
	"To: team: alice@example.org, carol@example.org;\r\n" +
	"Subject: =?UTF-8?Q?r=C3=A9sum=C3=A9?=\r\n" +
	"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=alt\r\n" +
	"\r\n" +
	"--alt\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"plain body\r\n" +
	"line two\r\n" +
	"--alt\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<p>caf=C3=A9</p>\r\n" +
	"--alt--\r\n" +
	"--outer\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"Content-Disposition: attachment; filename=\"fwd.eml\"\r\n" +
	"\r\n" +
	"From: carol@example.org\r\n" +
	"Subject: inner\r\n" +
	"Content-Type: multipart/mixed; boundary=in\r\n" +
	"\r\n" +
	"--in\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"inner text\r\n" +
	"--in--\r\n" +
	"--outer--\r\n"

// dialClient logs in with the go-imap v2 client, an implementation nobody
// here wrote, and selects INBOX.
func dialClient(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFetchBodyStructureSemantic compares the parsed BODYSTRUCTURE,
// ENVELOPE and sections of a nested message (STYLE.md B10 level 3).
func TestFetchBodyStructureSemantic(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	if err := f.deliver("alice", "INBOX", []byte(nestedMessage)); err != nil {
		t.Fatal(err)
	}
	c := dialClient(t, f.start())
	sec := func(part ...int) *imap.FetchItemBodySection {
		return &imap.FetchItemBodySection{Peek: true, Part: part}
	}
	hdr := &imap.FetchItemBodySection{Peek: true, Part: []int{2}, Specifier: imap.PartSpecifierHeader}
	bin := &imap.FetchItemBinarySection{Peek: true, Part: []int{1, 2}}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}, RFC822Size: true,
		BodySection:       []*imap.FetchItemBodySection{sec(1, 1), sec(1, 2), sec(2, 1), hdr},
		BinarySection:     []*imap.FetchItemBinarySection{bin},
		BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{1, 2}}},
	}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	m := msgs[0]
	if m.RFC822Size != int64(len(nestedMessage)) {
		t.Errorf("RFC822.SIZE %d, want %d", m.RFC822Size, len(nestedMessage))
	}
	env := m.Envelope
	if env.Subject != "résumé" || len(env.From) != 1 || env.From[0].Name != "Bob Smith" || env.From[0].Host != "example.org" {
		t.Errorf("envelope: %+v", env)
	}
	var to []string
	for _, a := range env.To {
		to = append(to, a.Addr())
	}
	if !slices.Contains(to, "alice@example.org") || !slices.Contains(to, "carol@example.org") {
		t.Errorf("To with group syntax: %+v", env.To)
	}
	mixed, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || mixed.Subtype != "mixed" || len(mixed.Children) != 2 {
		t.Fatalf("top: %#v", m.BodyStructure)
	}
	alt, ok := mixed.Children[0].(*imap.BodyStructureMultiPart)
	if !ok || alt.Subtype != "alternative" || len(alt.Children) != 2 {
		t.Fatalf("part 1: %#v", mixed.Children[0])
	}
	plain := alt.Children[0].(*imap.BodyStructureSinglePart)
	if plain.Type != "text" || plain.Subtype != "plain" || plain.Params["charset"] != "utf-8" || plain.Size != 20 || plain.Text.NumLines != 1 {
		t.Errorf("part 1.1: %+v %+v", plain, plain.Text)
	}
	html := alt.Children[1].(*imap.BodyStructureSinglePart)
	if !strings.EqualFold(html.Encoding, "quoted-printable") {
		t.Errorf("part 1.2 encoding %q", html.Encoding)
	}
	att := mixed.Children[1].(*imap.BodyStructureSinglePart)
	if att.Type != "message" || att.MessageRFC822 == nil || att.MessageRFC822.Envelope.Subject != "inner" {
		t.Fatalf("part 2: %+v", att)
	}
	if d := att.Extended; d == nil || d.Disposition == nil || d.Disposition.Value != "attachment" || d.Disposition.Params["filename"] != "fwd.eml" {
		t.Errorf("part 2 disposition: %+v", att.Extended)
	}
	if got := string(m.FindBodySection(sec(1, 1))); got != "plain body\r\nline two" {
		t.Errorf("BODY[1.1] = %q", got)
	}
	if got := string(m.FindBodySection(sec(2, 1))); got != "inner text" {
		t.Errorf("BODY[2.1] = %q", got)
	}
	if got := string(m.FindBodySection(hdr)); !strings.HasPrefix(got, "From: carol@example.org\r\n") || !strings.HasSuffix(got, "\r\n\r\n") {
		t.Errorf("BODY[2.HEADER] = %q", got)
	}
	if got := string(m.FindBinarySection(bin)); got != "<p>café</p>" {
		t.Errorf("BINARY[1.2] = %q", got)
	}
	if got, ok := m.FindBinarySectionSize([]int{1, 2}); !ok || got != uint32(len("<p>café</p>")) {
		t.Errorf("BINARY.SIZE[1.2] = %d, %v", got, ok)
	}
}
