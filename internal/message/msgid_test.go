package message

import (
	"strings"
	"testing"
)

func TestMessageIDs(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"<a@b>", -1, "a@b"},
		{" <a@b> <c@d>\r\n\t<e@f>", -1, "a@b c@d e@f"},
		{"<a@b> <c@d>", 1, "a@b"},
		{"<no-at> <a@b>", -1, "a@b"},
		{"<a@b", -1, ""},
		{"<x <a@b>", -1, "a@b"},
		{"(comment) <a@b> (another)", -1, "a@b"},
		{"Your message of <a@b> \"x\"", 1, "a@b"},
		{"<a\r\n @b>", -1, "a@b"},
		{"<@b> <a@>", -1, ""},
		{"", -1, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(MessageIDs(tt.in, tt.max), " "); got != tt.want {
			t.Errorf("MessageIDs(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// FuzzMessageIDs: no panic; every id has an "@" inside, no white space
// and no angle bracket, and max bounds the count.
func FuzzMessageIDs(f *testing.F) {
	for _, s := range []string{"<a@b>", " <a@b> <c@d>\r\n\t<e@f>", "<x <a@b>", "<@b> <a@>", "(c) <a\r\n @b>"} {
		f.Add(s, -1)
	}
	f.Add("<a@b> <c@d>", 1)
	f.Fuzz(func(t *testing.T, s string, max int) {
		ids := MessageIDs(s, max)
		if max >= 0 && len(ids) > max {
			t.Fatalf("MessageIDs(%q, %d) = %d ids", s, max, len(ids))
		}
		for _, id := range ids {
			at := strings.LastIndexByte(id, '@')
			if at <= 0 || at == len(id)-1 || strings.ContainsAny(id, " \t\r\n<>") {
				t.Fatalf("MessageIDs(%q) gave %q", s, id)
			}
		}
	})
}
