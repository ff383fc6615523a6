package config

import (
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Format writes c back in the configuration file syntax: every option with
// its current (for a resolved Config, effective) value, globals first, then
// each section, one repeated line per list item. `postern check` can print
// it to show what the server will run with; Parse reads it back.
func (c *Config) Format() string {
	var b strings.Builder
	b.WriteString("! Postern configuration")
	if c.file != "" {
		b.WriteString(" from " + c.file)
	}
	b.WriteString("\n")
	section := "-"
	for _, o := range options() {
		if o.section != section {
			section = o.section
			if section != SectionGlobal {
				b.WriteString("\n[" + section + "]\n")
			}
		}
		for _, v := range c.formatOption(o) {
			b.WriteString(o.name + ":")
			if v != "" {
				b.WriteString(" " + v)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// formatOption returns the text of o's value, one string per line (a list
// has one per item, and at least one).
func (c *Config) formatOption(o *option) []string {
	f := reflect.ValueOf(o.ptr(c)).Elem()
	switch o.kind {
	case kBool:
		if f.Bool() {
			return []string{"ON"}
		}
		return []string{"OFF"}
	case kInt, kPort:
		return []string{strconv.FormatInt(f.Int(), 10)}
	case kSize:
		return []string{formatSize(f.Int())}
	case kDuration:
		return []string{formatDuration(time.Duration(f.Int()))}
	case kList:
		items := f.Interface().([]string)
		if len(items) == 0 {
			return []string{""}
		}
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = formatText(it)
		}
		return out
	case kNodes:
		nodes := f.Interface().([]DecnetNode)
		if len(nodes) == 0 {
			return []string{""}
		}
		out := make([]string, len(nodes))
		for i, n := range nodes {
			out[i] = n.Node + "=" + n.Host
		}
		return out
	}
	s := f.String()
	if o.offOK && s == "" {
		return []string{"OFF"}
	}
	return []string{formatText(s)}
}

// formatText quotes s when reading it back would otherwise change it.
func formatText(s string) string {
	if s != strings.TrimSpace(s) || len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return `"` + s + `"`
	}
	return s
}

// formatSize writes n with the largest binary suffix that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// formatDuration writes d as Postern reads it: "5d", "4h", "1h30m", "30s".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	if days := d / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		d -= days * 24 * time.Hour
	}
	if d > 0 {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}
