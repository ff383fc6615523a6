package sieve

import (
	"context"
	"io"
	"strings"
	"testing"
)

const mimeMsg = "From: a@b.c\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n" +
	"preamble\r\n--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"the missile launch at caf=E9\r\n--XX\r\nContent-Type: audio/mp3\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	"AAEC\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>project schedule</p>\r\n--XX--\r\n"

func runBody(t *testing.T, script, msg string) string {
	t.Helper()
	p, err := ParseAndCompile(script)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ReadHeader(strings.NewReader(msg))
	res, err := p.Run(context.Background(), Input{Header: h, Size: int64(len(msg)),
		Envelope: Envelope{From: "a@b.c", To: "me@x.y"},
		Message:  func() io.Reader { return strings.NewReader(msg) }}, Budget{})
	if err != nil {
		t.Fatal(err)
	}
	return summary(res)
}

func TestBody(t *testing.T) { // RFC 5173 §7 and §5
	secrets := `require ["body", "fileinto"];
if body :content "text" :contains ["missile", "coordinates"] {
        fileinto "secrets";
}
if body :content "audio/mp3" :contains "" {
        fileinto "jukebox";
}`
	schedule := `require ["body", "fileinto"];
if body :text :contains "project schedule" {
        fileinto "project/schedule";
}`
	cases := []struct{ name, script, msg, want string }{
		{"content", secrets, mimeMsg, "fileinto:secrets fileinto:jukebox"},
		{"content none", secrets, "Subject: x\r\n\r\nnothing here\r\n", "keep"},
		{"text", schedule, mimeMsg, "fileinto:project/schedule"},
		{"text plain", schedule, "Subject: x\r\n\r\nthe Project Schedule slipped\r\n", "fileinto:project/schedule"},
		{"decoded", `require "body"; if body :contains "café" { discard; }`, mimeMsg, "discard"},
		{"raw", `require "body"; if body :raw :contains "caf=E9" { discard; }`, mimeMsg, "discard"},
		{"raw not decoded", `require "body"; if body :raw :contains "café" { discard; }`, mimeMsg, "keep"},
		{"no header", `require "body"; if body :raw :contains "Subject" { discard; }`, mimeMsg, "keep"},
	}
	for _, tc := range cases {
		if got := runBody(t, tc.script, tc.msg); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := ParseAndCompile(`if body :contains "x" { stop; }`); err == nil {
		t.Error("body without require compiled")
	}
	// Without the message, a body test is false.
	if got := summary(runScript(t, `require "body"; if body :contains "" { discard; }`, coyote, Envelope{})); got != "keep" {
		t.Errorf("no message: %q", got)
	}
}

// FuzzBodyParts: any message walks within the limits, without a panic.
func FuzzBodyParts(f *testing.F) {
	f.Add(mimeMsg)
	f.Add("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a--\r\n")
	f.Add("Content-Transfer-Encoding: base64\r\n\r\n!!!\r\n")
	f.Fuzz(func(t *testing.T, msg string) {
		if got := bodyParts([]byte(msg), []string{""}); len(got) > maxBodyParts {
			t.Fatalf("%d parts", len(got))
		}
	})
}
