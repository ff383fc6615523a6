package message

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

func FuzzParse(f *testing.F) {
	for _, tc := range parseStructureTests {
		f.Add([]byte(crlf(tc.msg)))
	}
	for _, tc := range parseMalformedTests {
		f.Add([]byte(tc.msg))
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/digest; boundary=a\r\n\r\n--a\r\n\r\n--a--\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		p, err := Parse(bytes.NewReader(msg))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error that is not ErrMalformed: %v", err)
			}
			return
		}
		if err := checkInvariants(p, int64(len(msg))); err != nil {
			t.Fatal(err)
		}
		// The structure must not depend on how the input is chunked.
		q, err := Parse(iotest.OneByteReader(bytes.NewReader(msg)))
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("1-byte reads give a different result (err %v)", err)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary: %v", err)
		}
		var r Part
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary: %v", err)
		}
		if !reflect.DeepEqual(p, &r) {
			t.Fatalf("round trip differs")
		}
	})
}

func FuzzCRLFReader(f *testing.F) {
	for _, tc := range crlfReaderTests {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := normaliseRef(in)
		got, err := io.ReadAll(NewCRLFReader(bytes.NewReader(in)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
		got, err = io.ReadAll(iotest.OneByteReader(NewCRLFReader(iotest.HalfReader(bytes.NewReader(in)))))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("chunked: got %q, %v; want %q", got, err, want)
		}
		// Every line ends in CRLF and there is no bare CR or LF.
		if bytes.Count(got, []byte("\r")) != bytes.Count(got, []byte("\n")) ||
			bytes.Count(got, []byte("\r\n")) != bytes.Count(got, []byte("\n")) {
			t.Fatalf("bare CR or LF in %q", got)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	for _, tc := range parseStructureTests {
		p, err := Parse(bytes.NewReader([]byte(crlf(tc.msg))))
		if err != nil {
			f.Fatal(err)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{encodingVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		var top Part
		topErr := top.UnmarshalBinaryTop(b)
		if topErr != nil && !errors.Is(topErr, ErrCorrupt) {
			t.Fatalf("top: error that is not ErrCorrupt: %v", topErr)
		}
		var p Part
		if err := p.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error that is not ErrCorrupt: %v", err)
			}
			return
		}
		// What decodes must satisfy the offset invariants and re-encode
		// to the same bytes.
		if err := checkOffsets(&p, nil); err != nil {
			t.Fatal(err)
		}
		// The root alone decodes to the root without its children.
		root := p
		root.Parts = nil
		if topErr != nil || !reflect.DeepEqual(&top, &root) {
			t.Fatalf("UnmarshalBinaryTop = %+v, %v; want %+v", top, topErr, root)
		}
		b2, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// checkOffsets checks the offset invariants that UnmarshalBinary promises
// (structure rules such as "multipart has parts" are Parse's, not its).
func checkOffsets(p, parent *Part) error {
	if !(0 <= p.HeaderStart && p.HeaderStart <= p.BodyStart && p.BodyStart <= p.End) {
		return errors.New("offsets not monotone")
	}
	if parent != nil && (p.HeaderStart < parent.BodyStart || p.End > parent.End) {
		return errors.New("child outside parent")
	}
	prev := int64(-1)
	for _, c := range p.Parts {
		if c.HeaderStart < prev {
			return errors.New("children overlap")
		}
		if err := checkOffsets(c, p); err != nil {
			return err
		}
		prev = c.End
	}
	return nil
}
