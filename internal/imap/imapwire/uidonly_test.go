package imapwire

import "testing"

// TestUIDFetchWriter pins the UIDFETCH response of RFC 9586 §3: the UID
// where FETCH has the message number, the items as FETCH's.
func TestUIDFetchWriter(t *testing.T) {
	got := encode(t, EncoderOptions{}, func(enc *Encoder) {
		fw := enc.BeginUIDFetch(25996)
		fw.Item("FLAGS").Flags([]string{FlagSeen, FlagDeleted})
		fw.Item("MODSEQ").List(1, func(int) { enc.ModSeq(12) })
		if err := fw.End(); err != nil {
			t.Fatal(err)
		}
		enc.BeginUIDFetch(3).End() // no item: nothing written
	})
	want := "* 25996 UIDFETCH (FLAGS (\\Seen \\Deleted) MODSEQ (12))\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUsesMessageNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{" ALL", false},
		{" 1:5", true},
		{" *", true},
		{" UID 1:*", false},
		{" $", false},
		{" RETURN (SAVE) UNSEEN", false},
		{" NOT 3", true},
		{" OR SEEN (FLAGGED 2,4)", true},
		{" OR SEEN (FLAGGED UID 2,4)", false},
		{" CHARSET UTF-8 SUBJECT x NOT NOT 7", true},
	}
	for _, tt := range tests {
		d := newDecoder(tt.in+"\r\n", Options{})
		args := ParseSearchArgs(d)
		if !d.ExpectCRLF() {
			t.Fatalf("%q: %v", tt.in, d.Err())
		}
		if got := args.Key.UsesMessageNumbers(); got != tt.want {
			t.Errorf("%q: UsesMessageNumbers = %v, want %v", tt.in, got, tt.want)
		}
	}
}
