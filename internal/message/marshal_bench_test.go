package message

import (
	"bytes"
	"testing"
)

// BenchmarkUnmarshal compares decoding a whole multipart structure with
// decoding its root alone (UnmarshalBinaryTop, for FETCH ENVELOPE).
func BenchmarkUnmarshal(b *testing.B) {
	p, err := Parse(bytes.NewReader([]byte(crlf(parseStructureTests[6].msg))))
	if err != nil {
		b.Fatal(err)
	}
	data, err := p.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		unmarshal func(*Part, []byte) error
	}{{"all", (*Part).UnmarshalBinary}, {"top", (*Part).UnmarshalBinaryTop}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var q Part
				if err := bc.unmarshal(&q, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
