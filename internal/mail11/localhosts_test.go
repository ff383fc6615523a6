package mail11

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseLocalAliases(t *testing.T) {
	const file = "! TCPIP$SMTP_LOCAL_ALIASES.TXT\n" +
		"widgets.xyzcorp.com\n" +
		"\n" +
		"   ACME.Widgets.COM   \r\n" +
		"mail.example ! trailing comment\n" +
		"!commented.example\n" +
		"two names.example\n" +
		"[10.0.0.1]\n" +
		"bad,name\n" +
		"last.example"
	names, err := ParseLocalAliases(strings.NewReader(file))
	want := []string{"widgets.xyzcorp.com", "ACME.Widgets.COM", "mail.example", "[10.0.0.1]", "last.example"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	var le *AliasLineError
	if !errors.As(err, &le) || le.Line != 7 {
		t.Fatalf("err = %v, want an AliasLineError for line 7", err)
	}
	if got := err.Error(); !strings.Contains(got, "line 7") || !strings.Contains(got, "line 9") {
		t.Errorf("err %q should report lines 7 and 9", got)
	}

	l := NewLocalHosts(append(names, "orders.acme.widgets.com", "")...)
	for host, local := range map[string]bool{
		"widgets.xyzcorp.com":     true,
		"WIDGETS.XYZCORP.COM.":    true,
		"acme.widgets.com":        true,
		"orders.acme.widgets.com": true,
		"commented.example":       false,
		"two":                     false,
		"":                        false,
		"xyzcorp.com":             false,
	} {
		if l.IsLocal(host) != local {
			t.Errorf("IsLocal(%q) = %v", host, !local)
		}
	}
	if n := len(l.Names()); n != 6 {
		t.Errorf("Names() has %d names, want 6", n)
	}
	var nilHosts *LocalHosts
	if nilHosts.IsLocal("x") || nilHosts.Names() != nil {
		t.Error("nil LocalHosts is not empty")
	}
}

func TestParseLocalAliasesReadError(t *testing.T) {
	boom := errors.New("boom")
	names, err := ParseLocalAliases(io.MultiReader(strings.NewReader("a.example\n"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || !reflect.DeepEqual(names, []string{"a.example"}) {
		t.Errorf("names %q, err %v", names, err)
	}
	names, err = ParseLocalAliases(strings.NewReader(strings.Repeat("x", maxAliasLine+1)))
	if err == nil || len(names) != 0 {
		t.Errorf("an overlong line: names %q, err %v", names, err)
	}
}
