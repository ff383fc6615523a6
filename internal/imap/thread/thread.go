package thread

import (
	"cmp"
	"slices"

	"github.com/postern/postern/internal/message"
)

// Algorithm is a THREAD algorithm.
type Algorithm uint8

// The threading algorithms.
const (
	// OrderedSubject is THREAD=ORDEREDSUBJECT (RFC 5256 §3): "poor man's
	// threading" by base subject.
	OrderedSubject Algorithm = iota + 1
	// References is THREAD=REFERENCES (RFC 5256 §3): Message-ID links,
	// then threads with the same base subject merged.
	References
	// Refs is Dovecot's THREAD=REFS: REFERENCES without the subject merge
	// (step 6), threads ordered by their latest message rather than by
	// their first.
	Refs
)

// Node is a message of a thread: Msg indexes the slice given to Thread,
// -1 for a dummy (a message that is referred to but not there). Dummies
// are only ever roots, with at least two children (REFERENCES) or one
// (REFS).
type Node struct {
	Msg      int
	Children []Node
}

// Thread returns the threads of msgs, given in sequence-number order, as a
// forest: every index of msgs appears exactly once.
func Thread(msgs []Message, alg Algorithm) []Node {
	if alg == OrderedSubject {
		return orderedSubject(msgs)
	}
	return referencesThreads(msgs, alg == Refs)
}

// orderedSubject is ORDEREDSUBJECT (RFC 5256 §3): the messages sorted by
// base subject and then sent date and split into one thread per base
// subject; the first message of a thread is its root and every other
// message a child of it; threads are ordered by the sent date of their
// first message. Sequence order breaks every tie.
func orderedSubject(msgs []Message) []Node {
	subj := make([]string, len(msgs))
	for i := range msgs {
		subj[i] = StringKey(&msgs[i], KeySubject)
	}
	order := Sort(msgs, []Criterion{{Key: KeySubject}, {Key: KeyDate}})
	var threads []Node
	for _, i := range order {
		if n := len(threads); n > 0 && subj[threads[n-1].Msg] == subj[i] {
			threads[n-1].Children = append(threads[n-1].Children, Node{Msg: i})
			continue
		}
		threads = append(threads, Node{Msg: i})
	}
	slices.SortStableFunc(threads, func(a, b Node) int {
		return cmp.Or(cmp.Compare(msgs[a.Msg].sentDate(), msgs[b.Msg].sentDate()), cmp.Compare(a.Msg, b.Msg))
	})
	return threads
}

// container is a node of the REFERENCES tree: a message, or a dummy
// (msg < 0) for a Message ID that is referred to but not present.
type container struct {
	msg      int
	parent   *container
	children []*container
	// Filled by sortTree: the sent date and index of the message the
	// container sorts by (its own, or a dummy's first child's).
	date int64
	seq  int
}

func (c *container) dummy() bool { return c.msg < 0 }

// referencesThreads is THREAD=REFERENCES (RFC 5256 §3), or REFS when refs.
func referencesThreads(msgs []Message, refs bool) []Node {
	roots := linkMessages(msgs)              // steps (1)-(3)
	roots = pruneDummies(roots, true, !refs) // step (4)
	if refs {
		return sortRefsRoots(msgs, roots)
	}
	sortSiblings(msgs, roots, false) // step (5)
	roots = mergeBySubject(msgs, roots)
	sortSiblings(msgs, roots, true) // step (7)
	return toNodes(roots)
}

// linkMessages is steps (1) to (3): a container per message and per
// referred-to Message ID, linked parent to child, and the containers
// without a parent, in the order they were made.
func linkMessages(msgs []Message) []*container {
	byID := make(map[string]*container, len(msgs))
	var all []*container
	get := func(id string) *container {
		c := byID[id]
		if c == nil {
			c = &container{msg: -1}
			byID[id] = c
			all = append(all, c)
		}
		return c
	}
	for i := range msgs {
		m := &msgs[i]
		// (1) A message without a valid Message ID, or with the ID of an
		// earlier message, gets a container of its own (a unique ID).
		var c *container
		if ids := message.MessageIDs(m.MessageID, 1); len(ids) == 1 && (byID[ids[0]] == nil || byID[ids[0]].dummy()) {
			c = get(ids[0])
		} else {
			c = &container{msg: -1}
			all = append(all, c)
		}
		c.msg = i
		// The references: References, else the first valid Message ID of
		// In-Reply-To.
		refs := message.MessageIDs(m.References, -1)
		if len(refs) == 0 {
			refs = message.MessageIDs(m.InReplyTo, 1)
		}
		// (1)(A) Each reference is the parent of the next, unless the
		// child already has a parent or the link would make a loop.
		for j := 0; j+1 < len(refs); j++ {
			p, ch := get(refs[j]), get(refs[j+1])
			if ch.parent == nil && !wouldLoop(p, ch) {
				link(p, ch)
			}
		}
		// (1)(B) The last reference is the parent of this message: any
		// earlier parent goes, and no loop is made; no references, no
		// parent.
		unlink(c)
		if len(refs) > 0 {
			if p := get(refs[len(refs)-1]); !wouldLoop(p, c) {
				link(p, c)
			}
		}
	}
	// (2) The root set; (3) the ID table is dropped with this function.
	var roots []*container
	for _, c := range all {
		if c.parent == nil {
			roots = append(roots, c)
		}
	}
	return roots
}

// wouldLoop reports whether making p the parent of ch would make a loop:
// p is ch or a descendant of ch.
func wouldLoop(p, ch *container) bool {
	for x := p; x != nil; x = x.parent {
		if x == ch {
			return true
		}
	}
	return false
}

func link(p, ch *container) {
	ch.parent = p
	p.children = append(p.children, ch)
}

func unlink(c *container) {
	p := c.parent
	if p == nil {
		return
	}
	p.children = slices.DeleteFunc(p.children, func(x *container) bool { return x == c })
	c.parent = nil
}

// pruneDummies is step (4), bottom-up: a dummy without children goes; a
// dummy with children goes and its children take its place, except at the
// root with more than one child. promoteOne: a root dummy with one child
// gives way to it (REFERENCES); REFS keeps it, which orders the same.
func pruneDummies(list []*container, root, promoteOne bool) []*container {
	out := make([]*container, 0, len(list))
	for _, c := range list {
		c.children = pruneDummies(c.children, false, promoteOne)
		if !c.dummy() {
			out = append(out, c)
			continue
		}
		switch {
		case len(c.children) == 0:
		case !root || len(c.children) == 1 && promoteOne:
			for _, ch := range c.children {
				ch.parent = c.parent
				out = append(out, ch)
			}
		default:
			out = append(out, c)
		}
	}
	return out
}
