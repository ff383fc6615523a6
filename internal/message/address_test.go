package message

import (
	"reflect"
	"testing"
)

var parseAddressListTests = []struct {
	name string
	in   string
	want []Address
}{
	{"empty", "  ", nil},
	{"addr-spec", "joe@example.org", []Address{{Mailbox: "joe", Host: "example.org"}}},
	{"name-addr quoted", `"Doe, John" <john@example.org>`, []Address{{Name: "Doe, John", Mailbox: "john", Host: "example.org"}}},
	{"quoted pair", `"a \"b\" c" <x@y.example>`, []Address{{Name: `a "b" c`, Mailbox: "x", Host: "y.example"}}},
	{"encoded name kept raw", "=?utf-8?q?J=C3=B6rg?= <j@x.example>", []Address{{Name: "=?utf-8?q?J=C3=B6rg?=", Mailbox: "j", Host: "x.example"}}},
	{"comment as name", "joe@example.org (Joe Bloggs)", []Address{{Name: "Joe Bloggs", Mailbox: "joe", Host: "example.org"}}},
	{"comments ignored", "Joe (the man) <joe(x)@example.org>", []Address{{Name: "Joe", Mailbox: "joe", Host: "example.org"}}},
	// RFC 5322 §4.4 obs-route: the at-domain-list of ENVELOPE (RFC 9051 §7.5.2).
	{"route", "<@relay.example:joe@example.org>", []Address{{Route: "@relay.example", Mailbox: "joe", Host: "example.org"}}},
	{"route of two, with a name", "Joe <@a.example,@b.example:joe@example.org>", []Address{{Name: "Joe", Route: "@a.example,@b.example", Mailbox: "joe", Host: "example.org"}}},
	{"route with CFWS and empty elements", "< ,@a.example (x), ,@[192.0.2.1] : joe@example.org>, b@c", []Address{
		{Route: "@a.example,@[192.0.2.1]", Mailbox: "joe", Host: "example.org"}, {Mailbox: "b", Host: "c"}}},
	{"quoted local part", `"john doe"@example.org`, []Address{{Mailbox: "john doe", Host: "example.org"}}},
	{"domain literal", "a@[192.0.2.1]", []Address{{Mailbox: "a", Host: "[192.0.2.1]"}}},
	{"list with empty elements", ",a@x.example,, b@y.example ,", []Address{{Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}}},
	{"group", "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", []Address{
		{Group: true, Mailbox: "A Group"},
		{Name: "Ed Jones", Mailbox: "c", Host: "a.test"},
		{Mailbox: "joe", Host: "where.test"},
		{Name: "John", Mailbox: "jdoe", Host: "one.test"},
		{Group: true},
	}},
	{"empty group", "undisclosed-recipients:;", []Address{{Group: true, Mailbox: "undisclosed-recipients"}, {Group: true}}},
	{"group then address", "g: a@x.example; , b@y.example", []Address{
		{Group: true, Mailbox: "g"}, {Mailbox: "a", Host: "x.example"}, {Group: true}, {Mailbox: "b", Host: "y.example"},
	}},
	{"unterminated group", "g: a@x.example", []Address{{Group: true, Mailbox: "g"}, {Mailbox: "a", Host: "x.example"}, {Group: true}}},
	{"8-bit name", "Jörg Müller <j@x.example>", []Address{{Name: "Jörg Müller", Mailbox: "j", Host: "x.example"}}},

	// Broken addresses degrade like Dovecot's, never to an empty host.
	{"bare word", "foo", []Address{{Mailbox: "foo", Host: missingDomain}}},
	{"empty angle", "<>", []Address{{Mailbox: missingMailbox, Host: missingDomain}}},
	{"no domain in angle", "Joe <joe>", []Address{{Name: "Joe", Mailbox: "joe", Host: missingDomain}}},
	{"no local part", "@example.org", []Address{{Mailbox: missingMailbox, Host: "example.org"}}},
	{"address as display name", "john@example.org <john@example.org>", []Address{{Name: "john@example.org", Mailbox: "john", Host: "example.org"}}},
	{"name without brackets", "Joe Bloggs joe@example.org", []Address{{Name: "Joe Bloggs", Mailbox: "joe", Host: "example.org"}}},
	{"unclosed angle", "Joe <joe@example.org", []Address{{Name: "Joe", Mailbox: "joe", Host: "example.org"}}},
	{"unterminated quote", `"Joe <joe@example.org>`, []Address{{Mailbox: "Joe <joe@example.org>", Host: missingDomain}}},
	{"unterminated comment", "joe@example.org (Joe", []Address{{Name: "Joe", Mailbox: "joe", Host: "example.org"}}},
	{"stray specials", ">;: a@x.example", []Address{{Mailbox: "a", Host: "x.example"}}},
	{"semicolon separated", "a@x.example; b@y.example", []Address{{Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}}},
}

func TestParseAddressList(t *testing.T) {
	for _, tc := range parseAddressListTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseAddressList(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseAddressList(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDECnetAddressIsNotAGroup(t *testing.T) {
	for in, want := range map[string]string{
		`ORDERS::J_SMITH`:                   `ORDERS::J_SMITH`,
		`ORDERS::"j_smith@acme.example"`:    `ORDERS::"j_smith@acme.example"`,
		`ABCMTS::MRGATE::"ORDERS::SPECIAL"`: `ABCMTS::MRGATE::"ORDERS::SPECIAL"`,
	} {
		got := parseAddressList(in)
		if len(got) != 1 || got[0].Group || got[0].Mailbox != want || got[0].Host == "" {
			t.Errorf("%s → %+v, want one address with mailbox %s", in, got, want)
		}
	}
	// A real group still parses as one.
	if got := parseAddressList("undisclosed-recipients:;"); len(got) != 2 || !got[0].Group {
		t.Errorf("group → %+v", got)
	}
}
