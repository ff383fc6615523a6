package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// summary renders a result compactly: one word per action.
func summary(res *Result) string {
	var parts []string
	for _, a := range res.Actions {
		s := string(a.Kind)
		switch a.Kind {
		case ActFileInto:
			s += ":" + a.Mailbox
		case ActRedirect:
			s += ":" + a.Address
		case ActReject:
			s += ":" + a.Reason
			if a.Extended {
				s = "e" + s
			}
		case ActVacation:
			s += ":" + a.Vacation.To
		}
		if len(a.Flags) > 0 {
			s += "[" + strings.Join(a.Flags, " ") + "]"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "discard"
	}
	return strings.Join(parts, " ")
}

func runScript(t *testing.T, script, msg string, env Envelope) *Result {
	t.Helper()
	p, err := ParseAndCompile(script)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	h, err := ReadHeader(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(context.Background(), Input{Header: h, Size: int64(len(msg)), Envelope: env}, Budget{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

type scriptCase struct {
	name   string
	script string
	msg    string
	env    Envelope
	want   string
}

func runCases(t *testing.T, cases []scriptCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == (Envelope{}) {
				env = Envelope{From: "sender@example.org", To: "me@example.com"}
			}
			if got := summary(runScript(t, tc.script, tc.msg, env)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// RFC 5228 §9, the full example, against four messages.
const rfc5228Example = `#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
`

func TestRFC5228Example(t *testing.T) {
	runCases(t, []scriptCase{
		{"list", rfc5228Example, "Sender: owner-ietf-mta-filters@imc.org\r\nTo: me@example.com\r\n\r\n", Envelope{}, "fileinto:filter"},
		{"company", rfc5228Example, "From: boss@EXAMPLE.com\r\nTo: me@example.net\r\n\r\n", Envelope{}, "keep"},
		{"not to me", rfc5228Example, "From: x@y.org\r\nTo: you@example.net\r\n\r\n", Envelope{}, "fileinto:spam"},
		{"spam subject", rfc5228Example, "From: x@y.org\r\nCc: me@example.com\r\nSubject: Make Money Fast!!\r\n\r\n", Envelope{}, "fileinto:spam"},
		{"personal", rfc5228Example, "From: x@y.org\r\nCc: Me <me@example.com>\r\nSubject: hi\r\n\r\n", Envelope{}, "fileinto:personal"},
	})
}

const coyote = "From: Wile E. Coyote <coyote@desert.example.org>\r\nSubject: $$$ for you\r\nTo: me@example.com\r\n\r\nbody\r\n"

func TestRFC5228Commands(t *testing.T) {
	ifScript := `if header :contains ["From"] ["coyote"] {
   redirect "acm@example.com";
} elsif header :contains "Subject" "$$$" {
   redirect "ceo@example.com";
} else {
   redirect "field@example.com";
}`
	runCases(t, []scriptCase{
		// §3.1
		{"if", ifScript, coyote, Envelope{}, "redirect:acm@example.com"},
		{"elsif", ifScript, "From: a@b.c\r\nSubject: $$$\r\n\r\n", Envelope{}, "redirect:ceo@example.com"},
		{"else", ifScript, "From: a@b.c\r\n\r\n", Envelope{}, "redirect:field@example.com"},
		// §3.3 stop, implicit keep
		{"stop", `stop; discard;`, coyote, Envelope{}, "keep"},
		// §4.1
		{"fileinto", `require "fileinto";
if header :contains ["from"] "coyote" {
   fileinto "INBOX.harassment";
}`, coyote, Envelope{}, "fileinto:INBOX.harassment"},
		// §4.4
		{"discard", `if header :contains ["from"] ["idiot@example.com"] {
   discard;
}`, "From: idiot@example.com\r\n\r\n", Envelope{}, "discard"},
		// §5.1
		{"address", `if address :is :all "from" "tim@example.com" { discard; }`, "From: Tim <TIM@example.com>\r\n\r\n", Envelope{}, "discard"},
		// §5.4
		{"envelope", `require "envelope";
if envelope :all :is "from" "tim@example.com" { discard; }`, "\r\n", Envelope{From: "tim@example.com", To: "me@example.com"}, "discard"},
		{"envelope null", `require "envelope";
if envelope :all :is "from" "" { discard; }`, "\r\n", Envelope{From: "", To: "me@example.com"}, "discard"},
		// §5.5, §5.8
		{"exists", `if not exists ["From","Date"] { discard; }`, "From: a@b.c\r\n\r\n", Envelope{}, "discard"},
		{"exists both", `if not exists ["From","Date"] { discard; }`, "From: a@b.c\r\nDate: x\r\n\r\n", Envelope{}, "keep"},
		// §5.9
		{"size over", `if size :over 10 { discard; }`, coyote, Envelope{}, "discard"},
		{"size under", `if size :under 1K { discard; }`, coyote, Envelope{}, "discard"},
		// §5.2, §5.3
		{"allof", `if allof (true, false) { discard; }`, coyote, Envelope{}, "keep"},
		{"anyof", `if anyof (false, true) { discard; }`, coyote, Envelope{}, "discard"},
		// §2.7.1 :matches with ? and escapes
		{"matches", `if header :matches "subject" "$$? for *" { discard; }`, coyote, Envelope{}, "discard"},
		{"matches escaped", `if header :matches "subject" "\\*" { discard; }`, "Subject: *\r\n\r\n", Envelope{}, "discard"},
		{"octet", `if header :is :comparator "i;octet" "subject" "$$$ FOR YOU" { discard; }`, coyote, Envelope{}, "keep"},
		// §2.10.3: duplicate fileinto is one action
		{"dup", `require "fileinto"; fileinto "a"; fileinto "a"; keep; keep;`, coyote, Envelope{}, "fileinto:a keep"},
		// §4.2: redirect cancels the implicit keep
		{"redirect", `redirect "bart@example.com";`, coyote, Envelope{}, "redirect:bart@example.com"},
		// multi-line string with dot-stuffing (§2.4.2)
		{"multiline", "require \"fileinto\";\nfileinto text:\n..dot\n.\n;", coyote, Envelope{}, "fileinto:.dot\r\n"},
	})
}

func TestCopy(t *testing.T) { // RFC 3894 §3, §4
	runCases(t, []scriptCase{
		{"fileinto", `require ["copy", "fileinto"]; fileinto :copy "incoming";`, coyote, Envelope{}, "fileinto:incoming keep"},
		{"redirect", `require ["copy"]; redirect :copy "elsewhere@example.com";`, coyote, Envelope{}, "redirect:elsewhere@example.com keep"},
	})
}

func TestImap4flags(t *testing.T) { // RFC 5232 §6
	script := `require ["imap4flags", "fileinto"];
if header :contains "from" "boss@frobnitzm.example.edu" {
   setflag "\\Flagged";
   fileinto "INBOX.From Boss";
}
if header :contains "Disposition-Notification-To" "mel@example.com" {
   addflag "$MDNRequired";
}
if header :contains "from" "imap@cac.washington.example.edu" {
   removeflag "$MDNRequired";
   fileinto "imap-list";
}
`
	runCases(t, []scriptCase{
		{"boss", script, "From: boss@frobnitzm.example.edu\r\n\r\n", Envelope{}, `fileinto:INBOX.From Boss[\Flagged]`},
		{"mdn", script, "Disposition-Notification-To: mel@example.com\r\n\r\n", Envelope{}, `keep[$MDNRequired]`},
		{"list", script, "Disposition-Notification-To: mel@example.com\r\nFrom: imap@cac.washington.example.edu\r\n\r\n", Envelope{}, `fileinto:imap-list`},
		{"flags tag", `require ["imap4flags", "fileinto"]; addflag "a b"; fileinto :flags ["\\Seen", "\\seen X"] "f"; keep;`, coyote, Envelope{}, `fileinto:f[\Seen X] keep[a b]`},
		{"hasflag", `require "imap4flags"; addflag ["\\Seen", "Junk"]; if hasflag :is "junk" { discard; }`, coyote, Envelope{}, "discard"},
		{"hasflag count", `require ["imap4flags","relational","comparator-i;ascii-numeric"]; setflag "a b c";
if hasflag :count "ge" :comparator "i;ascii-numeric" "3" { discard; }`, coyote, Envelope{}, "discard"},
	})
}

func TestSubaddress(t *testing.T) { // RFC 5233 §6
	script := `require ["envelope", "subaddress", "fileinto"];
if envelope :user "to" "postmaster" {
    fileinto "inbox.postmaster";
    stop;
}
if envelope :detail "to" "mta-filters" {
    fileinto "inbox.ietf-mta-filters";
}
if envelope :detail "to" "foo" {
    redirect "ken@example.net";
}
`
	runCases(t, []scriptCase{
		{"postmaster", script, "\r\n", Envelope{From: "a@b.c", To: "postmaster+x@example.com"}, "fileinto:inbox.postmaster"},
		{"list", script, "\r\n", Envelope{From: "a@b.c", To: "ken+mta-filters@example.com"}, "fileinto:inbox.ietf-mta-filters"},
		{"foo", script, "\r\n", Envelope{From: "a@b.c", To: "ken+foo@example.com"}, "redirect:ken@example.net"},
		{"none", script, "\r\n", Envelope{From: "a@b.c", To: "ken@example.com"}, "keep"},
		{"empty detail", `require "subaddress"; if address :detail "to" "" { discard; }`, "To: ken+@example.com\r\n\r\n", Envelope{}, "discard"},
		{"no detail", `require "subaddress"; if address :detail "to" "" { discard; }`, "To: ken@example.com\r\n\r\n", Envelope{}, "keep"},
	})
}

func TestRelational(t *testing.T) { // RFC 5231 §6
	msg := "Received: ...\r\nReceived: ...\r\nSubject: example\r\nTo: foo@example.com, baz@example.com\r\nCC: qux@example.com\r\n\r\n"
	cases := []struct{ test, want string }{
		{`address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"]`, "true"},
		{`anyof ( address :count "ge" :comparator "i;ascii-numeric" ["to"] ["3"], address :count "ge" :comparator "i;ascii-numeric" ["cc"] ["3"] )`, "false"},
		{`header :count "ge" :comparator "i;ascii-numeric" ["received"] ["3"]`, "false"},
		{`header :count "ge" :comparator "i;ascii-numeric" ["received", "subject"] ["3"]`, "true"},
		{`header :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"]`, "false"},
		{`header :value "gt" ["subject"] ["d"]`, "true"},
		{`header :value "lt" :comparator "i;ascii-numeric" "x-priority" "3"`, "false"},
	}
	for _, tc := range cases {
		script := `require ["relational", "comparator-i;ascii-numeric"]; if ` + tc.test + ` { discard; }`
		want := map[string]string{"true": "discard", "false": "keep"}[tc.want]
		if got := summary(runScript(t, script, msg, Envelope{From: "a@b.c", To: "me@x"})); got != want {
			t.Errorf("%s: got %s, want %s", tc.test, got, want)
		}
	}
}

func TestReject(t *testing.T) { // RFC 5429 §2.1, §2.2
	runCases(t, []scriptCase{
		{"reject", `require ["reject"];
if size :over 10 {
   reject text:
Your message is too big.  If you want to send me a big attachment,
put it on a public web site and send me a URL.
.
;
}`, coyote, Envelope{}, "reject:Your message is too big.  If you want to send me a big attachment,\r\nput it on a public web site and send me a URL.\r\n"},
		{"ereject", `require ["ereject"];
if address :domain :is "from" "desert.example.org" { ereject "I no longer accept mail from this domain"; }`, coyote, Envelope{}, "ereject:I no longer accept mail from this domain"},
	})
	p, err := ParseAndCompile(`require ["reject", "fileinto"]; fileinto "x"; reject "no";`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Run(context.Background(), Input{}, Budget{})
	var re *RuntimeError
	if !errors.As(err, &re) {
		t.Fatalf("reject with fileinto: err %v, want a runtime error", err)
	}
}

func TestVacation(t *testing.T) { // RFC 5230 §3, §4
	script := `require "vacation";
if header :contains "subject" "cyrus" {
    vacation "I'm out -- send mail to cyrus-bugs";
} else {
    vacation "I'm out -- call me at 321-1723";
}`
	to := "From: a@example.org\r\nTo: me@example.com\r\nSubject: about cyrus\r\nMessage-ID: <1@x>\r\n\r\n"
	env := Envelope{From: "a@example.org", To: "me@example.com"}
	res := runScript(t, script, to, env)
	if got := summary(res); got != "vacation:a@example.org keep" {
		t.Fatalf("got %q", got)
	}
	v := res.Actions[0].Vacation
	if v.Body != "I'm out -- send mail to cyrus-bugs" || v.Subject != "Auto: about cyrus" || v.Days != 7 || v.InReplyTo != "<1@x>" || v.From != "me@example.com" {
		t.Errorf("reply %+v", v)
	}
	other := runScript(t, script, strings.Replace(to, "cyrus", "x", 1), env).Actions[0].Vacation
	if other.Handle == v.Handle {
		t.Errorf("different reasons share handle %s", v.Handle)
	}
	msg := string(v.Message(time.Unix(0, 0).UTC(), "<r@me>"))
	for _, want := range []string{"Auto-Submitted: auto-replied", "In-Reply-To: <1@x>", "To: a@example.org\r\n", "\r\n\r\nI'm out -- send mail to cyrus-bugs\r\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("reply lacks %q:\n%s", want, msg)
		}
	}

	days := `require "vacation";
vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"]
   "I'm away until October 19.  If it's an emergency, call 911, I guess." ;`
	r2 := runScript(t, days, "From: a@b.org\r\nCc: ts4z@landru.example.edu\r\n\r\n", Envelope{From: "a@b.org", To: "tjs@example.edu"})
	if got := summary(r2); got != "vacation:a@b.org keep" || r2.Actions[0].Vacation.Days != 23 {
		t.Errorf(":addresses: got %q", got)
	}
	handle := `require "vacation";
if header :contains "subject" "lunch" {
    vacation :handle "ran-away" "I'm out and can't meet for lunch";
} else {
    vacation :handle "ran-away" "I'm out";
}`
	if h := runScript(t, handle, to, env).Actions[0].Vacation.Handle; h != "ran-away" {
		t.Errorf("handle %q", h)
	}
	subj := `require "vacation"; vacation :subject "Gone fishing" :from "boss@example.com" :mime text:
Content-Type: text/plain

Gone.
.
;`
	sv := runScript(t, subj, to, env).Actions[0].Vacation
	if sv.Subject != "Gone fishing" || sv.From != "boss@example.com" || !sv.MIME {
		t.Errorf("subject/from/mime: %+v", sv)
	}
}

// TestVacationNeverAnswers: RFC 5230 §4.5 and RFC 3834 §2.
func TestVacationNeverAnswers(t *testing.T) {
	script := `require "vacation"; vacation "away";`
	base := "From: a@example.org\r\nTo: me@example.com\r\n"
	env := Envelope{From: "a@example.org", To: "me@example.com"}
	cases := map[string]struct {
		msg string
		env Envelope
	}{
		"null sender":    {base + "\r\n", Envelope{To: "me@example.com"}},
		"mailer-daemon":  {base + "\r\n", Envelope{From: "MAILER-DAEMON@example.org", To: "me@example.com"}},
		"owner":          {base + "\r\n", Envelope{From: "owner-list@example.org", To: "me@example.com"}},
		"request":        {base + "\r\n", Envelope{From: "list-request@example.org", To: "me@example.com"}},
		"auto-submitted": {base + "Auto-Submitted: auto-replied\r\n\r\n", env},
		"precedence":     {base + "Precedence: bulk\r\n\r\n", env},
		"list-id":        {base + "List-Id: <l.example.org>\r\n\r\n", env},
		"not to me":      {"From: a@example.org\r\nTo: you@example.com\r\n\r\n", env},
		"self":           {base + "\r\n", Envelope{From: "me@example.com", To: "me@example.com"}},
	}
	for name, tc := range cases {
		if got := summary(runScript(t, script, tc.msg, tc.env)); got != "keep" {
			t.Errorf("%s: got %q, want no reply", name, got)
		}
	}
	if got := summary(runScript(t, script, base+"Auto-Submitted: no\r\n\r\n", env)); got != "vacation:a@example.org keep" {
		t.Errorf("Auto-Submitted: no: got %q", got)
	}
}
