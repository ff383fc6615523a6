package config

import (
	"sort"
	"strings"
)

// envConfig is the variable that names the configuration file; it is not
// an option, so applyEnv leaves it alone.
const envConfig = "POSTERN_CONFIG"

// applyEnv applies the POSTERN_* variables of environ (KEY=value strings)
// over what the file set: POSTERN_<FIELD> for a global option,
// POSTERN_<SECTION>_<FIELD> for a section's, upper-case with dashes as
// underscores. A list variable replaces the list. Unknown POSTERN_
// variables and bad values are returned as problems.
func (c *Config) applyEnv(environ []string) []error {
	var errs []error
	for _, kv := range environ {
		key, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, "POSTERN_") || key == envConfig {
			continue
		}
		o := optionTable().byEnv[key]
		if o == nil {
			msg := "unknown variable; no option has this name"
			if s := nearest(key, envNames()); s != "" {
				msg = "unknown variable; did you mean " + s + "?"
			}
			errs = append(errs, &FieldError{File: c.file, Env: key, Msg: msg})
			continue
		}
		fe := &FieldError{File: c.file, Env: key, Field: o.name, Section: o.section}
		if l := len([]rune(strings.TrimSpace(value))); l > maxValueLen {
			fe.Msg = o.label() + ": value is " + itoa(l) + " characters long; at most " + itoa(maxValueLen) + " are allowed"
			errs = append(errs, fe)
			continue
		}
		if msg := o.set(c, value, false); msg != "" {
			fe.Msg = o.label() + ": " + msg
			errs = append(errs, fe)
			continue
		}
		c.markSet(o, origin{env: key})
	}
	return errs
}

// envNames lists every variable name that sets an option, sorted.
func envNames() []string {
	var out []string
	for k := range optionTable().byEnv {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
