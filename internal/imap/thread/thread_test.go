package thread

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// tm is a message for the tests: a label (shown in the rendered forest),
// its Message-ID, References and In-Reply-To, a subject and a date in
// minutes after base (-1: no Date field).
type tm struct {
	label, id, refs, irt, subject string
	min                           int
}

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func build(ms []tm) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = Message{
			InternalDate: base.Add(time.Duration(i) * time.Hour * 24 * 365),
			Subject:      m.subject,
			MessageID:    ids(m.id),
			References:   ids(m.refs),
			InReplyTo:    ids(m.irt),
		}
		if m.min >= 0 {
			out[i].Date = base.Add(time.Duration(m.min) * time.Minute)
		}
	}
	return out
}

// ids turns "a b" into "<a@x> <b@x>".
func ids(s string) string {
	var parts []string
	for _, f := range strings.Fields(s) {
		parts = append(parts, "<"+f+"@x>")
	}
	return strings.Join(parts, " ")
}

// render writes a forest as a THREAD response would (RFC 5256 §4), with
// labels for message numbers and "" for dummies' place.
func render(ms []tm, forest []Node) string {
	var b strings.Builder
	var members func(n Node)
	members = func(n Node) {
		switch {
		case n.Msg < 0 && len(n.Children) == 1:
			members(n.Children[0])
			return
		case n.Msg < 0:
			for _, c := range n.Children {
				b.WriteString("(")
				members(c)
				b.WriteString(")")
			}
			return
		}
		b.WriteString(ms[n.Msg].label)
		switch len(n.Children) {
		case 0:
		case 1:
			b.WriteString(" ")
			members(n.Children[0])
		default:
			b.WriteString(" ")
			for _, c := range n.Children {
				b.WriteString("(")
				members(c)
				b.WriteString(")")
			}
		}
	}
	for _, n := range forest {
		b.WriteString("(")
		members(n)
		b.WriteString(")")
	}
	return b.String()
}

func TestReferences(t *testing.T) {
	tests := []struct {
		name string
		ms   []tm
		want string
	}{
		{
			// RFC 5256 §4's example response, (2)(3 6 (4 23)(44 7 96)).
			name: "RFC 5256 example",
			ms: []tm{
				{label: "2", id: "a", subject: "one", min: 1},
				{label: "3", id: "b", subject: "two", min: 2},
				{label: "6", id: "c", refs: "b", subject: "Re: two", min: 3},
				{label: "4", id: "d", refs: "b c", subject: "Re: two", min: 4},
				{label: "23", id: "e", refs: "b c d", subject: "Re: two", min: 5},
				{label: "44", id: "f", refs: "b c", subject: "Re: two", min: 6},
				{label: "7", id: "g", refs: "c f", subject: "Re: two", min: 7},
				{label: "96", id: "h", refs: "f g", subject: "Re: two", min: 8},
			},
			want: "(2)(3 6 (4 23)(44 7 96))",
		},
		{
			name: "In-Reply-To when References has no valid ID",
			ms: []tm{
				{label: "1", id: "a", subject: "x", min: 1},
				{label: "2", id: "b", irt: "a", subject: "y", min: 2},
			},
			want: "(1 2)",
		},
		{
			name: "two replies to a missing parent share a dummy",
			ms: []tm{
				{label: "1", id: "a", refs: "gone", subject: "p", min: 2},
				{label: "2", id: "b", refs: "gone", subject: "q", min: 1},
			},
			want: "((2)(1))",
		},
		{
			name: "a dummy with one child at the root gives way",
			ms:   []tm{{label: "1", id: "a", refs: "gone", subject: "p", min: 1}},
			want: "(1)",
		},
		{
			name: "a dummy inside a thread gives way to its children",
			ms: []tm{
				{label: "1", id: "a", subject: "p", min: 1},
				{label: "2", id: "b", refs: "a gone", subject: "q", min: 2},
				{label: "3", id: "c", refs: "a gone", subject: "r", min: 3},
			},
			want: "(1 (2)(3))",
		},
		{
			name: "a reference loop is not linked",
			ms: []tm{
				{label: "1", id: "a", refs: "b", subject: "p", min: 1},
				{label: "2", id: "b", refs: "a", subject: "q", min: 2},
			},
			want: "(2 1)",
		},
		{
			name: "a message referring to itself",
			ms:   []tm{{label: "1", id: "a", refs: "a", subject: "p", min: 1}},
			want: "(1)",
		},
		{
			name: "a loop inside References",
			ms: []tm{
				{label: "1", id: "a", refs: "x y x", subject: "p", min: 1},
				{label: "2", id: "x", subject: "q", min: 2},
			},
			want: "(2 1)",
		},
		{
			name: "a link between references is not changed",
			ms: []tm{
				{label: "1", id: "c", refs: "a", subject: "p", min: 3},
				{label: "2", id: "a", subject: "q", min: 1},
				{label: "3", id: "b", refs: "a", subject: "r", min: 2},
				{label: "4", id: "d", refs: "a b c", subject: "s", min: 4},
			},
			want: "(2 (3)(1 4))",
		},
		{
			name: "a message's own References replace an inferred parent",
			ms: []tm{
				{label: "1", id: "x", refs: "a b", subject: "p", min: 3},
				{label: "2", id: "b", refs: "z", subject: "q", min: 2},
				{label: "3", id: "a", subject: "r", min: 1},
			},
			want: "(3)(2 1)",
		},
		{
			name: "a duplicate Message-ID gets a unique one",
			ms: []tm{
				{label: "1", id: "a", subject: "p", min: 1},
				{label: "2", id: "a", subject: "q", min: 2},
				{label: "3", id: "c", refs: "a", subject: "r", min: 3},
			},
			want: "(1 3)(2)",
		},
		{
			name: "no Message-ID",
			ms: []tm{
				{label: "1", subject: "p", min: 1},
				{label: "2", subject: "q", min: 2},
			},
			want: "(1)(2)",
		},
		{
			name: "a reply by subject joins the original",
			ms: []tm{
				{label: "1", id: "a", subject: "hello", min: 1},
				{label: "2", id: "b", subject: "Re: hello", min: 2},
			},
			want: "(1 2)",
		},
		{
			name: "an earlier reply goes under the later original",
			ms: []tm{
				{label: "1", id: "a", subject: "Re: hello", min: 1},
				{label: "2", id: "b", subject: "hello", min: 2},
			},
			want: "(2 1)",
		},
		{
			name: "same subject, neither a reply: a new dummy",
			ms: []tm{
				{label: "1", id: "a", subject: "hello", min: 1},
				{label: "2", id: "b", subject: "[list] hello", min: 2},
				{label: "3", id: "c", subject: "HELLO", min: 3},
			},
			want: "((1)(2)(3))",
		},
		{
			name: "two replies with the same subject: a new dummy",
			ms: []tm{
				{label: "1", id: "a", subject: "Re: hello", min: 1},
				{label: "2", id: "b", subject: "Fwd: hello", min: 2},
			},
			want: "((1)(2))",
		},
		{
			name: "a message joins a dummy of the same subject",
			ms: []tm{
				{label: "1", id: "a", refs: "gone", subject: "topic", min: 1},
				{label: "2", id: "b", refs: "gone", subject: "Re: topic", min: 2},
				{label: "3", id: "c", subject: "Re: topic", min: 3},
			},
			want: "((1)(2)(3))",
		},
		{
			name: "two dummies of the same subject merge",
			ms: []tm{
				{label: "1", id: "a", refs: "gone1", subject: "topic", min: 1},
				{label: "2", id: "b", refs: "gone1", subject: "topic", min: 2},
				{label: "3", id: "c", refs: "gone2", subject: "Re: topic", min: 3},
				{label: "4", id: "d", refs: "gone2", subject: "Re: topic", min: 4},
			},
			want: "((1)(2)(3)(4))",
		},
		{
			name: "empty subjects do not merge",
			ms: []tm{
				{label: "1", id: "a", subject: "", min: 1},
				{label: "2", id: "b", subject: "Re:", min: 2},
			},
			want: "(1)(2)",
		},
		{
			name: "missing dates sort by INTERNALDATE, ties by sequence",
			ms: []tm{
				{label: "1", id: "a", subject: "p", min: 5},
				{label: "2", id: "b", subject: "q", min: 5},
				{label: "3", id: "c", subject: "r", min: -1},
			},
			want: "(1)(2)(3)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(tt.ms, Thread(build(tt.ms), References))
			if got != tt.want {
				t.Errorf("REFERENCES = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRefs(t *testing.T) {
	ms := []tm{
		{label: "1", id: "a", subject: "hello", min: 1},
		{label: "2", id: "b", subject: "other", min: 2},
		{label: "3", id: "c", refs: "a", subject: "Re: hello", min: 3},
		{label: "4", id: "d", subject: "Re: hello", min: 4},
		{label: "5", id: "e", refs: "gone", subject: "p", min: 0},
		{label: "6", id: "f", refs: "gone", subject: "q", min: -1},
	}
	// No subject merge (4 stays alone); threads by their latest message:
	// 2 (minute 2), 1's (minute 3), 4 (minute 4), the dummy's (6's
	// INTERNALDATE, years later).
	want := "(2)(1 3)(4)((5)(6))"
	if got := render(ms, Thread(build(ms), Refs)); got != want {
		t.Errorf("REFS = %s, want %s", got, want)
	}
	// REFERENCES orders the same messages by the first message of each
	// thread and merges 4 into 1's thread.
	want = "((5)(6))(1 (3)(4))(2)"
	if got := render(ms, Thread(build(ms), References)); got != want {
		t.Errorf("REFERENCES = %s, want %s", got, want)
	}
}

func TestOrderedSubject(t *testing.T) {
	ms := []tm{
		{label: "1", subject: "hello", min: 5},
		{label: "2", subject: "Re: hello", min: 1},
		{label: "3", subject: "other", min: 3},
		{label: "4", subject: "[list] Re: hello", min: 9},
		{label: "5", subject: "Re: other", min: 4},
		{label: "6", subject: "third", min: 2},
		{label: "7", subject: "", min: 7},
		{label: "8", subject: "Re:", min: 6},
	}
	// Threads by base subject, ordered by their first message's date;
	// the first message is the root, every other one its child.
	want := "(2 (1)(4))(6)(3 5)(8 7)"
	if got := render(ms, Thread(build(ms), OrderedSubject)); got != want {
		t.Errorf("ORDEREDSUBJECT = %s, want %s", got, want)
	}
}

// FuzzThread builds up to 32 messages from the input (IDs, references and
// subjects from small alphabets, so that links, loops, duplicates and
// subject merges are common) and checks that SORT on every key gives a
// permutation and that every algorithm gives a forest holding each
// message exactly once, with dummies only at the root.
func FuzzThread(f *testing.F) {
	f.Add([]byte("abcdefghij"), int64(1))
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), int64(7))
	f.Fuzz(func(t *testing.T, data []byte, seed int64) {
		msgs := fuzzMessages(data, seed)
		var crit []Criterion
		for k := KeyArrival; k <= KeyDisplayTo; k++ {
			crit = append(crit, Criterion{Key: k, Reverse: k%2 == 0})
		}
		order := Sort(msgs, crit)
		seen := make([]bool, len(msgs))
		for _, i := range order {
			if i < 0 || i >= len(msgs) || seen[i] {
				t.Fatalf("Sort: %v is not a permutation of %d messages", order, len(msgs))
			}
			seen[i] = true
		}
		if len(order) != len(msgs) {
			t.Fatalf("Sort: %d of %d messages", len(order), len(msgs))
		}
		for _, alg := range []Algorithm{OrderedSubject, References, Refs} {
			forest := Thread(msgs, alg)
			seen := make([]bool, len(msgs))
			checkForest(t, forest, seen, true, alg)
			for i, ok := range seen {
				if !ok {
					t.Fatalf("algorithm %d: message %d missing from %v", alg, i, forest)
				}
			}
		}
	})
}

func fuzzMessages(data []byte, seed int64) []Message {
	subjects := []string{"", "x", "Re: x", "Fwd: x", "[l] x", "y", "Re: y", "[Fwd: y]", "=?UTF-8?Q?R=C3=A9:?= y"}
	var msgs []Message
	for len(data) >= 3 && len(msgs) < 32 {
		a, b, c := data[0], data[1], data[2]
		data = data[3:]
		m := Message{
			InternalDate: time.Unix(seed+int64(len(msgs)), 0),
			Subject:      subjects[int(c)%len(subjects)],
		}
		if a%5 != 0 {
			m.MessageID = fmt.Sprintf("<%d@x>", a%7)
		}
		for i := range int(b % 4) {
			m.References += fmt.Sprintf(" <%d@x>", (int(b)>>2+i*int(a))%9)
		}
		if b%3 == 0 {
			m.InReplyTo = fmt.Sprintf("<%d@x>", c%9)
		}
		if c%4 != 0 {
			m.Date = time.Unix(int64(c%6)*60, 0)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func checkForest(t *testing.T, nodes []Node, seen []bool, root bool, alg Algorithm) {
	t.Helper()
	for _, n := range nodes {
		if n.Msg < 0 {
			if !root {
				t.Fatalf("algorithm %d: a dummy below the root", alg)
			}
			if min := map[bool]int{true: 1, false: 2}[alg == Refs]; len(n.Children) < min {
				t.Fatalf("algorithm %d: a dummy root with %d children", alg, len(n.Children))
			}
		} else {
			if n.Msg >= len(seen) || seen[n.Msg] {
				t.Fatalf("algorithm %d: message %d twice or out of range", alg, n.Msg)
			}
			seen[n.Msg] = true
		}
		if alg == OrderedSubject && !root && len(n.Children) > 0 {
			t.Fatalf("ORDEREDSUBJECT: a grandchild")
		}
		checkForest(t, n.Children, seen, false, alg)
	}
}
