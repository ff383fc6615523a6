package imapwire

import (
	"bufio"
	"strings"
	"testing"
)

// TestEncoderVanished writes the VANISHED response of RFC 7162 §3.2.10:
// ranges compressed, (EARLIER) when asked, nothing for no UIDs, and a
// long list split into several responses of at most maxVanishedRanges
// ranges each, which together name every UID.
func TestEncoderVanished(t *testing.T) {
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		enc.Vanished(false, SeqSetOf(405, 407, 408, 409, 410, 411))
		enc.Vanished(true, SeqSetOf(45, 41, 43, 44))
		enc.Vanished(true, SeqSet{})
	})
	want := "* VANISHED 405,407:411\r\n* VANISHED (EARLIER) 41,43:45\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	var uids []uint32
	for i := range uint32(maxVanishedRanges + 10) {
		uids = append(uids, 2*i+1) // no two adjacent: one range each
	}
	got = encode(t, EncoderOptions{}, func(enc *Encoder) { enc.Vanished(true, SeqSetOf(uids...)) })
	lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
	if len(lines) != 2 {
		t.Fatalf("%d ranges in %d responses; want 2", len(uids), len(lines))
	}
	var all []uint32
	for _, l := range lines {
		s, ok := strings.CutPrefix(l, "* VANISHED (EARLIER) ")
		if !ok {
			t.Fatalf("line %q", l)
		}
		set, err := ParseSeqSet(s)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if len(set.Ranges) > maxVanishedRanges {
			t.Errorf("a response with %d ranges", len(set.Ranges))
		}
		for n := range set.All(0) {
			all = append(all, n)
		}
	}
	if len(all) != len(uids) || all[0] != uids[0] || all[len(all)-1] != uids[len(uids)-1] {
		t.Errorf("the responses name %d UIDs, want %d", len(all), len(uids))
	}
}

// TestEncoderVanishedStar refuses a set the client could not read as UIDs.
func TestEncoderVanishedStar(t *testing.T) {
	for _, s := range []string{"1:*", "$"} {
		set, _ := ParseSeqSet(s)
		var buf strings.Builder
		w := bufio.NewWriter(&buf)
		if err := NewEncoder(w, EncoderOptions{}).Vanished(false, set); err == nil {
			t.Errorf("Vanished(%s) wrote %q", s, buf.String())
		}
	}
}

// TestEncoderContextESearch writes the RFC 5267 §4 return data: PARTIAL
// with its range and results or NIL (§4.4), ADDTO and REMOVEFROM pairs in
// the order given (§4.3.3, §4.3.4; the examples of the RFC).
func TestEncoderContextESearch(t *testing.T) {
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		enc.ESearch(ESearchData{Tag: "A02", UID: true, Partial: &PartialResult{Range: PartialRange{23500, 24000}, Set: SeqSetInOrder(67, 100, 101, 102)}})
		enc.ESearch(ESearchData{Tag: "A04", UID: true, Partial: &PartialResult{Range: PartialRange{24000, 24500}}})
		enc.ESearch(ESearchData{Tag: "C01", UID: true, Updates: []ContextUpdate{
			{Pairs: []ContextPair{{1, SeqSetOf(2733)}}}, {Pairs: []ContextPair{{1, SeqSetOf(2731, 2732)}}}}})
		enc.ESearch(ESearchData{Tag: "B01", UID: true, Updates: []ContextUpdate{
			{Remove: true, Pairs: []ContextPair{{0, SeqSetOf(32768)}}}, {Pairs: []ContextPair{{0, SeqSetOf(5, 6)}, {0, SeqSetOf(9)}}}}})
	})
	want := "* ESEARCH (TAG \"A02\") UID PARTIAL (23500:24000 67,100:102)\r\n" +
		"* ESEARCH (TAG \"A04\") UID PARTIAL (24000:24500 NIL)\r\n" +
		"* ESEARCH (TAG \"C01\") UID ADDTO (1 2733) ADDTO (1 2731:2732)\r\n" +
		"* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 32768) ADDTO (0 5:6 0 9)\r\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
