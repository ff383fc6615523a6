package imapwire

import "strings"

// ListSelect holds the selection options of LIST-EXTENDED (RFC 5258 §3.1)
// and SPECIAL-USE (RFC 6154 §3).
type ListSelect struct {
	Subscribed     bool // SUBSCRIBED
	Remote         bool // REMOTE
	RecursiveMatch bool // RECURSIVEMATCH, only with another option that it modifies
	SpecialUse     bool // SPECIAL-USE
}

// ListReturn holds the return options of LIST-EXTENDED (RFC 5258 §3.2),
// LIST-STATUS (RFC 5819) and SPECIAL-USE.
type ListReturn struct {
	Subscribed bool         // SUBSCRIBED
	Children   bool         // CHILDREN
	SpecialUse bool         // SPECIAL-USE
	Status     []StatusItem // STATUS (…), nil when absent
}

// ListArgs are the arguments of LIST and LSUB. Patterns has one element
// except for the LIST-EXTENDED form with a parenthesised list.
type ListArgs struct {
	Select    ListSelect
	Reference string
	Patterns  []string
	Return    ListReturn
	// Extended is set when selection or return options were given, so the
	// response follows RFC 5258 (for instance no \NoInferiors shortcut for
	// non-existent parents with RECURSIVEMATCH).
	Extended bool
}

// ParseListArgs decodes the arguments of LIST after the command name:
// [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
// (RFC 5258 §6).
func ParseListArgs(dec *Decoder) ListArgs {
	var args ListArgs
	if !dec.ExpectSP() {
		return args
	}
	if dec.Peek('(') {
		args.Extended = true
		if !dec.listSelect(&args.Select) || !dec.ExpectSP() {
			return args
		}
	}
	if !dec.ExpectMailbox(&args.Reference) || !dec.ExpectSP() {
		return args
	}
	if dec.Peek('(') {
		args.Extended = true
		dec.ExpectList(func() bool {
			var p string
			if !dec.ExpectListMailbox(&p) {
				return false
			}
			args.Patterns = append(args.Patterns, p)
			return true
		})
		if dec.err == nil && len(args.Patterns) == 0 {
			dec.Expect(false, "mailbox pattern")
		}
	} else {
		var p string
		if dec.ExpectListMailbox(&p) {
			args.Patterns = []string{p}
		}
	}
	if dec.err == nil && dec.SP() {
		args.Extended = true
		dec.ExpectKeyword("RETURN")
		dec.ExpectSP()
		dec.listReturn(&args.Return)
	}
	return args
}

// ParseLSubArgs decodes the arguments of LSUB: SP mailbox SP list-mailbox.
func ParseLSubArgs(dec *Decoder) ListArgs {
	var args ListArgs
	var p string
	if dec.ExpectSP() && dec.ExpectMailbox(&args.Reference) && dec.ExpectSP() && dec.ExpectListMailbox(&p) {
		args.Patterns = []string{p}
	}
	return args
}

// listSelect decodes list-select-opts.
func (dec *Decoder) listSelect(s *ListSelect) bool {
	base := false
	ok := dec.ExpectList(func() bool {
		var opt string
		if !dec.ExpectAtom(&opt) {
			return false
		}
		switch strings.ToUpper(opt) {
		case "SUBSCRIBED":
			s.Subscribed, base = true, true
		case "SPECIAL-USE":
			s.SpecialUse, base = true, true
		case "REMOTE":
			s.Remote = true
		case "RECURSIVEMATCH":
			s.RecursiveMatch = true
		default:
			return dec.setErr(syntaxErrorf("unknown LIST selection option %q", opt))
		}
		return true
	})
	if ok && s.RecursiveMatch && !base {
		// RFC 5258 §3.1: RECURSIVEMATCH alone is an error.
		return dec.setErr(syntaxErrorf("RECURSIVEMATCH needs another selection option"))
	}
	return ok
}

// listReturn decodes "(" [return-option *(SP return-option)] ")".
func (dec *Decoder) listReturn(r *ListReturn) bool {
	return dec.ExpectList(func() bool {
		var opt string
		if !dec.ExpectAtom(&opt) {
			return false
		}
		switch strings.ToUpper(opt) {
		case "SUBSCRIBED":
			r.Subscribed = true
		case "CHILDREN":
			r.Children = true
		case "SPECIAL-USE":
			r.SpecialUse = true
		case "STATUS":
			return dec.ExpectSP() && dec.ExpectStatusItems(&r.Status)
		default:
			return dec.setErr(syntaxErrorf("unknown LIST return option %q", opt))
		}
		return true
	})
}
