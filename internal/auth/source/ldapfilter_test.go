package source

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestEscapeFilterValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"*)(uid=*", `\2a\29\28uid=\2a`},
		{"a\x00b", `a\00b`},
		{`back\slash`, `back\5cslash`},
		{"é", `\c3\a9`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := EscapeFilterValue(tt.in); got != tt.want {
			t.Errorf("EscapeFilterValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandFilter(t *testing.T) {
	v := loginVars("bob@example.org")
	got, err := expandFilter("(&(uid=%n)(dc=%d)(x=%u)(pct=100%%))", v)
	if want := "(&(uid=bob)(dc=example.org)(x=bob@example.org)(pct=100%))"; err != nil || got != want {
		t.Errorf("expandFilter = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"(uid=%x)", "(uid=%"} {
		if _, err := expandFilter(bad, v); err == nil {
			t.Errorf("expandFilter(%q) accepted", bad)
		}
	}
}

// FuzzExpandFilter: whatever the login, the expanded filter compiles and
// is still one equality assertion whose value is the login, byte for
// byte: no value can add a clause, a wildcard or end the filter.
func FuzzExpandFilter(f *testing.F) {
	for _, s := range []string{"alice", "*)(uid=*", "a\x00b", `\`, "x)(|(uid=*", "é@example.org", "(", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, login string) {
		s, err := expandFilter("(uid=%u)", loginVars(login))
		if err != nil {
			t.Fatal(err)
		}
		p, err := ldap.CompileFilter(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if p.Tag != ldap.FilterEqualityMatch || len(p.Children) != 2 {
			t.Fatalf("%q compiled to tag %d with %d children", s, p.Tag, len(p.Children))
		}
		if got := p.Children[1].Data.String(); got != login {
			t.Fatalf("%q: value %q, want %q", s, got, login)
		}
	})
}
