package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSearch(t *testing.T) {
	day := time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)
	seq := func(s string) SeqSet { set, _ := ParseSeqSet(s); return set }
	tests := []struct {
		name string
		in   string
		want SearchArgs
	}{
		{"all", " ALL", SearchArgs{Key: SearchKey{Op: SearchAll}}},
		{"implicit and", " FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", SearchArgs{Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchFlag, Flag: FlagFlagged},
			{Op: SearchSince, Date: day},
			{Op: SearchNot, Children: []SearchKey{{Op: SearchFrom, Value: "Smith"}}},
		}}}},
		{"or and list", " OR (SEEN 1:5) UID 3,*", SearchArgs{Key: SearchKey{Op: SearchOr, Children: []SearchKey{
			{Op: SearchAnd, Children: []SearchKey{{Op: SearchFlag, Flag: FlagSeen}, {Op: SearchSeqSet, SeqSet: seq("1:5")}}},
			{Op: SearchUID, SeqSet: seq("3,*")},
		}}}},
		{"charset raw bytes", " CHARSET ISO-8859-1 BODY {4}\r\ncaf\xe9", SearchArgs{Charset: "ISO-8859-1", Key: SearchKey{Op: SearchBody, Value: "caf\xe9"}}},
		{"return", " RETURN (MIN COUNT) UNSEEN", SearchArgs{Return: SearchReturn{Extended: true, Min: true, Count: true},
			Key: SearchKey{Op: SearchNoFlag, Flag: FlagSeen}}},
		{"return empty is all", " RETURN () $", SearchArgs{Return: SearchReturn{Extended: true, All: true},
			Key: SearchKey{Op: SearchSeqSet, SeqSet: SeqSet{Saved: true}}}},
		{"save only", " RETURN (SAVE) DELETED", SearchArgs{Return: SearchReturn{Extended: true, Save: true},
			Key: SearchKey{Op: SearchFlag, Flag: FlagDeleted}}},
		{"header larger keyword", " HEADER X-Spam \"\" LARGER 100 KEYWORD $Junk UNKEYWORD foo", SearchArgs{Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchHeader, Field: "X-Spam"},
			{Op: SearchLarger, Size: 100},
			{Op: SearchFlag, Flag: "$Junk"},
			{Op: SearchNoFlag, Flag: "foo"},
		}}}},
		{"rev1 keys", " NEW OLD", SearchArgs{Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchAnd, Children: []SearchKey{{Op: SearchFlag, Flag: FlagRecent}, {Op: SearchNoFlag, Flag: FlagSeen}}},
			{Op: SearchNoFlag, Flag: FlagRecent},
		}}}},
		{"modseq", ` MODSEQ "/flags/\\draft" all 620162338`, SearchArgs{Key: SearchKey{Op: SearchModSeq, ModSeq: 620162338}}},
		{"sent dates quoted", ` SENTBEFORE "1-Feb-1994" SENTON 1-feb-1994`, SearchArgs{Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchSentBefore, Date: day}, {Op: SearchSentOn, Date: day},
		}}}},
		// RFC 5032 WITHIN.
		{"older younger", " older 1800 YOUNGER 4294967295", SearchArgs{Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchOlder, Interval: 1800}, {Op: SearchYounger, Interval: 1<<32 - 1},
		}}}},
		// RFC 8514 SAVEDATE.
		{"save dates", ` SAVEDBEFORE 1-Feb-1994 savedon "1-Feb-1994" SAVEDSINCE 01-FEB-1994 SAVEDATESUPPORTED`, SearchArgs{Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchSavedBefore, Date: day}, {Op: SearchSavedOn, Date: day}, {Op: SearchSavedSince, Date: day}, {Op: SearchSaveDateSupported},
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecoder(tt.in+"\r\n", Options{})
			got := ParseSearchArgs(d)
			d.ExpectCRLF()
			if d.Err() != nil {
				t.Fatal(d.Err())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	for _, in := range []string{
		"", " ", " ()", " FOO", " OR SEEN", " NOT", " SINCE 30-Feb-1994", " LARGER x", " UID x",
		" RETURN (BOGUS) ALL", " CHARSET", " KEYWORD \\Seen", " HEADER X", " MODSEQ \"/x\" bogus 1", " ALL  SEEN",
		" OLDER", " OLDER 0", " YOUNGER -1", " YOUNGER 4294967296", " OLDER 01", " YOUNGER x",
		" SAVEDON", " SAVEDBEFORE 32-Jan-2026", " SAVEDSINCE 1-Feb-1994 12:00:00", " SAVEDATESUPPORTED(",
	} {
		d := newDecoder(in+"\r\n", Options{})
		ParseSearchArgs(d)
		d.ExpectCRLF()
		var se *SyntaxError
		if !errors.As(d.Err(), &se) {
			t.Errorf("%q: got %v, want a syntax error", in, d.Err())
		}
	}
}

// TestSearchNesting: parentheses, NOT and OR each count one level, and
// MaxNesting levels are allowed, one more is BAD, whatever the mix.
func TestSearchNesting(t *testing.T) {
	for name, f := range map[string]func(n int) string{
		"NOT":    func(n int) string { return strings.Repeat("NOT ", n) + "ALL" },
		"parens": func(n int) string { return strings.Repeat("(", n) + "ALL" + strings.Repeat(")", n) },
		"OR":     func(n int) string { return strings.Repeat("OR ALL ", n) + "ALL" },
		"mixed": func(n int) string {
			return strings.Repeat("(NOT ", n/2) + strings.Repeat("NOT ", n%2) + "ALL" + strings.Repeat(")", n/2)
		},
	} {
		for n, ok := range map[int]bool{MaxNesting: true, MaxNesting + 1: false} {
			d := newDecoder(" "+f(n)+"\r\n", Options{})
			ParseSearchArgs(d)
			if got := d.Err() == nil; got != ok {
				t.Errorf("%s nested %d deep: parsed %v, want %v (%v)", name, n, got, ok, d.Err())
			}
		}
	}
}

func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		" ALL", " OR (SEEN 1:5) UID 3,*", " CHARSET UTF-8 TEXT {3}\r\nabc", " RETURN (MIN MAX) $",
		" NOT NOT NOT DELETED", " HEADER Subject \"x\" SINCE 1-Feb-1994", ` MODSEQ "/flags/\\draft" all 1`,
		" OR OLDER 3600 YOUNGER 60", " OR EMAILID M1 THREADID T-1_a",
		" OR SAVEDON 1-Feb-1994 NOT SAVEDATESUPPORTED", ` SAVEDSINCE "28-Dec-2014" SAVEDBEFORE 1-Jan-2015`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader([]byte(in+"\r\n"))), Options{MaxLineLength: 4096})
		args := ParseSearchArgs(d)
		if d.Err() != nil {
			return
		}
		checkSearchKey(t, args.Key, 0)
	})
}

// checkSearchKey checks the shape of a parsed tree.
func checkSearchKey(t *testing.T, k SearchKey, depth int) {
	t.Helper()
	if depth > MaxNesting+1 {
		t.Fatalf("tree deeper than the nesting limit")
	}
	switch k.Op {
	case SearchOr:
		if len(k.Children) != 2 {
			t.Fatalf("OR with %d children", len(k.Children))
		}
	case SearchNot:
		if len(k.Children) != 1 {
			t.Fatalf("NOT with %d children", len(k.Children))
		}
	case SearchAnd:
		if len(k.Children) < 2 {
			t.Fatalf("AND with %d children", len(k.Children))
		}
	case SearchSeqSet, SearchUID:
		if k.SeqSet.IsEmpty() {
			t.Fatalf("empty sequence set")
		}
	case 0:
		t.Fatalf("key without an op")
	}
	for _, c := range k.Children {
		checkSearchKey(t, c, depth+1)
	}
}
