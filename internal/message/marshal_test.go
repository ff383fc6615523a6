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
	t.Run("routes and empty fields", func(t *testing.T) {
		p, _ := mustParse(t, "From: <@r.example:a@x.example>\nTo: B <@a,@b:b@y.example>, c@z\nSubject:\nDate: \nMessage-ID:\n\nbody\n")
		env := p.Envelope
		if env.From[0].Route != "@r.example" || env.To[0].Route != "@a,@b" || env.Empty != EmptyDate|EmptySubject|EmptyMessageID {
			t.Fatalf("parsed %+v", env)
		}
		roundTrip(t, p)
	})
}

// TestUnmarshalBeforeRoutes: data written before routes and empty fields
// existed (address flags 0/1, envelope flag 1) decodes as before.
func TestUnmarshalBeforeRoutes(t *testing.T) {
	p, _ := mustParse(t, "From: a@x.example\nSubject: s\n\nbody\n")
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var q Part
	if err := q.UnmarshalBinary(b); err != nil || q.Envelope.Empty != 0 || q.Envelope.From[0] != (Address{Mailbox: "a", Host: "x.example"}) {
		t.Fatalf("got %+v, %v", q.Envelope, err)
	}
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
