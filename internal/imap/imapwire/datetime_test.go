package imapwire

import (
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	good := map[string]time.Time{
		"17-Jul-1996 02:44:25 -0700": time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600)),
		" 1-jan-2024 00:00:00 +0000": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		"29-Feb-2024 23:59:59 +1345": time.Date(2024, 2, 29, 23, 59, 59, 0, time.FixedZone("", 13*3600+45*60)),
	}
	for in, want := range good {
		got, ok := ParseDateTime(in)
		if !ok || !got.Equal(want) {
			t.Errorf("%q: got %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"29-Feb-2023 00:00:00 +0000", "32-Jan-2024 00:00:00 +0000", "01-Foo-2024 00:00:00 +0000",
		"01-Jan-2024 24:00:00 +0000", "01-Jan-2024 00:60:00 +0000", "01-Jan-2024 00:00:00 0000",
		"1-Jan-2024 00:00:00 +0000", "01-Jan-24 00:00:00 +0000", "01-Jan-2024 00:00:00 +0060", "",
	} {
		if got, ok := ParseDateTime(in); ok {
			t.Errorf("%q parsed as %v", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1-Feb-1994":  time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC),
		"01-FEB-1994": time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, ok := ParseDate(in); !ok || !got.Equal(want) {
			t.Errorf("%q: %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"001-Feb-1994", "1-Feb-94", "30-Feb-1994", "1 Feb 1994", "0-Feb-1994"} {
		if got, ok := ParseDate(in); ok {
			t.Errorf("%q parsed as %v", in, got)
		}
	}
	d := newDecoder(`"1-Feb-1994" 2-Mar-2000`, Options{})
	var a, b time.Time
	if !d.ExpectDate(&a) || !d.ExpectSP() || !d.ExpectDate(&b) || b.Month() != time.March {
		t.Fatal(d.Err())
	}
}
