package imapwire

import (
	"slices"
	"testing"
)

func TestParseSeqSet(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want SeqSet
	}{
		{"single", "1", SeqSet{Ranges: []SeqRange{{1, 1}}}},
		{"range", "2:4", SeqSet{Ranges: []SeqRange{{2, 4}}}},
		{"star", "*", SeqSet{Ranges: []SeqRange{{Star, Star}}}},
		{"to star", "1:*", SeqSet{Ranges: []SeqRange{{1, Star}}}},
		{"reversed", "9:3", SeqSet{Ranges: []SeqRange{{9, 3}}}},
		{"list", "1,3:5,*", SeqSet{Ranges: []SeqRange{{1, 1}, {3, 5}, {Star, Star}}}},
		{"saved", "$", SeqSet{Saved: true}},
		{"saved tail", "1:2,$", SeqSet{Ranges: []SeqRange{{1, 2}}, Saved: true}},
		{"max", "4294967295", SeqSet{Ranges: []SeqRange{{1<<32 - 1, 1<<32 - 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSeqSet(tt.in)
			if err != nil || !slices.Equal(got.Ranges, tt.want.Ranges) || got.Saved != tt.want.Saved {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String: got %q, want %q", s, tt.in)
			}
		})
	}
	for _, in := range []string{"", "0", "1:0", "01", "1,", ",1", "1::2", "a", "1:2:3", "4294967296", "$$", "-1", "1 2"} {
		if got, err := ParseSeqSet(in); err == nil {
			t.Errorf("%q parsed as %+v", in, got)
		}
	}
}

func TestSeqSetContains(t *testing.T) {
	s, _ := ParseSeqSet("2:4,10:*,7")
	tests := []struct {
		n, max uint32
		want   bool
	}{
		{1, 20, false}, {2, 20, true}, {4, 20, true}, {5, 20, false}, {7, 20, true},
		{10, 20, true}, {20, 20, true}, {21, 20, false},
		// "10:*" with max 8 is "8:10" (RFC 9051 §9, seq-range).
		{8, 8, true}, {9, 8, true}, {0, 8, false},
	}
	for _, tt := range tests {
		if got := s.Contains(tt.n, tt.max); got != tt.want {
			t.Errorf("Contains(%d, %d) = %v, want %v", tt.n, tt.max, got, tt.want)
		}
	}
}

func TestSeqSetResolveNormalize(t *testing.T) {
	tests := []struct {
		name, in   string
		max        uint32
		resolved   string
		normalized string
	}{
		{"merge", "5,1:3,4", 10, "1:5", "1:5"},
		{"star", "3:*,1", 6, "1,3:6", "1,3:*"},
		{"reverse", "9:7,8", 10, "7:9", "7:9"},
		{"star below", "8:*", 5, "5:8", "8:*"},
		{"empty mailbox", "*", 0, "", "*"},
		{"duplicates", "2,2,2:2", 3, "2", "2"},
		{"saved kept", "$,1", 3, "1,$", "1,$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSeqSet(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Resolve(tt.max).String(); got != tt.resolved {
				t.Errorf("Resolve: got %q, want %q", got, tt.resolved)
			}
			if got := s.Normalize().String(); got != tt.normalized {
				t.Errorf("Normalize: got %q, want %q", got, tt.normalized)
			}
		})
	}
}

func TestSeqSetAllCountOf(t *testing.T) {
	s, _ := ParseSeqSet("5:*,1,2,3")
	got := slices.Collect(s.All(7))
	if want := []uint32{1, 2, 3, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("All: got %v, want %v", got, want)
	}
	if c := s.Count(7); c != 6 {
		t.Errorf("Count: %d", c)
	}
	full, _ := ParseSeqSet("1:*")
	if c := full.Count(1<<32 - 1); c != 1<<32-1 {
		t.Errorf("Count of 1:* at max: %d", c)
	}
	for n := range full.All(1<<32 - 1) {
		if n > 3 {
			break // stops early without walking four billion numbers
		}
	}
	if got := SeqSetOf(9, 3, 4, 5, 0, 1, 4).String(); got != "1,3:5,9" {
		t.Errorf("SeqSetOf: %q", got)
	}
}

func FuzzSeqSet(f *testing.F) {
	for _, s := range []string{"1", "1:*", "$", "1,3:5,*", "9:3", "4294967295:1"} {
		f.Add(s, uint32(10))
	}
	f.Fuzz(func(t *testing.T, in string, max uint32) {
		s, err := ParseSeqSet(in)
		if err != nil {
			return
		}
		// String gives back the same set; only "n:n" is shortened to "n".
		out := s.String()
		if back, err := ParseSeqSet(out); err != nil || !slices.Equal(back.Ranges, s.Ranges) || back.Saved != s.Saved {
			t.Fatalf("%q printed as %q which parses to %+v, %v", in, out, back, err)
		}
		if len(out) > len(in) {
			t.Fatalf("%q printed longer, as %q", in, out)
		}
		// Resolve keeps membership and yields sorted, disjoint ranges.
		r := s.Resolve(max)
		for i, rg := range r.Ranges {
			if rg.Start == 0 || rg.Start > rg.Stop || i > 0 && uint64(r.Ranges[i-1].Stop)+1 >= uint64(rg.Start) {
				t.Fatalf("%q resolved at %d to bad ranges %v", in, max, r.Ranges)
			}
		}
		probe := []uint32{1, 2, max, max - 1, max + 1}
		for _, rg := range s.Ranges {
			probe = append(probe, rg.Start, rg.Stop, rg.Start+1, rg.Stop+1, rg.Start-1)
		}
		n := s.Normalize()
		for _, p := range probe {
			if s.Contains(p, max) != r.Contains(p, max) || s.Contains(p, max) != n.Contains(p, max) {
				t.Fatalf("%q: membership of %d (max %d) changed by Resolve or Normalize", in, p, max)
			}
		}
		if back, err := ParseSeqSet(n.String()); err != nil || back.String() != n.String() {
			t.Fatalf("normalised %q does not round-trip: %v", n, err)
		}
	})
}
