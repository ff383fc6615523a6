package config

import "strings"

// Change is one option whose value differs between two configurations.
type Change struct {
	// Section and Field name the option ("" for a global option).
	Section, Field string
	// Old and New are the values as a configuration file writes them
	// (list items joined with ", ").
	Old, New string
}

// Label names the option as messages do: "[IMAP] Server-Port" or "Hostname".
func (ch Change) Label() string {
	if ch.Section == SectionGlobal {
		return ch.Field
	}
	return "[" + ch.Section + "] " + ch.Field
}

// Changes lists the options whose effective values differ from a to b, in
// the order of the option table: what a reload finds changed in the file.
func Changes(a, b *Config) []Change {
	var out []Change
	for _, o := range options() {
		old, new := strings.Join(a.formatOption(o), ", "), strings.Join(b.formatOption(o), ", ")
		if old != new {
			out = append(out, Change{Section: o.section, Field: o.name, Old: old, New: new})
		}
	}
	return out
}
