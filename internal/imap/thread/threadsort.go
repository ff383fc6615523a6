package thread

import (
	"cmp"
	"slices"
)

// sortSiblings sorts list by sent date, sequence order breaking ties; a
// dummy sorts as its first child, once its children are sorted (RFC 5256
// §3, REFERENCES steps (5) and (7)). deep sorts every level below too
// (step 7); otherwise only the children of dummies are sorted, to find
// their first child (step 5).
func sortSiblings(msgs []Message, list []*container, deep bool) {
	for _, c := range list {
		if deep || c.dummy() {
			sortSiblings(msgs, c.children, deep)
		}
		if c.dummy() {
			c.date, c.seq = c.children[0].date, c.children[0].seq
		} else {
			c.date, c.seq = msgs[c.msg].sentDate(), c.msg
		}
	}
	slices.SortStableFunc(list, func(a, b *container) int {
		return cmp.Or(cmp.Compare(a.date, b.date), cmp.Compare(a.seq, b.seq))
	})
}

// threadSubject is the thread subject of a root (step (6)(B)(i)): the base
// subject of its message, or of its first child for a dummy.
type threadSubject struct {
	subject string
	reply   bool // the extraction removed a reply or forward marker
}

func subjectOf(msgs []Message, c *container) threadSubject {
	if c.dummy() {
		c = c.children[0]
	}
	s, reply := BaseSubject(msgs[c.msg].Subject)
	return threadSubject{s, reply}
}

// mergeBySubject is step (6): root threads with the same thread subject are
// gathered into one. It returns the new root set (unsorted).
func mergeBySubject(msgs []Message, roots []*container) []*container {
	subj := make(map[*container]threadSubject, len(roots))
	for _, c := range roots {
		subj[c] = subjectOf(msgs, c)
	}
	// (B) The subject table: per subject, the root to merge into. A dummy
	// wins over a message; a message that is not a reply or forward wins
	// over one that is; otherwise the first (oldest) root stays.
	table := make(map[string]*container)
	for _, c := range roots {
		s := subj[c]
		if s.subject == "" {
			continue
		}
		t, ok := table[s.subject]
		if !ok || !t.dummy() && (c.dummy() || subj[t].reply && !s.reply) {
			table[s.subject] = c
		}
	}
	// (C) Merge every other root into the table's.
	removed := make(map[*container]bool)
	var added []*container
	for _, c := range roots {
		s := subj[c]
		t := table[s.subject]
		if s.subject == "" || t == c {
			continue
		}
		removed[c] = true
		switch {
		case c.dummy():
			// Both are dummies (the table prefers dummies): c's children
			// become t's.
			for _, ch := range c.children {
				ch.parent = nil
				link(t, ch)
			}
			c.children = nil
		case t.dummy(), s.reply && !subj[t].reply:
			// c becomes a child of the dummy, or the reply of the message.
			link(t, c)
		default:
			// Neither: a new dummy holds both and takes t's place.
			d := &container{msg: -1}
			link(d, t)
			link(d, c)
			removed[t] = true
			table[s.subject] = d
			added = append(added, d)
		}
	}
	out := slices.DeleteFunc(roots, func(c *container) bool { return removed[c] })
	for _, d := range added {
		if !removed[d] {
			out = append(out, d)
		}
	}
	return out
}

// sortRefsRoots orders the threads of THREAD=REFS: every level by sent
// date as REFERENCES does, and the roots by the latest sent date in their
// thread, as Dovecot does; on a tie a dummy root comes first, then the
// root with the lower sequence number.
func sortRefsRoots(msgs []Message, roots []*container) []Node {
	sortSiblings(msgs, roots, true)
	latest := make(map[*container]int64, len(roots))
	for _, r := range roots {
		latest[r] = latestDate(msgs, r)
	}
	slices.SortStableFunc(roots, func(a, b *container) int {
		return cmp.Or(cmp.Compare(latest[a], latest[b]), cmp.Compare(a.msg, b.msg))
	})
	return toNodes(roots)
}

// latestDate is the latest sent date of the messages under c, c included.
func latestDate(msgs []Message, c *container) int64 {
	var d int64
	if !c.dummy() {
		d = msgs[c.msg].sentDate()
	}
	for i, ch := range c.children {
		if cd := latestDate(msgs, ch); i == 0 && c.dummy() || cd > d {
			d = cd
		}
	}
	return d
}

// toNodes converts the containers to the result.
func toNodes(list []*container) []Node {
	if len(list) == 0 {
		return nil
	}
	out := make([]Node, len(list))
	for i, c := range list {
		out[i] = Node{Msg: c.msg, Children: toNodes(c.children)}
	}
	return out
}
