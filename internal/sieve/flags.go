package sieve

import "strings"

// applyFlags applies setflag, addflag or removeflag to the internal flag
// variable (RFC 5232 §3). Each string is a space-separated list of flags;
// flags compare case-insensitively and appear once (§3.1).
func applyFlags(cur []string, op string, args []string) []string {
	var given []string
	for _, a := range args {
		given = append(given, strings.Fields(a)...)
	}
	switch op {
	case "setflag":
		return addFlags(nil, given)
	case "addflag":
		return addFlags(cur, given)
	}
	var out []string
	for _, f := range cur {
		if !containsFold(given, f) {
			out = append(out, f)
		}
	}
	return out
}

func addFlags(cur, add []string) []string {
	out := append([]string(nil), cur...)
	for _, f := range add {
		if !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
