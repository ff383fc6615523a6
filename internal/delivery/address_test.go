package delivery

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAddress(t *testing.T) {
	good := func(in, local, domain string) {
		t.Helper()
		a, err := ParseAddress(in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", in, err)
			return
		}
		if a.Local != local || a.Domain != domain {
			t.Errorf("ParseAddress(%q) = %q @ %q, want %q @ %q", in, a.Local, a.Domain, local, domain)
		}
	}
	bad := func(in string) {
		t.Helper()
		if a, err := ParseAddress(in); err == nil {
			t.Errorf("ParseAddress(%q) = %+v, want error", in, a)
		}
	}
	good("alice@example.org", "alice", "example.org")
	good("Alice@EXAMPLE.Org", "Alice", "example.org")
	good("a.b+tag@sub.example.org", "a.b+tag", "sub.example.org")
	good("\"quoted@local\"@example.org", "\"quoted@local\"", "example.org")
	good("user@[192.0.2.1]", "user", "[192.0.2.1]")
	good("用户@例子.广告", "用户", "例子.广告")
	good("postmaster", "postmaster", "")
	good("PostMaster", "PostMaster", "")
	bad("")
	bad("alice")
	bad("@example.org")
	bad("alice@")
	bad("alice@-bad.example")
	bad("alice@bad..example")
	bad("alice@bad_host.example")
	bad("ali\x01ce@example.org")
	bad(strings.Repeat("a", 65) + "@example.org")
	bad("alice@" + strings.Repeat("a.", 128) + "org")
	bad("alice@[unclosed")
	bad("\xff@example.org")
}

func TestAddressBase(t *testing.T) {
	for in, want := range map[string]string{
		"Alice+Tag@x.org": "alice", "bob@x.org": "bob", "+tag@x.org": "+tag", "a+b+c@x.org": "a",
	} {
		a, err := ParseAddress(in)
		if err != nil {
			t.Fatal(err)
		}
		if a.Base() != want {
			t.Errorf("%q.Base() = %q, want %q", in, a.Base(), want)
		}
	}
}

// FuzzParseAddress checks that a parsed address round-trips, has a
// lower-case domain and respects the size limits.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"alice@example.org", "postmaster", "a+b@[1.2.3.4]", "用户@例子.广告", "@", "a@b@c", "\"x y\"@z.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(a.Local) || len(a.Local) == 0 || len(a.Local) > maxLocalPart || len(a.Domain) > maxDomain {
			t.Fatalf("bad parts %+v", a)
		}
		if a.Domain != strings.ToLower(a.Domain) {
			t.Fatalf("domain not lower-cased: %q", a.Domain)
		}
		b, err := ParseAddress(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip %q → %+v → %+v, %v", s, a, b, err)
		}
		if a.Base() == "" {
			t.Fatalf("empty base for %q", s)
		}
	})
}
