package imapwire

import (
	"reflect"
	"testing"
)

func TestParseIMAPURL(t *testing.T) {
	good := []struct {
		in   string
		want IMAPURL
	}{
		// RFC 4469 appendix A.
		{"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER",
			IMAPURL{Mailbox: "Drafts", UIDValidity: 385759045, UID: 20, Section: &Section{Specifier: SectionHeader}}},
		{"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME",
			IMAPURL{Mailbox: "Drafts", UIDValidity: 385759045, UID: 20, Section: &Section{Part: []uint32{1}, Specifier: SectionMIME}}},
		{"/INBOX;UIDVALIDITY=785799047/;UID=11467", IMAPURL{Mailbox: "INBOX", UIDValidity: 785799047, UID: 11467}},
		{"/INBOX;UIDVALIDITY=785799047/;UID=113330/;section=1.5.9",
			IMAPURL{Mailbox: "INBOX", UIDValidity: 785799047, UID: 113330, Section: &Section{Part: []uint32{1, 5, 9}}}},
		// RFC 8508 §4.2.
		{"/Drafts/;UID=3002", IMAPURL{Mailbox: "Drafts", UID: 3002}},
		// RFC 5092 §6: %-encoding, partial, relative to the selected mailbox.
		{"/a%20b/c;uidvalidity=1/;uid=2/;SECTION=HEADER.FIELDS%20(FROM%20TO)/;PARTIAL=0.10",
			IMAPURL{Mailbox: "a b/c", UIDValidity: 1, UID: 2, Section: &Section{Specifier: SectionHeaderFields, Fields: []string{"FROM", "TO"}},
				Partial: &Partial{Offset: 0, Count: 10}}},
		{";UID=7/;PARTIAL=5", IMAPURL{UID: 7, Partial: &Partial{Offset: 5}}},
		{";UID=7/;SECTION=TEXT", IMAPURL{UID: 7, Section: &Section{Specifier: SectionText}}},
	}
	for _, tt := range good {
		got, err := ParseIMAPURL(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\ngot  %#v\nwant %#v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{
		"", "/", "INBOX", "/INBOX", "/INBOX/;UID=0", "/INBOX/;UID=x", "/INBOX/;UID=4294967296", "/;UID=1",
		"imap://bob@example.org/INBOX/;UID=1", "//example.org/INBOX/;UID=1", "http://x/INBOX/;UID=1",
		"/INBOX;UIDVALIDITY=0/;UID=1", "/INBOX/;UID=1/;SECTION=", "/INBOX/;UID=1/;SECTION=BOGUS",
		"/INBOX/;UID=1/;SECTION=1]", "/INBOX/;UID=1/;PARTIAL=1.0", "/INBOX/;UID=1/;PARTIAL=1/;SECTION=1",
		"/INBOX/;UID=1/;URLAUTH=anonymous", "/INBOX/;UID=1;URLAUTH=submit+bob:internal:x", "/IN%ZZBOX/;UID=1",
		"/IN%0ABOX/;UID=1", "/INBOX?ALL", ";UID=1/;UID=2", ";SECTION=1",
	} {
		if u, err := ParseIMAPURL(in); err == nil {
			t.Errorf("%q parsed: %#v", in, u)
		}
	}
}

func TestURLRespText(t *testing.T) {
	for in, want := range map[string]string{
		"/INBOX/;UID=1": "/INBOX/;UID=1",
		"/a]b\r\n":      "/a%5Db%0D%0A",
		"/\xc3\xa9":     "/%C3%A9",
		"":              `""`,
	} {
		if got := URLRespText(in); got != want {
			t.Errorf("URLRespText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzIMAPURL(f *testing.F) {
	for _, s := range []string{
		"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME", ";UID=7/;PARTIAL=5.3",
		"/a%20b;uidvalidity=1/;uid=2/;SECTION=HEADER.FIELDS%20(FROM)", "imap://x/INBOX/;UID=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseIMAPURL(s)
		if err == nil && u.UID == 0 {
			t.Fatalf("%q: accepted without a UID", s)
		}
		URLRespText(s)
	})
}
