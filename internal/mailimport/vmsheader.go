package mailimport

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// vmsFrom is a parsed VMS MAIL From: line.
type vmsFrom struct {
	addr string // as written: ORDERS::J_SMITH, SMTP%"jones@x.org", NODE::"a b"
	name string // the personal name, unquoted
	date time.Time
}

// parseVMSFrom parses a VMS MAIL From: line (terminator allowed):
//
//	From:	ORDERS::J_SMITH      "John Smith"  6-APR-1999 06:02:31.15
//
// It requires the address and the arrival date; the personal name is
// optional. Field names are case-insensitive; any white space separates.
func parseVMSFrom(line []byte) (vmsFrom, bool) {
	name, value, ok := cutVMSField(line)
	if !ok || !strings.EqualFold(name, "From") {
		return vmsFrom{}, false
	}
	var f vmsFrom
	// The date is the last two words, outside any quotes.
	rest, date, ok := cutVMSDate(value)
	if !ok {
		return vmsFrom{}, false
	}
	f.date = date
	f.addr, rest, ok = cutVMSAddress(rest)
	if !ok || f.addr == "" {
		return vmsFrom{}, false
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, `"`) {
		name, after, ok := cutVMSQuoted(rest)
		if !ok {
			return vmsFrom{}, false
		}
		f.name, rest = name, strings.TrimSpace(after)
	}
	if rest != "" {
		// Not seen in real extracts: keep unquoted text rather than lose it.
		f.name = strings.TrimSpace(f.name + " " + rest)
	}
	return f, true
}

// cutVMSField splits "Name:<white space>value" and trims the value.
func cutVMSField(line []byte) (name, value string, ok bool) {
	line = trimEOL(line)
	i := bytes.IndexByte(line, ':')
	if i <= 0 || i > len("Subject") {
		return "", "", false
	}
	for _, c := range line[:i] {
		if c < 'A' || c > 'Z' && c < 'a' || c > 'z' {
			return "", "", false
		}
	}
	return string(line[:i]), strings.Trim(string(line[i+1:]), " \t"), true
}

// vmsFieldKind classifies a VMS header line by its field name.
func vmsFieldKind(name string) string {
	switch strings.ToLower(name) {
	case "from":
		return "from"
	case "to":
		return "to"
	case "cc":
		return "cc"
	case "subj", "subject":
		return "subj"
	}
	return ""
}

// cutVMSDate splits the arrival date "d-MMM-yyyy hh:mm:ss.cc" off the end
// of s.
func cutVMSDate(s string) (rest string, t time.Time, ok bool) {
	s = strings.TrimRight(s, " \t")
	i := strings.LastIndexAny(s, " \t")
	if i < 0 {
		return "", time.Time{}, false
	}
	clock := s[i+1:]
	s = strings.TrimRight(s[:i], " \t")
	j := strings.LastIndexAny(s, " \t")
	day := s[j+1:]
	t, ok = parseVMSDate(day, clock)
	return s[:j+1], t, ok
}

// parseVMSDate parses "6-APR-1999" and "06:02:31.15" (seconds and
// hundredths optional) in time.Local: OpenVMS kept no zone.
func parseVMSDate(day, clock string) (time.Time, bool) {
	parts := strings.Split(day, "-")
	if len(parts) != 3 || len(parts[0]) > 2 || !isDigits(parts[0]) || len(parts[2]) != 4 || !isDigits(parts[2]) {
		return time.Time{}, false
	}
	d, _ := strconv.Atoi(parts[0])
	mon := monthNumber(parts[1])
	y, _ := strconv.Atoi(parts[2])
	if mon == 0 || d < 1 {
		return time.Time{}, false
	}
	clock, frac, hasFrac := strings.Cut(clock, ".")
	cs := 0
	if hasFrac {
		if len(frac) == 0 || len(frac) > 2 || !isDigits(frac) {
			return time.Time{}, false
		}
		cs, _ = strconv.Atoi(frac)
		if len(frac) == 1 {
			cs *= 10
		}
	}
	hh, mm, ss, ok := parseClock(clock)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(y, mon, d, hh, mm, ss, cs*int(10*time.Millisecond), time.Local)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// cutVMSAddress splits off the sender address, which ends at white space
// outside double quotes. Inside quotes, "" is a literal quote, which the
// toggling handles.
func cutVMSAddress(s string) (addr, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case (c == ' ' || c == '\t') && !quoted:
			return s[:i], s[i:], true
		}
	}
	return s, "", !quoted
}

// cutVMSQuoted reads a quoted string at the start of s, "" standing for a
// quote.
func cutVMSQuoted(s string) (text, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}

// looksLikeVMS reports whether b, the start of a file, begins with a VMS
// MAIL From: line (after blank lines and form feeds) followed by a To:,
// CC: or Subj: line.
func looksLikeVMS(b []byte) bool {
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, line := range lines {
		line = bytes.TrimLeft(line, "\f")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if _, ok := parseVMSFrom(line); !ok || i+1 >= len(lines) {
			return false
		}
		name, _, ok := cutVMSField(lines[i+1])
		kind := vmsFieldKind(name)
		return ok && (kind == "to" || kind == "cc" || kind == "subj")
	}
	return false
}
