package imapwire

import (
	"reflect"
	"testing"
)

// TestFetchSaveDate: SAVEDATE is a plain FETCH item (RFC 8514 §5:
// fetch-att =/ "SAVEDATE"), alone or in a list, any case; with a section
// or a suffix it is BAD.
func TestFetchSaveDate(t *testing.T) {
	for in, want := range map[string][]FetchItem{
		" SAVEDATE":                {{Attr: FetchSaveDate}},
		" (savedate INTERNALDATE)": {{Attr: FetchSaveDate}, {Attr: FetchInternalDate}},
	} {
		d := newDecoder(in+"\r\n", Options{})
		var got []FetchItem
		if !d.ExpectSP() || !d.ExpectFetchItems(&got) || !d.ExpectCRLF() || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %+v, %v; want %+v", in, got, d.Err(), want)
		}
	}
	for _, in := range []string{" SAVEDATE[]", " SAVEDATE.PEEK", " (SAVEDATE (LAZY))", " SAVEDATES"} {
		d := newDecoder(in+"\r\n", Options{})
		var got []FetchItem
		if d.ExpectSP() && d.ExpectFetchItems(&got) && d.ExpectCRLF() {
			t.Errorf("%q parsed as %+v, want a syntax error", in, got)
		}
	}
}
