package thread

import (
	"strings"
	"testing"
)

func TestBaseSubject(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		reply bool
	}{
		{"", "", false},
		{"Hello World", "HELLO WORLD", false},
		// (1) whitespace: tabs and continuations to one space.
		{"  Hello \t  World  ", "HELLO WORLD", false},
		{"Hello\r\n World", "HELLO WORLD", false},
		// (2) subj-trailer: "(fwd)" and WSP, repeated.
		{"report (fwd)", "REPORT", true},
		{"report (FWD) (fwd)  ", "REPORT", true},
		{"report(fwd)", "REPORT", true},
		{"(fwd)", "", true},
		// (3) subj-leader: subj-refwd, repeated, any case.
		{"Re: hello", "HELLO", true},
		{"RE:hello", "HELLO", true},
		{"re : hello", "HELLO", true},
		{"Re: Re: RE: hello", "HELLO", true},
		{"Fw: hello", "HELLO", true},
		{"FWD: hello", "HELLO", true},
		{"Re[2]: hello", "HELLO", true},
		{"Re [2]  : hello", "HELLO", true}, // *WSP [subj-blob] ":", the blob with its own *WSP
		{"Re: [2] hello", "HELLO", true},
		{"Re:Fwd:re: hello", "HELLO", true},
		{"Ref: hello", "REF: HELLO", false},
		{"Reply: hello", "REPLY: HELLO", false},
		{"Fwdx: hello", "FWDX: HELLO", false},
		{"Re hello", "RE HELLO", false},
		// (3) subj-leader with blobs before the subj-refwd.
		{"[list] Re: hello", "HELLO", true},
		{"[a][b] Re: [c] Fwd: hello", "HELLO", true},
		// (4) a subj-blob alone goes only when a subject remains.
		{"[list] hello", "HELLO", false},
		{"[list] [other] hello", "HELLO", false},
		{"[list]", "[LIST]", false},
		{"[list] [other]", "[OTHER]", false},
		{"[PATCH 1/2] fix it", "FIX IT", false},
		{"[unclosed hello", "[UNCLOSED HELLO", false},
		{"[a[b] hello", "[A[B] HELLO", false},
		// (6) "[fwd: …]", repeated from (2).
		{"[Fwd: hello]", "HELLO", true},
		{"[fwd: Re: hello (fwd)]", "HELLO", true},
		{"[Fwd: [Fwd: hello]]", "HELLO", true},
		{"Re: [Fwd: hello]", "HELLO", true},
		{"[Fwd: hello] tail", "TAIL", false}, // not wrapped: a blob prefix, as (4) says
		{"[fwd:]", "", true},
		// (1) RFC 2047 encoded words are decoded first.
		{"=?UTF-8?Q?R=C3=A9sum=C3=A9?=", "RE\u0301SUME\u0301", false},
		{"Re: =?ISO-8859-1?Q?caf=E9?=", "CAFE\u0301", true},
		{"=?UTF-8?B?UmU6IGhlbGxv?=", "HELLO", true},
		{"=?UTF-8?Q?Re:?= [list] hello", "HELLO", true},
		{"=?x-unknown?Q?abc?= x", "=?X-UNKNOWN?Q?ABC?= X", false},
		// Titlecase and decomposition (RFC 5051).
		{"straße", "STRAßE", false}, // no simple titlecase mapping for ß
		{"ﬁle", "FILE", false},
		{"Re:\u00a0hello", "HELLO", true}, // NBSP decomposes to a space
	}
	for _, tt := range tests {
		got, reply := BaseSubject(tt.in)
		if got != tt.want || reply != tt.reply {
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", tt.in, got, reply, tt.want, tt.reply)
		}
	}
}

func TestCasemap(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ABC 123", "ABC 123"},
		{"abc", "ABC"},
		{"Émile", "E\u0301MILE"},
		{"e\u0301mile", "E\u0301MILE"}, // already decomposed: the same key
		{"ǆ", "DZ\u030c"},              // titlecase ǅ, decomposed, then titlecased again
		{"ﬀ", "FF"},                    // compatibility decomposition
		{"Ωmega", "ΩMEGA"},
		{"ω", "Ω"},
		{"가", "가"},                   // Hangul syllables are not decomposed
		{"\xff\xfeab", "\xff\xfeAB"}, // not UTF-8: kept as binary
	}
	for _, tt := range tests {
		if got := Casemap(tt.in); got != tt.want {
			t.Errorf("Casemap(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if Compare("résumé", "RE\u0301SUME\u0301") != 0 || Compare("a", "B") != -1 || Compare("b", "A") != 1 {
		t.Error("Compare does not follow Casemap")
	}
}

// FuzzBaseSubject: no panic; the result is stable (extracting again from
// the base subject removes nothing more unless a blob was left as the
// whole subject) and never longer than the casemapped input.
func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"Re: [list] Fwd: hello (fwd)", "[Fwd: [Fwd: x]]", "=?UTF-8?Q?R=C3=A9?=", "[", "[]", "re", "\xff", "Re [x] : y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, _ := BaseSubject(s)
		if strings.HasPrefix(base, " ") || strings.HasSuffix(base, " ") {
			t.Fatalf("BaseSubject(%q) = %q has outer spaces", s, base)
		}
		if strings.Contains(base, "  ") {
			t.Fatalf("BaseSubject(%q) = %q has a run of spaces", s, base)
		}
		// A base subject that looks like an encoded word decodes again.
		if again, _ := BaseSubject(base); again != base && !strings.HasPrefix(base, "[") && !strings.Contains(base, "=?") {
			t.Fatalf("BaseSubject(%q) = %q, which extracts again to %q", s, base, again)
		}
		_ = Casemap(s)
	})
}
