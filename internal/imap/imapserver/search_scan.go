package imapserver

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"sync"

	"github.com/postern/postern/internal/message"
)

// searchChunk is how many bytes of a body a SEARCH reads at a time.
const searchChunk = 64 << 10

// searchScratch holds the buffers one SEARCH worker reuses from message to
// message, so that scanning allocates nothing per message or per chunk.
type searchScratch struct {
	br    *bufio.Reader // reads the top-level header
	win   []byte        // body window: searchChunk bytes plus the needle's overlap
	field []byte        // one header field as TEXT sees it
}

var searchScratches = sync.Pool{New: func() any {
	return &searchScratch{br: bufio.NewReaderSize(nil, 4096)}
}}

// headerReader returns the scratch's buffered reader, reading r.
func (sc *searchScratch) headerReader(r io.Reader) *bufio.Reader {
	sc.br.Reset(r)
	return sc.br
}

// release drops the reference to the last message and any buffer that a
// long needle or header field made large, and returns sc to the pool.
func (sc *searchScratch) release() {
	sc.br.Reset(nil)
	if cap(sc.win) > 2*searchChunk {
		sc.win = nil
	}
	if cap(sc.field) > 64<<10 {
		sc.field = nil
	}
	searchScratches.Put(sc)
}

// contains reports whether r contains needle (already ASCII lower-cased),
// comparing ASCII case-insensitively, in bounded memory: the window holds
// the bytes just read and the last len(needle)-1 bytes before them, so a
// match across two reads is found.
func (sc *searchScratch) contains(r io.Reader, needle []byte) bool {
	if len(needle) == 0 {
		return true
	}
	keep := len(needle) - 1
	if cap(sc.win) < searchChunk+keep {
		sc.win = make([]byte, searchChunk+keep)
	}
	win := sc.win[:searchChunk+keep]
	have := 0
	for {
		n, err := r.Read(win[have:])
		foldASCII(win[have : have+n])
		have += n
		if bytes.Contains(win[:have], needle) {
			return true
		}
		if have > keep {
			have = copy(win, win[have-keep:have])
		}
		if err != nil {
			return false
		}
	}
}

// fieldTextContains reports whether one header field, as TEXT's header
// half sees it ("Name: " and the decoded value, lower-cased by
// strings.ToLower), contains needle (lower-cased the same way). A field
// of plain ASCII without encoded words decodes to itself, so it is
// unfolded and lower-cased in the scratch buffer; any other field takes
// the general path, which decodes RFC 2047 words and lower-cases Unicode.
func (sc *searchScratch) fieldTextContains(f message.Field, needle string, needleBytes []byte) bool {
	b := append(sc.field[:0], f.Name...)
	b = append(b, ": "...)
	b = message.AppendUnfolded(b, f.RawValue())
	sc.field = b
	if isASCII(b) && !bytes.Contains(b, []byte("=?")) {
		return bytes.Contains(foldASCII(b), needleBytes)
	}
	return strings.Contains(strings.ToLower(f.Name+": "+message.DecodeHeaderText(f.Value())), needle)
}

// isASCII reports whether b holds only 7-bit bytes.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if (uint64(b[0])|uint64(b[1])<<8|uint64(b[2])<<16|uint64(b[3])<<24|
			uint64(b[4])<<32|uint64(b[5])<<40|uint64(b[6])<<48|uint64(b[7])<<56)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// foldASCII lower-cases ASCII letters in place and returns b. It works
// on eight bytes at a time: a byte is an upper-case letter when it is
// below 0x80 and its low seven bits are at least 'A' and at most 'Z'; the
// two comparisons are additions that set each byte's top bit, and cannot
// carry into the next byte.
func foldASCII(b []byte) []byte {
	const hi = 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		low := w &^ hi
		geA := low + 0x3f3f3f3f3f3f3f3f // 0x80 - 'A': top bit set when ≥ 'A'
		gtZ := low + 0x2525252525252525 // 0x7f - 'Z': top bit set when > 'Z'
		upper := (geA &^ gtZ) &^ w & hi
		binary.LittleEndian.PutUint64(b[i:], w|upper>>2)
	}
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}
