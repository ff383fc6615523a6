package sieve

import "testing"

func TestVariables(t *testing.T) { // RFC 5229 §3, §4, §5
	list := "List-ID: Acme users <acme-users@acme.example.org>\r\n\r\n"
	subject := "Subject: [acme-users] [fwd] version 1.0 is out\r\n\r\n"
	matches := `require ["fileinto", "variables"];
if header :matches "List-ID" "*<*@*" {
    fileinto "INBOX.lists.${2}"; stop;
}
if header :matches "Subject" "[*] *" {
    fileinto "INBOX.lists.${1}"; stop;
}
if address :matches ["To", "Cc"] ["coyote@**.com", "wile@**.com"] {
    fileinto "INBOX.business.${2}|${1}|${0}"; stop;
}
if anyof (true, address :domain :matches "To" "*.com") {
    fileinto "none:${1}"; stop;
}`
	set := func(line string) string {
		return `require ["fileinto", "variables"]; set "a" "juMBlEd lETteRS"; ` + line + ` fileinto "${b}";`
	}
	runCases(t, []scriptCase{
		{"interpolation", `require ["fileinto", "variables"];
set "honorific"  "Mr";
set "first_name" "Wile";
set "last_name"  "Coyote";
set "vacation" text:
Dear ${HONORIFIC} ${last_name},
I'm out, please leave a message after the meep.
.
;
fileinto "${vacation}";`, coyote, Envelope{}, "fileinto:Dear Mr Coyote,\r\nI'm out, please leave a message after the meep.\r\n"},
		{"verbatim", `require ["fileinto", "variables"]; set "company" "ACME";
fileinto "&%${}! ${doh!} ${company} ${unset}.${a.b}";`, coyote, Envelope{}, "fileinto:&%${}! ${doh!} ACME .${a.b}"},
		{"list-id", matches, list, Envelope{}, "fileinto:INBOX.lists.acme-users"},
		{"subject", matches, subject, Envelope{}, "fileinto:INBOX.lists.acme-users"},
		{"address", matches, "To: coyote@ACME.Example.COM\r\n\r\n", Envelope{}, "fileinto:INBOX.business.ACME.Example||coyote@ACME.Example.COM"},
		{"no match vars", matches, "To: x@y.org\r\n\r\n", Envelope{}, "fileinto:none:"},
		{"length", set(`set :length "b" "${a}";`), coyote, Envelope{}, "fileinto:15"},
		{"lower", set(`set :lower "b" "${a}";`), coyote, Envelope{}, "fileinto:jumbled letters"},
		{"upperfirst", set(`set :upperfirst "b" "${a}";`), coyote, Envelope{}, "fileinto:JuMBlEd lETteRS"},
		{"upperfirst lower", set(`set :upperfirst :lower "b" "${a}";`), coyote, Envelope{}, "fileinto:Jumbled letters"},
		{"quotewildcard", set(`set :quotewildcard "b" "Rock*";`), coyote, Envelope{}, `fileinto:Rock\*`},
		{"string", `require ["variables"]; set "state" "${state} pending";
if string :matches " ${state} " "* pending *" { discard; }`, coyote, Envelope{}, "discard"},
		{"string count", `require ["variables", "relational", "comparator-i;ascii-numeric"];
if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { discard; }`, coyote, Envelope{}, "discard"},
		{"flag variable", `require ["variables", "imap4flags", "fileinto"];
setflag "f" "\\Seen"; addflag "f" ["Work", "\\seen"]; removeflag "f" "Nope";
if hasflag :is "f" "work" { fileinto :flags "${f}" "Box"; }`, coyote, Envelope{}, `fileinto:Box[\Seen Work]`},
		{"redirect", `require "variables"; set "u" "bob"; redirect "${u}@example.net";`, coyote, Envelope{}, "redirect:bob@example.net"},
	})
}

func TestVariablesLimits(t *testing.T) {
	// Doubling a variable cannot grow without bound.
	script := `require "variables"; set "a" "xxxxxxxxxxxxxxxx";` +
		repeat(`set "a" "${a}${a}";`, 30) + `if string :matches "${a}" "*x" { discard; }`
	if got := summary(runScript(t, script, coyote, Envelope{From: "a@b.c", To: "me@x"})); got != "discard" {
		t.Errorf("got %q", got)
	}
	many := `require "variables";`
	for i := 0; i < maxVariables+1; i++ {
		many += `set "v` + itoa(i) + `" "x";`
	}
	p, err := ParseAndCompile(many)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(t.Context(), Input{}, Budget{}); err == nil {
		t.Error("more than maxVariables variables accepted")
	}
	if _, err := ParseAndCompile(`require "variables"; set "1a" "x";`); err == nil {
		t.Error("set of an invalid name compiled")
	}
	if _, err := ParseAndCompile(`set "a" "x";`); err == nil {
		t.Error("set without require compiled")
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}
