package imapserver

import (
	"testing"

	"github.com/postern/postern/internal/message"
)

// TestEnvelopeContains checks the envelope form of the BCC, CC, FROM, TO
// and SUBJECT keys: decoded display names and subject, case-insensitive
// substrings of the header-like rendering, groups, and the empty string.
func TestEnvelopeContains(t *testing.T) {
	env := &message.Envelope{
		Subject: "=?UTF-8?Q?Caf=C3=A9?= report",
		From:    []message.Address{{Name: "=?ISO-8859-1?Q?Andr=E9?=", Mailbox: "andre", Host: "example.org"}},
		To: []message.Address{
			{Mailbox: "team", Group: true}, {Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}, {Group: true},
			{Mailbox: "c", Host: "z.example"},
		},
	}
	cases := []struct {
		op, s string
		want  bool
	}{
		{"FROM", "andré", true},
		{"FROM", "ANDRÉ <andre@EXAMPLE", true},
		{"FROM", "andre@example.org", true},
		{"FROM", "bob", false},
		{"FROM", "", true},
		{"SUBJECT", "café REPORT", true},
		{"SUBJECT", "=?utf-8", false},
		{"SUBJECT", "", true},
		{"TO", "team: a@x.example, b@y.example;, c@z.example", true},
		{"TO", "b@y", true},
		{"CC", "", false},
		{"BCC", "a", false},
	}
	for _, tc := range cases {
		got, ok := envelopeContains(env, tc.op, tc.s)
		if !ok || got != tc.want {
			t.Errorf("%s %q: got %v (ok %v), want %v", tc.op, tc.s, got, ok, tc.want)
		}
	}
	if _, ok := envelopeContains(nil, "FROM", "x"); ok {
		t.Error("nil envelope: want the header fallback")
	}
}
