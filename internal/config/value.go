package config

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxValueLen is the longest value one line may carry (hp-system §7.1).
const maxValueLen = 500

// set parses raw as a value of o and stores it in c. For a list, the items
// are appended to the current list when add is true and replace it
// otherwise. It returns "" or a message describing what is wrong with raw.
func (o *option) set(c *Config, raw string, add bool) string {
	raw = strings.TrimSpace(raw)
	if msg := checkText(raw); msg != "" {
		return msg
	}
	field := reflect.ValueOf(o.ptr(c)).Elem()
	switch o.kind {
	case kList:
		items := splitList(raw)
		if o.elem == kHost {
			for i := range items {
				items[i] = strings.ToLower(items[i])
			}
		}
		if add {
			items = append(field.Interface().([]string), items...)
		}
		field.Set(reflect.ValueOf(items))
		return ""
	case kNodes:
		var nodes []DecnetNode
		for _, it := range splitList(raw) {
			n, h, ok := strings.Cut(it, "=")
			n, h = strings.TrimSpace(n), strings.TrimSpace(h)
			if !ok || n == "" || h == "" {
				return quote(it) + " is not NODE=host.name"
			}
			nodes = append(nodes, DecnetNode{Node: strings.ToUpper(n), Host: strings.ToLower(h)})
		}
		if add {
			nodes = append(field.Interface().([]DecnetNode), nodes...)
		}
		field.Set(reflect.ValueOf(nodes))
		return ""
	}
	v := unquote(raw)
	switch o.kind {
	case kBool:
		b, msg := parseBool(v)
		if msg != "" {
			return msg
		}
		field.SetBool(b)
	case kInt, kPort:
		n, msg := parseInt(v)
		if msg != "" {
			return msg
		}
		field.SetInt(n)
	case kSize:
		n, msg := parseSize(v)
		if msg != "" {
			return msg
		}
		field.SetInt(n)
	case kDuration:
		d, msg := parseDuration(v)
		if msg != "" {
			return msg
		}
		field.SetInt(int64(d))
	case kEnum:
		e, msg := parseEnum(v, o.enum, o.enumAlias)
		if msg != "" {
			return msg
		}
		field.SetString(e)
	default: // the string kinds
		if o.offOK && strings.EqualFold(v, "off") {
			v = ""
		}
		if o.kind == kHost {
			v = strings.ToLower(v) // DNS names compare without case
		}
		field.SetString(v)
	}
	return ""
}

// checkText rejects values that cannot be meant: invalid UTF-8 and
// control characters other than Tab.
func checkText(s string) string {
	if !utf8.ValidString(s) {
		return "value is not valid UTF-8"
	}
	for _, r := range s {
		if r != '\t' && unicode.IsControl(r) {
			return "value contains the control character " + strconv.QuoteRune(r)
		}
	}
	return ""
}

// unquote removes one pair of double quotes around s, as in the OpenVMS
// "0 00:10:00.00". Inner quotes stay.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// splitList splits a list value at commas. A value quoted as a whole
// ("JONES, SMITH", as the original logical names were written) is
// unquoted first; each item is trimmed and unquoted; empty items (as from
// a trailing comma before a continuation line) are dropped.
func splitList(s string) []string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.Contains(s[1:len(s)-1], `"`) {
		s = s[1 : len(s)-1]
	}
	var out []string
	for _, it := range strings.Split(s, ",") {
		it = unquote(strings.TrimSpace(it))
		if it != "" {
			out = append(out, it)
		}
	}
	return out
}

func parseBool(v string) (bool, string) {
	switch strings.ToUpper(v) {
	case "ON", "TRUE", "YES", "1":
		return true, ""
	case "OFF", "FALSE", "NO", "0":
		return false, ""
	case "":
		return false, "missing value; use ON or OFF"
	}
	return false, quote(v) + " is not a boolean; use ON/OFF, TRUE/FALSE, YES/NO or 1/0"
}

func parseInt(v string) (int64, string) {
	if v == "" {
		return 0, "missing value; want a whole number"
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, quote(v) + " is too large"
		}
		return 0, quote(v) + " is not a whole number"
	}
	return n, ""
}

// parseSize reads a byte size: a whole number of bytes, or one with a
// binary suffix K, M, G or T (optionally followed by B or iB), any case.
// ParseSize reads a size in the configuration's syntax (bytes, or a
// number with K, M, G or T, binary: 10K is 10,240 bytes), for the command
// line options that take one.
func ParseSize(v string) (int64, error) {
	n, msg := parseSize(v)
	if msg != "" {
		return 0, errors.New(msg)
	}
	return n, nil
}

func parseSize(v string) (int64, string) {
	bad := quote(v) + " is not a size; use bytes or a number with K, M or G (e.g. 50M)"
	if v == "" {
		return 0, "missing value; want a size such as 50M"
	}
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	shift := 0
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift > 0 {
			s = strings.TrimSpace(s[:len(s)-1])
		}
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64>>shift {
		return 0, quote(v) + " is too large"
	}
	return n << shift, ""
}

// maxDays bounds day counts so that durations cannot overflow.
const maxDays = 9999

// parseDuration reads a duration in one of three forms: an OpenVMS delta
// time "D HH:MM:SS.CC" (trailing fields may be left out, the day count
// too), a Go duration with an optional leading day count ("10m", "1h30m",
// "5d", "1d12h"), or a whole number of seconds.
func parseDuration(v string) (time.Duration, string) {
	bad := quote(v) + ` is not a duration; use an OpenVMS delta time ("0 00:10:00.00"), ` +
		"a Go duration (10m, 1h30m, 5d) or whole seconds"
	s := strings.TrimSpace(v)
	switch {
	case s == "":
		return 0, "missing value; want a duration such as 10m"
	case s[0] == '-':
		return 0, quote(v) + " is negative; a duration cannot be"
	case strings.Contains(s, ":"):
		d, ok := parseDeltaTime(s)
		if !ok {
			return 0, bad
		}
		return d, ""
	case strings.TrimLeft(s, "0123456789") == "":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxDays*86400 {
			return 0, quote(v) + " is too long"
		}
		return time.Duration(n) * time.Second, ""
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 && strings.TrimLeft(s[:i], "0123456789") == "" {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n > maxDays {
			return 0, quote(v) + " is too long"
		}
		days, s = n, s[i+1:]
	}
	var d time.Duration
	if s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || s[0] == '-' || s[0] == '+' {
			return 0, bad
		}
	}
	if d < 0 || d > maxDays*24*time.Hour {
		return 0, quote(v) + " is too long"
	}
	return time.Duration(days)*24*time.Hour + d, ""
}

// parseDeltaTime reads an OpenVMS delta time: [D ]HH[:MM[:SS[.CC]]], where
// the day count may also be joined by a hyphen.
func parseDeltaTime(s string) (time.Duration, bool) {
	var days int64
	if i := strings.IndexAny(s, " -"); i >= 0 {
		n, ok := digits(s[:i], 4)
		if !ok {
			return 0, false
		}
		days, s = n, strings.TrimLeft(s[i+1:], " ")
	}
	clock, frac, hasFrac := strings.Cut(s, ".")
	parts := strings.Split(clock, ":")
	if len(parts) > 3 {
		return 0, false
	}
	limits := []int64{23, 59, 59}
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	d := time.Duration(days) * 24 * time.Hour
	for i, p := range parts {
		if p == "" { // OpenVMS allows an empty field: "0 ::10"
			continue
		}
		n, ok := digits(p, 2)
		if !ok || n > limits[i] {
			return 0, false
		}
		d += time.Duration(n) * units[i]
	}
	if hasFrac {
		if len(parts) != 3 {
			return 0, false
		}
		n, ok := digits(frac, 2)
		if !ok {
			return 0, false
		}
		if len(frac) == 1 {
			n *= 10
		}
		d += time.Duration(n) * 10 * time.Millisecond
	}
	return d, true
}

// digits parses 1 to max decimal digits.
func digits(s string, max int) (int64, bool) {
	if s == "" || len(s) > max || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func parseEnum(v string, values []string, aliases map[string]string) (string, string) {
	u := strings.ToUpper(v)
	if a, ok := aliases[u]; ok {
		u = a
	}
	for _, e := range values {
		if u == e {
			return e, ""
		}
	}
	if v == "" {
		return "", "missing value; use " + orList(values)
	}
	return "", quote(v) + " is not a valid value; use " + orList(values)
}

// ParseLogLevel parses a logging level as the file does: case-insensitive,
// with the aliases INFO and WARNING. It is for `postern ctl loglevel` and
// XTND LOGLEVEL.
func ParseLogLevel(s string) (LogLevel, error) {
	e, msg := parseEnum(strings.TrimSpace(s), logLevels, logLevelAliases)
	if msg != "" {
		return "", &FieldError{Field: "Log-Level", Msg: "Log-Level: " + msg}
	}
	return LogLevel(e), nil
}

// quote quotes s for a message, shortening a long value.
func quote(s string) string {
	if r := []rune(s); len(r) > maxQuoted {
		return strconv.Quote(string(r[:maxQuoted-3])) + "..."
	}
	return strconv.Quote(s)
}

// maxQuoted is the longest value quoted whole in a message.
const maxQuoted = 60

func itoa(n int) string { return strconv.Itoa(n) }
