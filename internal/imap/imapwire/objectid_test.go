package imapwire

import (
	"bufio"
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestObjectIDGrammar: objectid = 1*255(ALPHA / DIGIT / "_" / "-")
// (RFC 8474 §7), decoded after SEARCH EMAILID and THREADID, encoded in
// parentheses.
func TestObjectIDGrammar(t *testing.T) {
	for s, want := range map[string]bool{
		"M1": true, "a_b-C9": true, strings.Repeat("x", 255): true,
		"": false, strings.Repeat("x", 256): false, "M.1": false, "M 1": false, "é": false, "M+1": false,
	} {
		if got := IsObjectID(s); got != want {
			t.Errorf("IsObjectID(%q) = %v, want %v", s, got, want)
		}
	}
	good := map[string]SearchKey{
		" EMAILID M12":     {Op: SearchEmailID, Value: "M12"},
		" threadid T_1-x":  {Op: SearchThreadID, Value: "T_1-x"},
		" NOT EMAILID Fe0": {Op: SearchNot, Children: []SearchKey{{Op: SearchEmailID, Value: "Fe0"}}},
	}
	for in, want := range good {
		d := newDecoder(in+"\r\n", Options{})
		args := ParseSearchArgs(d)
		if d.Err() != nil || !reflect.DeepEqual(args.Key, want) {
			t.Errorf("%q: %+v, %v; want %+v", in, args.Key, d.Err(), want)
		}
	}
	for _, in := range []string{" EMAILID", " EMAILID M.1", " EMAILID \"M1\"", " THREADID (M1)", " EMAILID " + strings.Repeat("x", 256)} {
		d := newDecoder(in+"\r\n", Options{})
		if args := ParseSearchArgs(d); d.Err() == nil {
			t.Errorf("%q parsed: %+v", in, args.Key)
		}
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	enc := NewEncoder(w, EncoderOptions{})
	enc.Untagged().Atom("STATUS").SP().Atom("INBOX").SP().ObjectID("F1").CRLF()
	w.Flush()
	if want := "* STATUS INBOX (F1)\r\n"; b.String() != want || enc.Err() != nil {
		t.Errorf("got %q, %v; want %q", b.String(), enc.Err(), want)
	}
	if bad := NewEncoder(bufio.NewWriter(&b), EncoderOptions{}); bad.ObjectID("a b").Err() == nil {
		t.Error("ObjectID(\"a b\") encoded")
	}
}

// TestFetchObjectIDs: EMAILID and THREADID are plain FETCH items (RFC
// 8474 §5.3).
func TestFetchObjectIDs(t *testing.T) {
	d := newDecoder(" (EMAILID threadid UID)\r\n", Options{})
	var got []FetchItem
	want := []FetchItem{{Attr: FetchEmailID}, {Attr: FetchThreadID}, {Attr: FetchUID}}
	if !d.ExpectSP() || !d.ExpectFetchItems(&got) || !d.ExpectCRLF() || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v; want %+v", got, d.Err(), want)
	}
	d = newDecoder(" (MAILBOXID MESSAGES)\r\n", Options{})
	var items []StatusItem
	if !d.ExpectSP() || !d.ExpectStatusItems(&items) || !reflect.DeepEqual(items, []StatusItem{StatusMailboxID, StatusMessages}) {
		t.Errorf("STATUS items %v, %v", items, d.Err())
	}
}
