package message

import (
	"errors"
	"reflect"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range parseStructureTests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := mustParse(t, tc.msg)
			roundTrip(t, p)
		})
	}
	t.Run("envelope and fields", func(t *testing.T) {
		p, _ := mustParse(t, "From: A <a@x.example>\nTo: g: b@y.example;\nSubject: s\nMessage-ID: <m@x>\nIn-Reply-To: <r@x>\nDate: d\nContent-Type: text/plain; charset=utf-8\nContent-Language: en\nContent-Disposition: inline; x=y\nContent-ID: <c>\n\nbody\n")
		roundTrip(t, p)
	})
}

func roundTrip(t *testing.T, p *Part) {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	var q Part
	if err := q.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if !reflect.DeepEqual(&q, p) {
		t.Fatalf("round trip differs\n got %+v\nwant %+v", &q, p)
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	p, _ := mustParse(t, parseStructureTests[6].msg)
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Every proper prefix is truncated input.
	for n := 0; n < len(b); n++ {
		var q Part
		if err := q.UnmarshalBinary(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d bytes: err %v, want ErrCorrupt", n, err)
		}
	}
	var q Part
	if err := q.UnmarshalBinary(append(append([]byte(nil), b...), 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: err %v", err)
	}
	bad := append([]byte(nil), b...)
	bad[0] = 99
	if err := q.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad version: err %v", err)
	}
}

func TestMarshalRejectsBadOffsets(t *testing.T) {
	bad := []*Part{
		{HeaderStart: 5, BodyStart: 4, End: 10},
		{HeaderStart: 0, BodyStart: 4, End: 3},
		{HeaderStart: 0, BodyStart: 0, End: 10, Parts: []*Part{{HeaderStart: 0, BodyStart: 0, End: 11}}},
	}
	for i, p := range bad {
		if _, err := p.MarshalBinary(); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}
