package sieve

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// dateTest is the date or currentdate test (RFC 5260 §4, §5).
type dateTest struct {
	current  bool
	header   string // date: the header field holding the date
	zone     string // :zone, as "+hhmm"/"-hhmm"; "" none
	original bool   // :originalzone
	part     string
	m        matcher
	keys     []string
}

func (dateTest) isTest() {}

// dateParts are the date parts of RFC 5260 §4.2.
var dateParts = map[string]bool{
	"year": true, "month": true, "day": true, "date": true, "julian": true, "hour": true, "minute": true,
	"second": true, "time": true, "iso8601": true, "std11": true, "zone": true, "weekday": true,
}

var zoneTags = map[string]tagSpec{
	"zone": {group: "zone", value: argString}, "originalzone": {group: "zone"},
}

func (c *compiler) date(t *Test) (test, error) {
	if !c.required["date"] {
		return nil, errAt(t.Line, "%s needs require \"date\"", t.Name)
	}
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	specs := []map[string]tagSpec{matchTags, zoneTags}
	if t.Name == "currentdate" {
		specs = []map[string]tagSpec{matchTags, {"zone": zoneTags["zone"]}}
	}
	tags, pos, err := c.splitArgs(t.Name, t.Line, t.Args, specs...)
	if err != nil {
		return nil, err
	}
	kinds := []argKind{argString, argString, argStringList}
	if t.Name == "currentdate" {
		kinds = kinds[1:]
	}
	if err := positional(t.Name, t.Line, pos, kinds...); err != nil {
		return nil, err
	}
	m, err := c.matcher(t, tags)
	if err != nil {
		return nil, err
	}
	dt := dateTest{current: t.Name == "currentdate", original: tags.has("originalzone"), m: m}
	if tags.has("zone") {
		// RFC 5260 §4.1: time-zone = ( "+" / "-" ) 4DIGIT.
		z := tags.str("zone")
		if _, ok := parseZone(z); !ok {
			return nil, errAt(t.Line, "%s: bad :zone %q", t.Name, z)
		}
		dt.zone = z
	}
	if !dt.current {
		dt.header, pos = strings.ToLower(pos[0].Strings[0]), pos[1:]
	}
	dt.part, dt.keys = strings.ToLower(pos[0].Strings[0]), pos[1].Strings
	if !dateParts[dt.part] {
		return nil, errAt(pos[0].Line, "%s: unknown date part %q", t.Name, dt.part)
	}
	return dt, nil
}

func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

// evalDate runs date or currentdate; a missing or unparsable date makes
// the test false (RFC 5260 §4.1).
func (r *run) evalDate(t dateTest) bool {
	var when time.Time
	if t.current {
		when = r.in.Now
		if when.IsZero() {
			return false
		}
	} else {
		vals := r.in.Header.values(r.x(t.header))
		if len(vals) == 0 {
			return false
		}
		v := vals[0]
		if t.header == "received" {
			// RFC 5260 §4.1: the date of a Received field follows its
			// last semicolon.
			if i := strings.LastIndexByte(v, ';'); i >= 0 {
				v = v[i+1:]
			}
		}
		d, err := mail.ParseDate(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		when = d
	}
	switch {
	case t.zone != "":
		loc, _ := parseZone(r.x(t.zone))
		when = when.In(loc)
	case t.original && !t.current:
	default:
		// Without :zone or :originalzone, the local zone (RFC 5260
		// §4.1): the zone of Input.Now.
		if !r.in.Now.IsZero() {
			when = when.In(r.in.Now.Location())
		}
	}
	return r.matched(t.m.matchVars([]string{datePart(when, t.part)}, r.xs(t.keys)))
}

// datePart formats one part of a date (RFC 5260 §4.2).
func datePart(t time.Time, part string) string {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year())
	case "month":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "day":
		return fmt.Sprintf("%02d", t.Day())
	case "date":
		return t.Format("2006-01-02")
	case "julian":
		// Modified Julian Day: days since 1858-11-17.
		y, m, d := t.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return strconv.Itoa(int(day.Sub(time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)).Hours() / 24))
	case "hour":
		return fmt.Sprintf("%02d", t.Hour())
	case "minute":
		return fmt.Sprintf("%02d", t.Minute())
	case "second":
		return fmt.Sprintf("%02d", t.Second())
	case "time":
		return t.Format("15:04:05")
	case "iso8601":
		return t.Format(time.RFC3339) // "Z" for +00:00, as Pigeonhole
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	case "zone":
		return t.Format("-0700")
	}
	return strconv.Itoa(int(t.Weekday())) // weekday: 0 is Sunday
}
