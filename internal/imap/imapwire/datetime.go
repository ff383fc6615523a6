package imapwire

import (
	"strings"
	"time"
)

// months are the date-month names of RFC 9051 §9, in order.
var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// dateTimeLayout is the date-time of RFC 9051 §9 without its quotes, with
// a two-digit day: "(SP DIGIT) / 2DIGIT" allows both, and a zero is the
// form clients parse most reliably.
const dateTimeLayout = "02-Jan-2006 15:04:05 -0700"

// FormatDateTime returns t as an IMAP date-time without the quotes, as
// "02-Jan-2006 15:04:05 -0700", in t's own zone.
func FormatDateTime(t time.Time) string { return t.Format(dateTimeLayout) }

// FormatDate returns t as an IMAP date, "2-Jan-2006".
func FormatDate(t time.Time) string { return t.Format("2-Jan-2006") }

// ParseDate parses date-text: "d-Mon-yyyy" with a one- or two-digit day,
// month names compared without regard to case. The result is midnight UTC;
// SEARCH compares dates in the server's chosen zone, which is the caller's
// business.
func ParseDate(s string) (time.Time, bool) {
	day, rest, ok := strings.Cut(s, "-")
	if !ok || len(day) < 1 || len(day) > 2 {
		return time.Time{}, false
	}
	mon, year, ok := strings.Cut(rest, "-")
	if !ok || len(year) != 4 {
		return time.Time{}, false
	}
	d, okd := atoiDigits(day)
	y, oky := atoiDigits(year)
	m := monthIndex(mon)
	if !okd || !oky || m == 0 {
		return time.Time{}, false
	}
	return validDate(y, m, d, 0, 0, 0, time.UTC)
}

// ParseDateTime parses a date-time without its quotes:
// "dd-Mon-yyyy hh:mm:ss +zzzz", the day two digits or a space and a digit.
func ParseDateTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '-' || s[6] != '-' || s[11] != ' ' ||
		s[14] != ':' || s[17] != ':' || s[20] != ' ' || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	day := s[0:2]
	if day[0] == ' ' {
		day = day[1:]
	}
	d, ok1 := atoiDigits(day)
	y, ok2 := atoiDigits(s[7:11])
	hh, ok3 := atoiDigits(s[12:14])
	mm, ok4 := atoiDigits(s[15:17])
	ss, ok5 := atoiDigits(s[18:20])
	zh, ok6 := atoiDigits(s[22:24])
	zm, ok7 := atoiDigits(s[24:26])
	m := monthIndex(s[3:6])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || m == 0 || zm > 59 {
		return time.Time{}, false
	}
	off := (zh*60 + zm) * 60
	if s[21] == '-' {
		off = -off
	}
	return validDate(y, m, d, hh, mm, ss, time.FixedZone("", off))
}

// validDate builds the time, refusing fields out of range (31-Feb, 24:00).
func validDate(y, m, d, hh, mm, ss int, loc *time.Location) (time.Time, bool) {
	if hh > 23 || mm > 59 || ss > 60 || d < 1 {
		return time.Time{}, false
	}
	if ss == 60 {
		ss = 59 // a leap second; time.Time cannot hold it
	}
	t := time.Date(y, time.Month(m), d, hh, mm, ss, 0, loc)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false
	}
	return t, true
}

// atoiDigits parses a non-empty run of ASCII digits.
func atoiDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// monthIndex returns 1-12 for a month name, 0 if it is none.
func monthIndex(s string) int {
	for i, m := range months {
		if strings.EqualFold(s, m) {
			return i + 1
		}
	}
	return 0
}

// Date decodes a date (RFC 9051 §9: date-text, bare or quoted).
func (dec *Decoder) Date(ptr *time.Time) bool {
	var s string
	if dec.Peek('"') {
		if !dec.Quoted(&s) {
			return false
		}
	} else if !dec.token(&s, &atomChars) {
		return false
	}
	t, ok := ParseDate(s)
	if !ok {
		return dec.setErr(syntaxErrorf("invalid date %q", s))
	}
	*ptr = t
	return true
}

// ExpectDate decodes a date or records an error.
func (dec *Decoder) ExpectDate(ptr *time.Time) bool { return dec.Expect(dec.Date(ptr), "date") }

// DateTime decodes a date-time, which is always quoted.
func (dec *Decoder) DateTime(ptr *time.Time) bool {
	if !dec.Peek('"') {
		return false
	}
	var s string
	if !dec.Quoted(&s) {
		return false
	}
	t, ok := ParseDateTime(s)
	if !ok {
		return dec.setErr(syntaxErrorf("invalid date-time %q", s))
	}
	*ptr = t
	return true
}

// ExpectDateTime decodes a date-time or records an error.
func (dec *Decoder) ExpectDateTime(ptr *time.Time) bool {
	return dec.Expect(dec.DateTime(ptr), "date-time")
}
