package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// scripts is an IncludeFunc over a map; global scripts are prefixed "global/".
func scripts(t *testing.T, m map[string]string) IncludeFunc {
	return func(name string, global bool) (*Program, error) {
		if global {
			name = "global/" + name
		}
		src, ok := m[name]
		if !ok {
			return nil, ErrNoScript
		}
		return ParseAndCompile(src)
	}
}

func runInclude(t *testing.T, main, msg string, m map[string]string) (string, error) {
	t.Helper()
	p, err := ParseAndCompile(main)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ReadHeader(strings.NewReader(msg))
	res, err := p.Run(context.Background(), Input{Header: h, Envelope: Envelope{From: "a@b.c", To: "me@x.y"},
		Include: scripts(t, m)}, Budget{})
	if err != nil {
		return "", err
	}
	return summary(res), nil
}

func TestInclude(t *testing.T) { // RFC 6609 §3.2-§3.4, §6
	lib := map[string]string{
		"always_allow":      `require "fileinto"; if address :is "from" "boss@example.com" { keep; stop; }`,
		"global/spam_tests": `require "fileinto"; if header :contains "subject" "viagra" { fileinto "spam"; }`,
		"spam_tests":        `require "fileinto"; if header :contains "subject" "lottery" { fileinto "spam"; }`,
		"mailing_lists":     `require ["fileinto", "include"]; if exists "list-id" { fileinto "lists"; return; } fileinto "after-return";`,
		"subject_tests":     `require ["variables", "include"]; global ["test", "test_mailbox"]; if header :contains "Subject" "${test}" { set "test_mailbox" "spam-${test}"; }`,
		"loop":              `require "include"; include "loop";`,
		"once":              `require ["include", "imap4flags"]; addflag "x"; include :once "counter";`,
		"counter":           `require "imap4flags"; addflag "c";`,
		"local":             `require ["variables", "fileinto"]; fileinto "local:${secret}";`,
	}
	main := `require ["include"];
include :personal "always_allow";
include :global "spam_tests";
include :personal "spam_tests";
include :personal "mailing_lists";`
	cases := []struct{ name, script, msg, want string }{
		{"boss", main, "From: boss@example.com\r\nSubject: viagra\r\n\r\n", "keep"},
		{"global spam", main, "From: x@y.z\r\nSubject: viagra\r\n\r\n", "fileinto:spam fileinto:after-return"},
		{"personal spam", main, "From: x@y.z\r\nSubject: lottery\r\n\r\n", "fileinto:spam fileinto:after-return"},
		{"return", main, "From: x@y.z\r\nList-Id: <l>\r\n\r\n", "fileinto:lists"},
		{"globals", `require ["variables", "include", "fileinto"];
global "test";
global "test_mailbox";
set "test" "$$";
include "subject_tests";
set "test" "Make money";
include "subject_tests";
fileinto "${test_mailbox}";`, "Subject: Make money now\r\n\r\n", "fileinto:spam-Make money"},
		{"locals stay local", `require ["variables", "include"]; set "secret" "s"; include "local";`, "\r\n", "fileinto:local:"},
		{"once", `require ["include", "imap4flags"]; include :once "counter"; include "once"; include :once "counter"; keep;`, "\r\n", "keep[c x]"},
		{"optional", `require "include"; include :optional "missing"; keep;`, "\r\n", "keep"},
	}
	for _, tc := range cases {
		got, err := runInclude(t, tc.script, tc.msg, lib)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	var re *RuntimeError
	for name, script := range map[string]string{
		"missing": `require "include"; include "missing";`,
		"loop":    `require "include"; include "loop";`,
	} {
		if _, err := runInclude(t, script, "\r\n", lib); !errors.As(err, &re) {
			t.Errorf("%s: err %v, want a runtime error", name, err)
		}
	}
	for _, bad := range []string{
		`include "x";`,
		`require "include"; include "../x";`,
		`require "include"; global "x";`,
		`require "include"; include :personal :global "x";`,
	} {
		if _, err := ParseAndCompile(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}
