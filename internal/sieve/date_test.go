package sieve

import (
	"context"
	"strings"
	"testing"
	"time"
)

func runDate(t *testing.T, script, msg string, now time.Time) string {
	t.Helper()
	p, err := ParseAndCompile(script)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ReadHeader(strings.NewReader(msg))
	res, err := p.Run(context.Background(), Input{Header: h, Envelope: Envelope{From: "a@b.c", To: "me@x.y"}, Now: now}, Budget{})
	if err != nil {
		t.Fatal(err)
	}
	return summary(res)
}

func TestDate(t *testing.T) { // RFC 5260 §7
	utc := time.UTC
	boss := `require ["date", "relational", "fileinto"];
if allof(header :is "from" "boss@example.com",
         date :value "ge" :originalzone "date" "hour" "09",
         date :value "lt" :originalzone "date" "hour" "17")
{ fileinto "urgent"; }`
	weekend := `require ["date", "relational", "fileinto"];
if anyof(date :is "received" "weekday" "0",
         date :is "received" "weekday" "6")
{ fileinto "weekend"; }`
	july := `require ["date", "relational", "vacation"];
if allof(currentdate :value "ge" "date" "2007-06-30",
         currentdate :value "le" "date" "2007-07-07")
{ vacation :days 7  "I'm away during the first week in July."; }`
	monthly := `require ["date", "variables", "fileinto"];
if currentdate :matches "month" "*" { set "month" "${1}"; }
if currentdate :matches "year"  "*" { set "year"  "${1}"; }
fileinto "${month}-${year}";`
	june := time.Date(2007, 6, 15, 12, 0, 0, 0, utc)
	cases := []struct {
		name, script, msg string
		now               time.Time
		want              string
	}{
		{"office hours", boss, "From: boss@example.com\r\nDate: Fri, 15 Jun 2007 10:30:00 -0700\r\n\r\n", june, "fileinto:urgent"},
		{"after hours", boss, "From: boss@example.com\r\nDate: Fri, 15 Jun 2007 18:30:00 -0700\r\n\r\n", june, "keep"},
		{"no date", boss, "From: boss@example.com\r\n\r\n", june, "keep"},
		{"bad date", boss, "From: boss@example.com\r\nDate: yesterday\r\n\r\n", june, "keep"},
		{"weekend", weekend, "Received: from x by y; Sat, 16 Jun 2007 10:00:00 +0000\r\n\r\n", june, "fileinto:weekend"},
		{"weekday", weekend, "Received: from x by y; Mon, 18 Jun 2007 10:00:00 +0000\r\n\r\n", june, "keep"},
		{"july", july, "From: a@b.c\r\nTo: me@x.y\r\n\r\n", time.Date(2007, 7, 2, 0, 0, 0, 0, utc), "vacation:a@b.c keep"},
		{"june", july, "From: a@b.c\r\nTo: me@x.y\r\n\r\n", june, "keep"},
		{"monthly", monthly, "\r\n", june, "fileinto:06-2007"},
		{"zone", `require ["date", "fileinto"]; if date :zone "+0900" "date" "iso8601" "2007-06-16T02:30:00+09:00" { fileinto "z"; }`,
			"Date: Fri, 15 Jun 2007 10:30:00 -0700\r\n\r\n", june, "fileinto:z"},
		{"local zone", `require ["date", "fileinto"]; if date :is "date" "zone" "+0200" { fileinto "local"; }`,
			"Date: Fri, 15 Jun 2007 10:30:00 -0700\r\n\r\n", june.In(time.FixedZone("CEST", 7200)), "fileinto:local"},
		{"julian", `require ["date", "fileinto"]; if currentdate :is "julian" "54266" { fileinto "mjd"; }`, "\r\n", june, "fileinto:mjd"},
		{"parts", `require ["date", "variables", "fileinto"]; if currentdate :zone "+0000" :matches "std11" "*" { fileinto "${0}"; }`, "\r\n", june, "fileinto:Fri, 15 Jun 2007 12:00:00 +0000"},
	}
	for _, tc := range cases {
		if got := runDate(t, tc.script, tc.msg, tc.now); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{
		`require "date"; if date "date" "fortnight" "1" {}`,
		`require "date"; if date :zone "CET" "date" "year" "1" {}`,
		`require "date"; if currentdate :originalzone "year" "1" {}`,
		`if currentdate "year" "2007" {}`,
	} {
		if _, err := ParseAndCompile(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}
