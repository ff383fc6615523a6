package search

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestIndexFormSubstring checks the claim of index.go: for every accepted
// needle, a substring of the octets is a substring of the index forms,
// and the other way round, over texts with invalid UTF-8, NUL and
// private-use characters.
func TestIndexFormSubstring(t *testing.T) {
	texts := []string{"caf\xe9 \xc3\xa9t\xc3\xa9", "a\x00bc\x00", "\xc3", "x\xf0\x9f\x98", "\U0010FF80\x80z", "plain text", "\xe9\xe9\xe9abc"}
	needles := []string{"caf", "été", "\x00bc", "bc\x00", "abc", "\xe9abc", "é\xe9", "ain", "\U0010FF80\x80", "xyz", "t\xc3"}
	for _, text := range texts {
		form := IndexText([]byte(text))
		if !utf8.ValidString(form) || strings.ContainsRune(form, 0) {
			t.Errorf("IndexText(%q) = %q: not valid UTF-8 without NUL", text, form)
		}
		for _, n := range needles {
			if !IndexNeedle(n) {
				continue
			}
			if got, want := strings.Contains(form, n), strings.Contains(text, n); got != want {
				t.Errorf("needle %q in %q: index form says %v, octets %v", n, text, got, want)
			}
		}
	}
	for n, want := range map[string]bool{"ab": false, "abc": true, "a\x00c": false, "\xe9ab": false, "ab\U0010FF00": false, "été": true} {
		if IndexNeedle(n) != want {
			t.Errorf("IndexNeedle(%q) = %v", n, !want)
		}
	}
}

// TestFoldName: equal FoldName forms exactly when strings.EqualFold.
func TestFoldName(t *testing.T) {
	names := []string{"Subject", "SUBJECT", "subject", "K", "k", "\u212a", "s", "\u017f", "S", "X-Tag", "x-tag", "\xff", "\xfe", "É", "é", ""}
	for _, a := range names {
		for _, b := range names {
			if got, want := FoldName(a) == FoldName(b), strings.EqualFold(a, b); got != want {
				t.Errorf("FoldName(%q) == FoldName(%q) is %v; EqualFold %v", a, b, got, want)
			}
		}
	}
}

// TestFoldBody folds ASCII letters only.
func TestFoldBody(t *testing.T) {
	if got := FoldBody([]byte("ÄbC Zürich ÉTÉ")); !bytes.Equal(got, []byte("Äbc zürich ÉtÉ")) {
		t.Errorf("FoldBody = %q", got)
	}
}
