package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseSort(t *testing.T) {
	day := time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want SortArgs
	}{
		// RFC 5256 §3's examples.
		{" (SUBJECT) UTF-8 SINCE 1-Feb-1994", SortArgs{
			Criteria: []SortCriterion{{Key: SortSubject}}, Charset: "UTF-8", Key: SearchKey{Op: SearchSince, Date: day}}},
		{" (SUBJECT REVERSE DATE) UTF-8 ALL", SortArgs{
			Criteria: []SortCriterion{{Key: SortSubject}, {Key: SortDate, Reverse: true}}, Charset: "UTF-8", Key: SearchKey{Op: SearchAll}}},
		{` (SUBJECT) US-ASCII TEXT "not in mailbox"`, SortArgs{
			Criteria: []SortCriterion{{Key: SortSubject}}, Charset: "US-ASCII", Key: SearchKey{Op: SearchText, Value: "not in mailbox"}}},
		// What Roundcube sends (measured with a real Roundcube).
		{" (DATE) US-ASCII HEADER SUBJECT x UNDELETED", SortArgs{
			Criteria: []SortCriterion{{Key: SortDate}}, Charset: "US-ASCII", Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
				{Op: SearchHeader, Field: "SUBJECT", Value: "x"}, {Op: SearchNoFlag, Flag: FlagDeleted}}}}},
		// RFC 5957 §2 and every key, in any case; a quoted charset.
		{` (displayfrom Reverse DisplayTo arrival cc from size to) "utf-8" ALL`, SortArgs{
			Criteria: []SortCriterion{{Key: SortDisplayFrom}, {Key: SortDisplayTo, Reverse: true}, {Key: SortArrival},
				{Key: SortCc}, {Key: SortFrom}, {Key: SortSize}, {Key: SortTo}},
			Charset: "utf-8", Key: SearchKey{Op: SearchAll}}},
		// RFC 5267 §3 ESORT: RETURN options; RETURN () means ALL.
		{" RETURN (MIN MAX count all save) (DATE) UTF-8 ALL", SortArgs{
			Return:   SearchReturn{Extended: true, Min: true, Max: true, Count: true, All: true, Save: true},
			Criteria: []SortCriterion{{Key: SortDate}}, Charset: "UTF-8", Key: SearchKey{Op: SearchAll}}},
		// RFC 5267 §4: CONTEXT, UPDATE and PARTIAL (a reversed range is
		// the same range).
		{" RETURN (UPDATE PARTIAL 500:400 CONTEXT) (DATE) UTF-8 ALL", SortArgs{
			Return:   SearchReturn{Extended: true, Update: true, Context: true, Partial: &PartialRange{400, 500}},
			Criteria: []SortCriterion{{Key: SortDate}}, Charset: "UTF-8", Key: SearchKey{Op: SearchAll}}},
		{" RETURN () (REVERSE ARRIVAL) US-ASCII ALL", SortArgs{Return: SearchReturn{Extended: true, All: true},
			Criteria: []SortCriterion{{Key: SortArrival, Reverse: true}}, Charset: "US-ASCII", Key: SearchKey{Op: SearchAll}}},
		// Beyond RFC 5267 §3: RETURN after the charset, once.
		{" (ARRIVAL) us-ascii return (partial 2:4) all", SortArgs{
			Return:   SearchReturn{Extended: true, Partial: &PartialRange{2, 4}},
			Criteria: []SortCriterion{{Key: SortArrival}}, Charset: "us-ascii", Key: SearchKey{Op: SearchAll}}},
	}
	for _, tt := range tests {
		d := newDecoder(tt.in+"\r\n", Options{})
		got := ParseSortArgs(d)
		d.ExpectCRLF()
		if d.Err() != nil {
			t.Errorf("%q: %v", tt.in, d.Err())
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\ngot  %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{
		"", " ", " ()", " (SUBJECT)", " (SUBJECT) UTF-8", " (SUBJECT) UTF-8 ", " (BOGUS) UTF-8 ALL", " (REVERSE) UTF-8 ALL",
		" (REVERSE REVERSE DATE) UTF-8 ALL", " SUBJECT UTF-8 ALL", " (SUBJECT)UTF-8 ALL", " (SUBJECT  DATE) UTF-8 ALL",
		" (DATE) UTF-8 ALL ", " (DATE) UTF-8 NOSUCHKEY", " (DATE) {5}\r\nUTF-8 ALL", " RETURN (ALL)(DATE) UTF-8 ALL",
		" RETURN ALL (DATE) UTF-8 ALL", " RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL", " RETURN (BOGUS) (DATE) UTF-8 ALL",
		" RETURN (DATE) UTF-8 ALL", " (DATE) RETURN (ALL) UTF-8 ALL",
		" RETURN (ALL) (DATE) UTF-8 RETURN (ALL) ALL", " (DATE) UTF-8 RETURN (ALL)",
	} {
		d := newDecoder(in+"\r\n", Options{})
		ParseSortArgs(d)
		d.ExpectCRLF()
		var se *SyntaxError
		if !errors.As(d.Err(), &se) {
			t.Errorf("%q: got %v, want a syntax error", in, d.Err())
		}
	}
}

func TestParseThread(t *testing.T) {
	day := time.Date(2000, 3, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want ThreadArgs
	}{
		// RFC 5256 §3's examples.
		{" ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", ThreadArgs{Algorithm: ThreadOrderedSubject, Charset: "UTF-8", Key: SearchKey{Op: SearchSince, Date: day}}},
		{` ORDEREDSUBJECT US-ASCII TEXT "gewp"`, ThreadArgs{Algorithm: ThreadOrderedSubject, Charset: "US-ASCII", Key: SearchKey{Op: SearchText, Value: "gewp"}}},
		{" REFERENCES UTF-8 SINCE 5-MAR-2000", ThreadArgs{Algorithm: ThreadReferences, Charset: "UTF-8", Key: SearchKey{Op: SearchSince, Date: day}}},
		// What Roundcube sends.
		{" refs US-ASCII ALL UNDELETED", ThreadArgs{Algorithm: ThreadRefs, Charset: "US-ASCII", Key: SearchKey{Op: SearchAnd, Children: []SearchKey{
			{Op: SearchAll}, {Op: SearchNoFlag, Flag: FlagDeleted}}}}},
	}
	for _, tt := range tests {
		d := newDecoder(tt.in+"\r\n", Options{})
		got := ParseThreadArgs(d)
		d.ExpectCRLF()
		if d.Err() != nil {
			t.Errorf("%q: %v", tt.in, d.Err())
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\ngot  %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{
		"", " ", " REFERENCES", " REFERENCES UTF-8", " BOGUS UTF-8 ALL", " (REFERENCES) UTF-8 ALL", " REFERENCES UTF-8 (",
		" REFERENCES  UTF-8 ALL",
	} {
		d := newDecoder(in+"\r\n", Options{})
		ParseThreadArgs(d)
		d.ExpectCRLF()
		var se *SyntaxError
		if !errors.As(d.Err(), &se) {
			t.Errorf("%q: got %v, want a syntax error", in, d.Err())
		}
	}
}

func TestEncodeSortThread(t *testing.T) {
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		// RFC 5256 §4's examples.
		enc.Sort([]uint32{2, 3, 6}, 0)
		enc.Sort(nil, 0)
		enc.Sort([]uint32{5, 3}, 99) // RFC 7162 §3.1.6
		enc.Thread([]ThreadNode{
			{Num: 2},
			{Num: 3, Children: []ThreadNode{{Num: 6, Children: []ThreadNode{
				{Num: 4, Children: []ThreadNode{{Num: 23}}},
				{Num: 44, Children: []ThreadNode{{Num: 7, Children: []ThreadNode{{Num: 96}}}}},
			}}}},
		})
		enc.Thread([]ThreadNode{{Num: 0, Children: []ThreadNode{{Num: 3}, {Num: 5}}}})
		enc.Thread(nil)
		// A dummy with one child, a dummy below the root, a childless
		// dummy: none has a place in the grammar of their own.
		enc.Thread([]ThreadNode{
			{Num: 0, Children: []ThreadNode{{Num: 1, Children: []ThreadNode{{Num: 2}}}}},
			{Num: 4, Children: []ThreadNode{{Num: 0, Children: []ThreadNode{{Num: 5}, {Num: 6}}}}},
			{Num: 0},
		})
		enc.Thread([]ThreadNode{{Num: 0}})
	})
	want := "* SORT 2 3 6\r\n* SORT\r\n* SORT 5 3 (MODSEQ 99)\r\n" +
		"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n" +
		"* THREAD ((3)(5))\r\n" +
		"* THREAD\r\n" +
		"* THREAD (1 2)(4 (5)(6))\r\n" +
		"* THREAD\r\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// FuzzSortThread: the SORT and THREAD parsers never panic, and what they
// accept is whole: at least one known sort key, a known algorithm and a
// search key.
func FuzzSortThread(f *testing.F) {
	for _, s := range []string{
		" (SUBJECT REVERSE DATE) UTF-8 ALL", " (DISPLAYFROM) US-ASCII HEADER SUBJECT {3}\r\nabc",
		" REFERENCES UTF-8 SINCE 5-MAR-2000", " RETURN (MIN COUNT SAVE) (SIZE) UTF-8 ALL", " REFS \"UTF-8\" OR (FROM x) NOT UID 1:*", " ORDEREDSUBJECT X ()",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader([]byte(in+"\r\n"))), Options{MaxLineLength: 4096})
		s := ParseSortArgs(d)
		if d.Err() == nil {
			if len(s.Criteria) == 0 || s.Key.Op == 0 {
				t.Fatalf("%q: incomplete SORT %+v", in, s)
			}
			for _, c := range s.Criteria {
				if !sortKeys[c.Key] {
					t.Fatalf("%q: sort key %q", in, c.Key)
				}
			}
		}
		d = NewDecoder(bufio.NewReader(bytes.NewReader([]byte(in+"\r\n"))), Options{MaxLineLength: 4096})
		th := ParseThreadArgs(d)
		if d.Err() == nil {
			switch th.Algorithm {
			case ThreadOrderedSubject, ThreadReferences, ThreadRefs:
			default:
				t.Fatalf("%q: algorithm %q", in, th.Algorithm)
			}
			if th.Key.Op == 0 {
				t.Fatalf("%q: incomplete THREAD %+v", in, th)
			}
		}
	})
}

// TestSeqSetInOrder keeps the sort order of an ESORT ALL (RFC 5267 §3):
// ascending runs become ranges, nothing else merges or moves.
func TestSeqSetInOrder(t *testing.T) {
	for _, tt := range []struct {
		in   []uint32
		want string
	}{
		{[]uint32{1, 2, 3, 7, 5, 6, 4}, "1:3,7,5:6,4"},
		{[]uint32{5, 4, 3}, "5,4,3"},
		{[]uint32{0, 9}, "9"},
		{nil, ""},
		{[]uint32{4294967295, 1, 2}, "4294967295,1:2"},
	} {
		if got := SeqSetInOrder(tt.in...).String(); got != tt.want {
			t.Errorf("SeqSetInOrder(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
