package imapwire

import "strings"

// INPROGRESS (RFC 9585): the progress notification of a long-running
// command, an untagged OK with the INPROGRESS response code.

// Progress is what an INPROGRESS response code tells (RFC 9585 §4): the
// tag of the command, how many items it has processed and how many it
// will process in all.
type Progress struct {
	// Tag is the command's tag. It is written NIL when it is empty or
	// holds "]" (§4: "it MUST be set to NIL"), or any octet a quoted
	// string cannot carry.
	Tag string
	// Counting is set when Done is known; otherwise both counts are
	// written NIL (§4: "If the PROGRESS is not available, both PROGRESS
	// and GOAL MUST be set to NIL").
	Counting bool
	Done     uint32
	// Goal is the number Done is expected to reach; zero when not known
	// (written NIL). A Done not below a known Goal is written as Goal-1:
	// GOAL "MUST be greater than PROGRESS" (§4).
	Goal uint32
}

// InProgress writes "* OK [INPROGRESS (tag done goal)] text" (RFC 9585 §5:
// resp-text-code =/ "INPROGRESS" [SP "(" inprogress-tag SP
// inprogress-state ")"], inprogress-tag = quoted / nil, inprogress-state =
// nil SP nil / number SP nil / number SP nz-number). The response code is
// for untagged OK responses only (§4), so there is no tagged form.
func (enc *Encoder) InProgress(p Progress, text string) error {
	enc.Untagged().Atom("OK").SP().Code("INPROGRESS", func(e *Encoder) {
		e.rawByte('(')
		if progressTagOK(p.Tag) {
			e.Quoted(p.Tag)
		} else {
			e.NIL()
		}
		switch {
		case !p.Counting:
			e.raw(" NIL NIL")
		case p.Goal == 0:
			e.SP().Number(p.Done).raw(" NIL")
		default:
			e.SP().Number(min(p.Done, p.Goal-1)).SP().Number(p.Goal)
		}
		e.rawByte(')')
	})
	if text == "" {
		text = "In progress" // RFC 9051 §9: text is 1*TEXT-CHAR
	}
	return enc.Text(text).CRLF()
}

// progressTagOK reports whether tag may be written as the quoted
// inprogress-tag: not empty, no "]" (RFC 9585 §4), and nothing but the
// printable ASCII a command tag is made of (RFC 9051 §9), so no quoted
// special either.
func progressTagOK(tag string) bool {
	if tag == "" || strings.ContainsAny(tag, `]"\`) {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if tag[i] <= ' ' || tag[i] >= 0x7f {
			return false
		}
	}
	return true
}
