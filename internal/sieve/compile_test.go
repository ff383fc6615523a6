package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	bad := []struct {
		script string
		line   int
		msg    string
	}{
		{"keep;\nfileinto \"x\";", 2, `fileinto needs require "fileinto"`},
		{"require \"fileinto\";\n\nkeep;\nrequire \"copy\";", 4, "require must come before"},
		{"require \"index\";", 1, `unsupported extension "index"`},
		{"if true {\n  keep;\n", 3, "expected '}'"},
		{"keep", 1, "expected ';'"},
		{"if header :is \"a\" {\n}", 1, "header takes 2 positional"},
		{"\n\nif header :bogus \"a\" \"b\" {}", 3, "unknown tag :bogus"},
		{"if header :is :contains \"a\" \"b\" {}", 1, "conflicts"},
		{"if address :user \"to\" \"x\" {}", 1, "unknown tag :user"},
		{"if header :value \"gt\" \"a\" \"b\" {}", 1, "unknown tag :value"},
		{"require \"relational\";\nif header :value \"xx\" \"a\" \"b\" {}", 2, "unknown relational"},
		{"if header :comparator \"i;ascii-numeric\" \"a\" \"b\" {}", 1, "needs require"},
		{"if header :comparator \"i;nope\" \"a\" \"b\" {}", 1, "unknown comparator"},
		{"redirect \"not an address\";", 1, "not a valid address"},
		{"elsif true {}", 1, "without a preceding if"},
		{"if size 10 {}", 1, "size needs :over or :under"},
		{"bogus;", 1, "unknown command bogus"},
		{"if bogus {}", 1, "unknown test bogus"},
		{"\"unterminated", 1, "unterminated string"},
		{"/* open", 1, "unterminated comment"},
		{"keep;\nfileinto text:\nnever ends\n", 2, "unterminated multi-line"},
		{"if size :over 99999999999999999999 {}", 1, "too large"},
		{"require \"envelope\"; if envelope \"date\" \"x\" {}", 1, "unknown envelope part"},
		{"require \"vacation\"; vacation :days \"x\" \"r\";", 1, ":days needs a number"},
		{"if true { keep; } else { keep; } else { keep; }", 1, "else without"},
	}
	for _, tc := range bad {
		_, err := ParseAndCompile(tc.script)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err %v, want a SyntaxError", tc.script, err)
			continue
		}
		if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%q: got line %d %q, want line %d containing %q", tc.script, se.Line, se.Msg, tc.line, tc.msg)
		}
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("if true {", MaxNesting+1) + strings.Repeat("}", MaxNesting+1)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep blocks: %v", err)
	}
	deepTests := "if " + strings.Repeat("not ", MaxNesting+1) + "true {}"
	if _, err := Parse(deepTests); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep tests: %v", err)
	}
	ok := strings.Repeat("if true {", MaxNesting) + strings.Repeat("}", MaxNesting)
	if _, err := ParseAndCompile(ok); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
	huge := "#" + strings.Repeat("x", MaxScriptSize)
	if _, err := Parse(huge); err == nil {
		t.Error("oversized script accepted")
	}
}

func TestBudget(t *testing.T) {
	many := `require ["fileinto"];` + strings.Repeat(`fileinto "a"; fileinto "b"; fileinto "c"; fileinto "d";`, 1)
	p, _ := ParseAndCompile(many)
	_, err := p.Run(context.Background(), Input{}, Budget{MaxActions: 3})
	var re *RuntimeError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "more than 3 actions") {
		t.Errorf("actions: %v", err)
	}
	redirects := `require "copy"; redirect :copy "a@x.y"; redirect :copy "b@x.y"; redirect :copy "a@x.y"; redirect :copy "c@x.y";`
	p, _ = ParseAndCompile(redirects)
	if _, err = p.Run(context.Background(), Input{}, Budget{MaxRedirects: 2}); !errors.As(err, &re) {
		t.Errorf("redirects: %v", err)
	}
	if _, err = p.Run(context.Background(), Input{}, Budget{MaxRedirects: 3}); err != nil {
		t.Errorf("3 distinct redirects within 3: %v", err)
	}
	// Time: a canceled context stops a long script.
	long := strings.Repeat("if header :matches \"subject\" \"*a*a*a*a*b\" { keep; }\n", 500)
	p, _ = ParseAndCompile(long)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := Header{{Name: "Subject", Value: strings.Repeat("a", 1000)}}
	if _, err = p.Run(ctx, Input{Header: h}, Budget{}); !errors.As(err, &re) || !strings.Contains(err.Error(), "time") {
		t.Errorf("time: %v", err)
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		s, p string
		want bool
	}{
		{"", "", true}, {"", "*", true}, {"a", "?", true}, {"", "?", false},
		{"abc", "a*c", true}, {"abc", "a*b", false}, {"a*c", `a\*c`, true}, {"abc", `a\*c`, false},
		{"é", "?", true}, {"x?y", `x\?y`, true}, {"xzy", `x\?y`, false},
		{strings.Repeat("a", 5000), strings.Repeat("*a", 50) + "b", false},
	}
	for _, tc := range cases {
		if got := wildcard(tc.s, tc.p); got != tc.want {
			t.Errorf("wildcard(%.20q, %.20q) = %v", tc.s, tc.p, got)
		}
	}
}

func TestReadHeader(t *testing.T) {
	h, err := ReadHeader(strings.NewReader("Subject: a\r\n  folded\r\nX: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody: no\r\n"))
	if err != nil || len(h) != 2 || h.values("subject")[0] != "a  folded" || h.values("x")[0] != "café" {
		t.Errorf("%v %q", err, h)
	}
	if h, err := ReadHeader(strings.NewReader("")); err != nil || len(h) != 0 {
		t.Errorf("empty: %v %v", h, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range append(diffScripts, rfc5228Example, "text:\n..\n.\n", "if not not true {}", "[\"a\",", "/*", "require \"vacation\"; vacation :days 0 :mime \"x\";") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := ParseAndCompile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		h := Header{{Name: "From", Value: "a@b.c"}, {Name: "Subject", Value: "x"}}
		if _, err := p.Run(context.Background(), Input{Header: h, Envelope: Envelope{From: "a@b.c", To: "me@x.y"}}, Budget{}); err != nil {
			var re *RuntimeError
			if !errors.As(err, &re) {
				t.Fatalf("run: %v", err)
			}
		}
	})
}
