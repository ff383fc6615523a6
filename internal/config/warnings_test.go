package config

import (
	"strings"
	"testing"
)

// TestWarnings: a Service-Limit below [IMAP] Max-Connections (hp-system
// A4) or below the section's Max-Connections-Per-IP is a warning at its
// line; the defaults give none.
func TestWarnings(t *testing.T) {
	c, err := Parse("t.conf", strings.NewReader("Hostname: h.example\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("defaults warn: %v", w)
	}
	in := "Hostname: h.example\n[IMAP]\nService-Limit: 16\n[POP]\nService-Limit: 5\n[SMTP]\nService-Limit: 0\nMax-Connections-Per-IP: 50\n"
	c, err = Parse("t.conf", strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range c.Warnings() {
		got = append(got, w.Error())
	}
	want := []string{
		"t.conf:3: [IMAP] Service-Limit: warning: 16 is below Max-Connections (500); the original's manual asks for at least as many",
		"t.conf:3: [IMAP] Service-Limit: warning: 16 is below Max-Connections-Per-IP (50), so one address can take the whole service",
		"t.conf:5: [POP] Service-Limit: warning: 5 is below Max-Connections-Per-IP (20), so one address can take the whole service",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
