package mailimport

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// maxFromLine is the longest line taken for a From_ line. Real ones are well
// under 1,000 bytes; a longer "From " line is body text.
const maxFromLine = 4096

// fromDate is the date of a From_ line.
type fromDate struct {
	t       time.Time
	hasYear bool // the year was given; without it t is only good for parsing checks
}

// parseFromLine parses a From_ line ("From sender date [moreinfo]", line
// terminator allowed) and reports whether it has a sender and a date that
// parses. RFC 4155 §2 and Appendix A.
func parseFromLine(line []byte) (fromDate, bool) {
	line = trimEOL(line)
	if len(line) > maxFromLine || !bytes.HasPrefix(line, []byte("From ")) {
		return fromDate{}, false
	}
	rest := strings.TrimLeft(string(line[5:]), " \t")
	sender, rest := cutSender(rest)
	if sender == "" {
		return fromDate{}, false
	}
	return parseAsctime(rest)
}

// cutSender splits off the envelope sender, which ends at white space
// outside double quotes.
func cutSender(s string) (sender, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case (c == ' ' || c == '\t') && !quoted:
			return s[:i], s[i:]
		}
	}
	return s, ""
}

var (
	weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	months   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

// monthNumber returns 1-12 for an English month abbreviation in any case,
// or 0.
func monthNumber(s string) time.Month {
	for i, m := range months {
		if strings.EqualFold(s, m) {
			return time.Month(i + 1)
		}
	}
	return 0
}

func isWeekday(s string) bool {
	for _, d := range weekdays {
		if strings.EqualFold(s, d) {
			return true
		}
	}
	return false
}

// parseAsctime parses the date of a From_ line: [weekday] month day time
// followed, in any order, by an optional numeric zone ("+0200"), named zone
// words ("CET DST", ignored) and the year, then anything (qmail's
// moreinfo, "remote from host"). RFC 4155 Appendix A.
func parseAsctime(s string) (fromDate, bool) {
	f := strings.Fields(s)
	if len(f) > 0 && isWeekday(strings.TrimSuffix(f[0], ",")) {
		f = f[1:]
	}
	if len(f) < 3 {
		return fromDate{}, false
	}
	mon := monthNumber(f[0])
	day, err := strconv.Atoi(f[1])
	if mon == 0 || err != nil || day < 1 || day > 31 || len(f[1]) > 2 {
		return fromDate{}, false
	}
	hh, mm, ss, ok := parseClock(f[2])
	if !ok {
		return fromDate{}, false
	}
	year, zone, hasZone := 0, 0, false
	// Zone words ("CET DST") and moreinfo are skipped.
	for _, w := range f[3:min(len(f), 6)] {
		switch {
		case year == 0 && isYear(w):
			year, _ = strconv.Atoi(w)
			if len(w) == 2 {
				year += 1900
				if year < 1970 {
					year += 100 // RFC 4155: two-digit years below 70 are 20xx
				}
			}
		case !hasZone && isNumericZone(w):
			zone, hasZone = numericZone(w), true
		}
	}
	fd := fromDate{hasYear: year != 0}
	if year == 0 {
		year = 2000 // a leap year, so that "Feb 29" passes the check below
	}
	loc := time.UTC // RFC 4155: the timestamp is UTC unless a zone says otherwise
	if hasZone {
		loc = time.FixedZone("", zone)
	}
	fd.t = time.Date(year, mon, day, hh, mm, ss, 0, loc)
	if fd.t.Day() != day {
		return fromDate{}, false // e.g. "Feb 31"
	}
	return fd, true
}

// parseClock parses "h:mm" or "hh:mm:ss".
func parseClock(s string) (hh, mm, ss int, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, false
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || len(p) == 0 || len(p) > 2 || p[0] == '+' || p[0] == '-' {
			return 0, 0, 0, false
		}
		v[i] = n
	}
	if v[0] > 23 || v[1] > 59 || v[2] > 60 {
		return 0, 0, 0, false
	}
	return v[0], v[1], min(v[2], 59), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isYear(s string) bool { return (len(s) == 4 || len(s) == 2) && isDigits(s) }

func isNumericZone(s string) bool {
	return len(s) == 5 && (s[0] == '+' || s[0] == '-') && isDigits(s[1:]) && s[3] <= '5'
}

// numericZone converts "+hhmm" to seconds east of UTC.
func numericZone(s string) int {
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[3:5])
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off
}
