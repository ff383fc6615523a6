package mail11

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		env    *store.VMSEnvelope
		ignore bool
		want   bool
	}{
		{"no envelope: plain RFC 5322 mail", nil, false, true},
		{"SMTP sender, own header, ignore on", &store.VMSEnvelope{From: `SMTP%"a@b"`, OwnHeader: true}, true, true},
		{"cluster-forwarding sender, own header, ignore on", &store.VMSEnvelope{From: `N::SMTP%"a@b"`, OwnHeader: true}, true, true},
		{"SMTP sender, own header, ignore off", &store.VMSEnvelope{From: `SMTP%"a@b"`, OwnHeader: true}, false, false},
		{"SMTP sender, no own header (VMS extract)", &store.VMSEnvelope{From: `SMTP%"a@b"`}, true, false},
		{"DECnet sender, own header", &store.VMSEnvelope{From: "ORDERS::J_SMITH", OwnHeader: true}, true, false},
		{"quoted DECnet sender, own header", &store.VMSEnvelope{From: `ORDERS::"a@b"`, OwnHeader: true}, true, false},
		{"user-only sender, own header", &store.VMSEnvelope{From: "SMITH", OwnHeader: true}, true, false},
		{"other sender, own header", &store.VMSEnvelope{From: `MX%"a@b"`, OwnHeader: true}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.env, tc.ignore); got != tc.want {
				t.Errorf("Decide = %v, want %v", got, tc.want)
			}
		})
	}
}

func readHeader(t *testing.T, s string) message.Header {
	t.Helper()
	h, err := message.ReadHeader(strings.NewReader(strings.ReplaceAll(s, "\n", "\r\n")+"\r\nbody\r\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDeriveEnvelope(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		hdr  string
		want store.VMSEnvelope
	}{
		{
			name: "From only",
			hdr: "From: \"Smith, John\" <john@x.example>\n" +
				"To: a@y.example, \"B, C\" <b@y.example>\n" +
				"Cc: c@z.example\n" +
				"Subject: =?utf-8?q?Caf=C3=A9?= time",
			want: store.VMSEnvelope{From: `SMTP%"john@x.example"`, PersonalName: "Smith, John",
				To: `SMTP%"a@y.example", SMTP%"b@y.example"`, CC: `SMTP%"c@z.example"`,
				Subject: "Café time"},
		},
		{
			name: "preference order: Reply-To before Sender, Return-Path and From",
			hdr: "Return-Path: <bounce@x.example>\n" +
				"From: John <john@x.example>\n" +
				"Sender: list@x.example\n" +
				"Reply-To: <list-reply@x.example>",
			want: store.VMSEnvelope{From: `SMTP%"list-reply@x.example"`},
		},
		{
			name: "Resent-Reply-To first of all",
			hdr: "From: a@x.example\n" +
				"Resent-From: r@x.example\n" +
				"Resent-Reply-To: Re Sent <rr@x.example>",
			want: store.VMSEnvelope{From: `SMTP%"rr@x.example"`, PersonalName: "Re Sent"},
		},
		{
			name: "Return-Path before From; From's name when the address is the same",
			hdr:  "Return-Path: <john@x.example>\nFrom: John Smith <JOHN@x.example>",
			want: store.VMSEnvelope{From: `SMTP%"john@x.example"`, PersonalName: "John Smith"},
		},
		{
			name: "null Return-Path is skipped",
			hdr:  "Return-Path: <>\nFrom: a@x.example",
			want: store.VMSEnvelope{From: `SMTP%"a@x.example"`},
		},
		{
			name: "quoted local part is stored with cent signs",
			hdr:  "From: \"john smith\"@x.example",
			want: store.VMSEnvelope{From: `SMTP%"¢john smith¢@x.example"`},
		},
		{
			name: "no sender at all",
			hdr:  "Return-Path: <>\nSubject: bounce",
			want: store.VMSEnvelope{From: `SMTP%""`, Subject: "bounce"},
		},
		{
			name: "broken syntax falls back to angle brackets",
			hdr:  "From: =?x-unknown?q?J=F6rg?= <jorg@x.example>, , <<bad>>",
			want: store.VMSEnvelope{From: `SMTP%"jorg@x.example"`, PersonalName: "=?x-unknown?q?J=F6rg?="},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DeriveEnvelope(readHeader(t, tc.hdr), at)
			tc.want.Date, tc.want.OwnHeader = at, true
			if *got != tc.want {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
			if !Decide(got, true) {
				t.Error("a derived envelope must serve its own header when Ignore-Mail11-Headers is on")
			}
		})
	}
}

// TestDerivedRoundTrip: the rebuilt From of a derived envelope is the
// sender's address again (R1 undoes what DeriveEnvelope stored).
func TestDerivedRoundTrip(t *testing.T) {
	for _, addr := range []string{"john@x.example", `"john smith"@x.example`, `"a\"b"@x.example`, "jörg@bücher.example"} {
		env := DeriveEnvelope(readHeader(t, "From: "+addr), time.Time{})
		if got := site.Rewrite(env.From); got != addr {
			t.Errorf("%s: stored %s, rebuilt %s", addr, env.From, got)
		}
	}
}
