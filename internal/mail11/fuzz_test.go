package mail11

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postern/postern/internal/store"
)

// fuzzSeeds are VMS addresses of every class, from the manual and beyond.
var fuzzSeeds = []string{
	`SMTP%"james.jones@federation.gov"`,
	`SMTP%"¢ABCMTS::MRGATE::\¢ABCDEF::VIVALDI \¢¢@xyz.org"`,
	`ORDERS::J_SMITH`, `HOST13::J_JONES`, `Smith`,
	`ORDERS::"j_smith@acme.com"`,
	`ABCDEF::SMTP%"james.jones@federation.gov"`,
	`ABCMTS::MRGATE::"ORDERS::SPECIAL"`,
	`MX%"a@b"`, "", `"`, `::`, `A::"`, "SMTP%\"\xa2\"", "N::\"a\r\n@b\"", `A::B\"C`,
}

// fuzzOptions returns the option sets every fuzz input is rewritten with.
func fuzzOptions() []Options {
	base := Options{Hostname: orders, SubstituteDomain: acme, Nodes: manualNodes,
		LookupNode: func(n string) (string, bool) { return n + ".example", len(n)%2 == 0 }}
	var out []Options
	for _, m := range []RewriteMode{RewriteGeneric, RewriteNone, RewriteTransform} {
		o := base
		o.DecnetRewrite, o.QuotedDecnetRewrite = m, m
		out = append(out, o)
		o.GatewayNode = widgets
		out = append(out, o)
	}
	return out
}

// FuzzClassify: Classify never panics, its fields agree with the class,
// and a DECnet or user address never holds a control character.
func FuzzClassify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := Classify(s)
		if a.Raw != strings.Trim(toUTF8(s), " \t") {
			t.Fatalf("Raw %q", a.Raw)
		}
		switch a.Class {
		case ClassDECnet, ClassUser, ClassQuotedDECnet:
			if hasControl(a.Raw) {
				t.Fatalf("%v with a control character: %q", a.Class, a.Raw)
			}
		}
		if (a.Class == ClassDECnet || a.Class == ClassQuotedDECnet || a.Class == ClassCluster) != (a.Node != "") {
			t.Fatalf("class %v, node %q", a.Class, a.Node)
		}
		_ = routePrefix(a)
		_ = splitList(s)
	})
}

// FuzzRewrite: under every option set, Rewrite and RewriteRecipient never
// panic and never return CR, LF or another control character; the result
// is a valid addr-spec, or, under NONE, the unchanged DECnet address; and
// the headers built from the input are well formed.
func FuzzRewrite(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "ORDERS::J_SMITH", "name")
	}
	opts := fuzzOptions()
	f.Fuzz(func(t *testing.T, vms, from, name string) {
		a := Classify(vms)
		for _, o := range opts {
			for _, got := range []string{o.Rewrite(vms), o.RewriteRecipient(vms, from)} {
				if strings.ContainsAny(got, "\r\n") || !utf8.ValidString(got) || hasControlRune(got) {
					t.Fatalf("control character in %q", got)
				}
				if isAddrSpec(got) {
					continue
				}
				none := o.DecnetRewrite == RewriteNone
				if !none || got != Classify(got).Raw || (Classify(got).Class != ClassDECnet && Classify(got).Class != ClassQuotedDECnet) {
					t.Fatalf("mode %s: %q (class %v) → invalid %q", o.DecnetRewrite, vms, a.Class, got)
				}
			}
			if o.DecnetRewrite == RewriteNone && (a.Class == ClassDECnet || a.Class == ClassQuotedDECnet) {
				if got := o.Rewrite(vms); got != a.Raw {
					t.Fatalf("NONE changed %q to %q", a.Raw, got)
				}
			}
		}
		env := &store.VMSEnvelope{From: vms, PersonalName: name, To: from + "," + vms, CC: name, Subject: name + vms,
			Date: time.Unix(int64(len(vms))*1e6, 0).UTC()}
		o := opts[len(opts)-1]
		o.PersonalName = true
		checkHeader(t, string(POPHeader(env, POPOptions{Options: o, SendIDHeaders: true, Server: name, ID: from})))
		checkHeader(t, string(IMAPHeader(env, IMAPOptions{Options: o, SendIDHeaders: true, Server: name, ID: from})))
	})
}

// FuzzFolderCodec: decode(encode(x)) == x, and DecodeFolder never panics
// and, when it succeeds, gives a name that encodes back to its input up
// to letter case.
func FuzzFolderCodec(f *testing.F) {
	for _, tc := range table53 {
		f.Add(tc.vms)
		f.Add(tc.imap)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s != "" {
			imap := EncodeFolder(s)
			if got, err := DecodeFolder(imap); err != nil || got != s {
				t.Fatalf("DecodeFolder(EncodeFolder(%q) = %q) = %q, %v", s, imap, got, err)
			}
		}
		if vms, err := DecodeFolder(s); err == nil && !strings.EqualFold(EncodeFolder(vms), s) {
			t.Fatalf("DecodeFolder(%q) = %q, which encodes to %q", s, vms, EncodeFolder(vms))
		}
	})
}
