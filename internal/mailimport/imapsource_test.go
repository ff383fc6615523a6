package mailimport

import "testing"

func TestParseIMAPURL(t *testing.T) {
	good := map[string]IMAPURL{
		"imaps://alice@mail.example.org":      {Implicit: true, Addr: "mail.example.org:993", Host: "mail.example.org", User: "alice"},
		"imap://alice@mail.example.org:1143/": {Addr: "mail.example.org:1143", Host: "mail.example.org", User: "alice"},
		"imaps://a%40example.org@[::1]:10993": {Implicit: true, Addr: "[::1]:10993", Host: "::1", User: "a@example.org"},
	}
	for s, want := range good {
		got, err := ParseIMAPURL(s)
		if err != nil || got != want {
			t.Errorf("ParseIMAPURL(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{
		"imaps://mail.example.org",              // no user
		"imaps://alice:secret@mail.example.org", // a password on the command line
		"pop3://alice@mail.example.org",
		"imaps://alice@mail.example.org/INBOX",
		"imaps://alice@mail.example.org?x=1",
		"imaps://alice@",
	} {
		if _, err := ParseIMAPURL(s); err == nil {
			t.Errorf("ParseIMAPURL(%q) accepted", s)
		}
	}
}

func TestSourceName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delim rune
		want  string
	}{
		{"inbox", '.', "INBOX"},
		{"Archive.2020", '.', "Archive/2020"},
		{"a/b.c", '.', "a_b/c"},
		{"Lists/go", '/', "Lists/go"},
		{"Flat", 0, "Flat"},
	} {
		if got := sourceName(tc.name, tc.delim); got != tc.want {
			t.Errorf("sourceName(%q, %q) = %q, want %q", tc.name, tc.delim, got, tc.want)
		}
	}
}
