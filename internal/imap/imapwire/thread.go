package imapwire

import (
	"slices"
	"strings"
)

// The THREAD algorithms the grammar accepts: RFC 5256 §3's two and
// Dovecot's REFS (a thread-alg-ext).
const (
	ThreadOrderedSubject = "ORDEREDSUBJECT"
	ThreadReferences     = "REFERENCES"
	ThreadRefs           = "REFS"
)

// ThreadArgs are the arguments of THREAD and UID THREAD (RFC 5256 §3).
type ThreadArgs struct {
	Algorithm string // one of the Thread… constants
	// Charset is mandatory; see SortArgs.Charset.
	Charset string
	Key     SearchKey
}

// ParseThreadArgs decodes the arguments of THREAD after the command name
// (RFC 5256 §5):
//
//	thread     = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
//	thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext
//
// An algorithm other than the three known is a syntax error: RFC 5256 §3
// answers BAD for "arguments invalid". It stops before the CRLF.
func ParseThreadArgs(dec *Decoder) ThreadArgs {
	var args ThreadArgs
	if !dec.ExpectSP() || !dec.ExpectAtom(&args.Algorithm) {
		return args
	}
	args.Algorithm = strings.ToUpper(args.Algorithm)
	switch args.Algorithm {
	case ThreadOrderedSubject, ThreadReferences, ThreadRefs:
	default:
		dec.setErr(syntaxErrorf("unknown thread algorithm %q", args.Algorithm))
		return args
	}
	if !dec.ExpectSP() {
		return args
	}
	args.Charset, args.Key = dec.searchCriteria()
	return args
}

// ThreadNode is one message of a THREAD response: its number (a sequence
// number or a UID) and its children. Num 0 is a dummy, a message that is
// not there but whose children belong together.
type ThreadNode struct {
	Num      uint32
	Children []ThreadNode
}

// Thread writes the untagged response of THREAD (RFC 5256 §4):
//
//	thread-data    = "THREAD" [SP 1*thread-list]
//	thread-list    = "(" (thread-members / thread-nested) ")"
//	thread-members = nz-number *(SP nz-number) [SP thread-nested]
//	thread-nested  = 2*thread-list
//
// A message with one child continues its thread-members; with more, each
// child is a thread-list of its own. A dummy at the root is written as the
// thread-lists of its children, "((3)(5))"; a dummy with one child, or
// below the root, gives way to its children.
func (enc *Encoder) Thread(threads []ThreadNode) error {
	enc.Untagged().raw("THREAD")
	threads = slices.DeleteFunc(slices.Clone(threads), func(t ThreadNode) bool {
		return t.Num == 0 && len(spliceDummies(t.Children)) == 0 // nothing to show
	})
	if len(threads) > 0 {
		enc.SP()
	}
	for _, t := range threads {
		enc.rawByte('(')
		enc.threadMembers(t)
		enc.rawByte(')')
	}
	return enc.CRLF()
}

// threadMembers writes what is inside a thread-list for n.
func (enc *Encoder) threadMembers(n ThreadNode) {
	kids := spliceDummies(n.Children)
	if n.Num == 0 {
		if len(kids) == 1 {
			enc.threadMembers(kids[0])
			return
		}
		enc.threadNested(kids)
		return
	}
	enc.Number(n.Num)
	for len(kids) == 1 {
		// A chain: "3 6 7" rather than nested lists, iteratively so that
		// a long chain costs no stack.
		enc.SP().Number(kids[0].Num)
		kids = spliceDummies(kids[0].Children)
	}
	if len(kids) > 1 {
		enc.SP().threadNested(kids)
	}
}

// threadNested writes 2*thread-list.
func (enc *Encoder) threadNested(kids []ThreadNode) {
	for _, k := range kids {
		enc.rawByte('(')
		enc.threadMembers(k)
		enc.rawByte(')')
	}
}

// spliceDummies replaces each dummy among nodes by its children: below the
// root, the grammar has no place for one.
func spliceDummies(nodes []ThreadNode) []ThreadNode {
	has := false
	for _, n := range nodes {
		if n.Num == 0 {
			has = true
			break
		}
	}
	if !has {
		return nodes
	}
	var out []ThreadNode
	for _, n := range nodes {
		if n.Num == 0 {
			out = append(out, spliceDummies(n.Children)...)
		} else {
			out = append(out, n)
		}
	}
	return out
}
