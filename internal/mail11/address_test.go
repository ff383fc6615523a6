package mail11

import (
	"reflect"
	"testing"
)

var classifyTests = []struct {
	in   string
	want Address
}{
	{`SMTP%"a@b.example"`, Address{Class: ClassSMTP, Raw: `SMTP%"a@b.example"`, Quoted: "a@b.example"}},
	{`  smtp%"a@b.example"  `, Address{Class: ClassSMTP, Raw: `smtp%"a@b.example"`, Quoted: "a@b.example"}},
	{`SMTP%a@b.example`, Address{Class: ClassSMTP, Raw: `SMTP%a@b.example`, Quoted: "a@b.example"}},
	{`SMTP%"¢x y¢@b.example"`, Address{Class: ClassSMTP, Raw: `SMTP%"¢x y¢@b.example"`, Quoted: `"x y"@b.example`}},
	{`ABCDEF::SMTP%"a@b.example"`, Address{Class: ClassCluster, Raw: `ABCDEF::SMTP%"a@b.example"`, Node: "ABCDEF", Quoted: "a@b.example"}},
	{`ORDERS::"j@acme.com"`, Address{Class: ClassQuotedDECnet, Raw: `ORDERS::"j@acme.com"`, Node: "ORDERS", Quoted: "j@acme.com"}},
	{`ORDERS::J_SMITH`, Address{Class: ClassDECnet, Raw: `ORDERS::J_SMITH`, Node: "ORDERS", User: "J_SMITH"}},
	{`SMITH`, Address{Class: ClassUser, Raw: `SMITH`, User: "SMITH"}},
	{`SMITH$2`, Address{Class: ClassUser, Raw: `SMITH$2`, User: "SMITH$2"}},
	// All others.
	{`ABCMTS::MRGATE::"ORDERS::SPECIAL"`, Address{Class: ClassOther, Raw: `ABCMTS::MRGATE::"ORDERS::SPECIAL"`}},
	{`A::B::USER`, Address{Class: ClassOther, Raw: `A::B::USER`}},
	{`ORDERS::"SPECIAL"`, Address{Class: ClassOther, Raw: `ORDERS::"SPECIAL"`}}, // quoted, no @
	{`ORDERS::"a"b"@c"`, Address{Class: ClassOther, Raw: `ORDERS::"a"b"@c"`}},
	{`MX%"a@b.example"`, Address{Class: ClassOther, Raw: `MX%"a@b.example"`}},
	{`a@b.example`, Address{Class: ClassOther, Raw: `a@b.example`}},
	{`J SMITH`, Address{Class: ClassOther, Raw: `J SMITH`}},
	{`::USER`, Address{Class: ClassOther, Raw: `::USER`}},
	{`NODE::`, Address{Class: ClassOther, Raw: `NODE::`}},
	{`NO DE::USER`, Address{Class: ClassOther, Raw: `NO DE::USER`}},
	{`"X::Y"::USER`, Address{Class: ClassOther, Raw: `"X::Y"::USER`}},
	{"NODE::US\r\nER", Address{Class: ClassOther, Raw: "NODE::US\r\nER"}},
	{"NODE::\"a\n@b\"", Address{Class: ClassOther, Raw: "NODE::\"a\n@b\""}},
	{"NODE::US\u0085ER", Address{Class: ClassOther, Raw: "NODE::US\u0085ER"}},
	{"N\xffODE::USER", Address{Class: ClassOther, Raw: "NÿODE::USER"}},
	{"J\xd6RG", Address{Class: ClassUser, Raw: "JÖRG", User: "JÖRG"}},
	{"SMTP%\"\xa2a b\xa2@c\"", Address{Class: ClassSMTP, Raw: `SMTP%"¢a b¢@c"`, Quoted: `"a b"@c`}},
	{"JÖRG", Address{Class: ClassUser, Raw: "JÖRG", User: "JÖRG"}},
	{``, Address{Class: ClassOther, Raw: ``}},
}

func TestClassify(t *testing.T) {
	for _, tc := range classifyTests {
		if got := Classify(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Classify(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestClassString(t *testing.T) {
	if s := ClassQuotedDECnet.String(); s != "quoted-decnet" {
		t.Errorf("got %q", s)
	}
	if s := Class(99).String(); s != "unknown" {
		t.Errorf("got %q", s)
	}
	for c, smtp := range map[Class]bool{ClassSMTP: true, ClassCluster: true, ClassDECnet: false, ClassQuotedDECnet: false, ClassUser: false, ClassOther: false} {
		if c.IsSMTP() != smtp {
			t.Errorf("%v.IsSMTP() = %v", c, !smtp)
		}
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"BROWN,SMITH", []string{"BROWN", "SMITH"}},
		{` SMTP%"a@b", ORDERS::"x,y@z" ,, `, []string{`SMTP%"a@b"`, `ORDERS::"x,y@z"`}},
		{`SMTP%"¢a,b¢@c"`, []string{`SMTP%"¢a,b¢@c"`}},
		{"", nil},
	}
	for _, tc := range tests {
		if got := splitList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRoutePrefix(t *testing.T) {
	tests := map[string]string{
		"ORDERS::J_SMITH":        "ORDERS::",
		`ORDERS::"j@x"`:          "ORDERS::",
		"A::B::C":                "A::B::",
		`A::B::"C::D"`:           "A::B::",
		`ABCDEF::SMTP%"a@b"`:     "",
		`SMTP%"a::b@c"`:          "",
		"SMITH":                  "",
		`A::MRGATE::"ORDERS::X"`: "A::MRGATE::",
	}
	for in, want := range tests {
		if got := routePrefix(Classify(in)); got != want {
			t.Errorf("routePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddrSpecSyntax(t *testing.T) {
	good := []string{"a@b", "a.b@c.d", `"a b"@c`, `"a\"b"@c`, `"A::\"B\""@x.org`, "a@[1.2.3.4]", "jörg@bücher.example", `""@x`}
	bad := []string{"", "a", "@b", "a@", "a b@c", `"a"b"@c`, `"a\"@c`, "a..b@c", ".a@c", "a@b..c", "a@b c", "a\r@b", "a@\xff", `"a` + "\n" + `"@b`}
	for _, s := range good {
		if !isAddrSpec(s) {
			t.Errorf("isAddrSpec(%q) = false", s)
		}
	}
	for _, s := range bad {
		if isAddrSpec(s) {
			t.Errorf("isAddrSpec(%q) = true", s)
		}
	}
}

func TestClean(t *testing.T) {
	tests := map[string]string{
		"plain":            "plain",
		"  trim  ":         "trim",
		"a\r\nb\tc\x00d":   "a  b c d",
		"caf\xe9":          "café",
		"ok é":             "ok é",
		"c1\u0085x\x7fy":   "c1 x y",
		"\xa2quoted\xa2":   "¢quoted¢",
		"mixed é and \xe9": "mixed é and é",
	}
	for in, want := range tests {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
