// Package inflate decodes a raw DEFLATE stream (RFC 1951) that stays open,
// as a COMPRESS=DEFLATE connection's input does (RFC 4978).
//
// Why not compress/flate: its reader hands out decoded data only at a
// stored block (a sync flush) or when its 32 KiB window fills. An IMAP
// client that ends each command with zlib's Z_PARTIAL_FLUSH (an empty
// fixed-code block, not byte-aligned; isync/mbsync does, and RFC 4978 §4
// allows it) would then wait forever for the answer. klauspost/compress's
// partial-block mode reads 10 bits past the end-of-block code, more than
// Z_PARTIAL_FLUSH sends.
//
// This decoder returns a block's data as soon as the block ends and never
// asks its reader for a byte before it needs one of that byte's bits, so
// it never waits for input the peer has not sent. Codes are decoded one
// bit at a time over canonical code counts (RFC 1951 §3.2.2): simple and
// exact rather than table-fast; client-to-server traffic is commands and
// uploads, not bulk downloads.
package inflate

import (
	"bufio"
	"errors"
	"io"
)

// Sizes from RFC 1951 §3.2.5 and §3.2.7.
const (
	windowSize = 32 << 10 // the farthest a distance may reach back
	maxBits    = 15       // the longest code
	numLitLen  = 286      // literal/length symbols that may occur
	numDist    = 30       // distance symbols that may occur
	endOfBlock = 256
	// chunk is how much output one step produces at most before Read
	// hands it out, so a long block cannot grow the history unbounded.
	chunk = 16 << 10
)

// ErrCorrupt reports a stream that breaks RFC 1951.
var ErrCorrupt = errors.New("inflate: corrupt DEFLATE stream")

// Base values and extra bits of the length and distance symbols
// (RFC 1951 §3.2.5).
var (
	lenBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}

	distBase  = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	// The order in which code-length code lengths are sent (§3.2.7).
	clenOrder = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// mode is where the decoder stands between calls.
type mode int

const (
	atHeader mode = iota // before a block header
	inStored             // inside a stored block
	inCoded              // inside a fixed- or dynamic-code block
	finished             // after the final block
)

type decoder struct {
	r     io.ByteReader
	bits  uint32 // input bits not yet used, the next one lowest
	nbits uint
	err   error // sticky: reported once the data before it is read

	hist []byte // output; hist[rd:] not yet handed out
	rd   int

	mode       mode
	final      bool // the current block is the last
	storedLeft int
	lit, dist  *huffman
}

// NewReader returns a reader of the data that r's DEFLATE stream encodes.
// It reads r a byte at a time, so r should be buffered (a bufio.Reader is
// used when r is not an io.ByteReader).
func NewReader(r io.Reader) io.ReadCloser {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &decoder{r: br}
}

// Close ends the reader; it does not close the underlying reader.
func (d *decoder) Close() error {
	if d.err == nil || d.err == io.EOF {
		d.err = errors.New("inflate: reader closed")
	}
	return nil
}

// Read hands out decoded data, decoding more only when none is left, and
// returns at the end of every block that produced data.
func (d *decoder) Read(p []byte) (int, error) {
	for d.rd == len(d.hist) {
		if d.err != nil {
			return 0, d.err
		}
		d.compact()
		d.step()
	}
	n := copy(p, d.hist[d.rd:])
	d.rd += n
	return n, nil
}

// compact drops history that is both handed out and out of reach, so the
// history stays under windowSize + 2*chunk + 258 octets (64 KiB and a match).
func (d *decoder) compact() {
	if len(d.hist) < windowSize+chunk {
		return
	}
	keep := d.hist[len(d.hist)-windowSize:]
	d.rd -= len(d.hist) - windowSize
	d.hist = append(d.hist[:0], keep...)
}

// step makes progress: a block header, a piece of a stored block, or
// symbols of a coded block up to its end or up to chunk octets.
func (d *decoder) step() {
	var err error
	switch d.mode {
	case atHeader:
		err = d.header()
	case inStored:
		err = d.stored()
	case inCoded:
		err = d.coded()
	case finished:
		err = io.EOF
	}
	if err != nil {
		d.err = err
	}
}

// endBlock moves on after a block's last octet.
func (d *decoder) endBlock() {
	d.mode = atHeader
	if d.final {
		d.mode = finished
	}
}

// need makes sure n ≤ 24 bits are buffered, reading no byte more than
// that takes.
func (d *decoder) need(n uint) error {
	for d.nbits < n {
		b, err := d.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		d.bits |= uint32(b) << d.nbits
		d.nbits += 8
	}
	return nil
}

// take returns the next n bits, least significant first (§3.1.1).
func (d *decoder) take(n uint) (int, error) {
	if err := d.need(n); err != nil {
		return 0, err
	}
	v := int(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v, nil
}

// header reads a block header (RFC 1951 §3.2.3) and what follows it up to
// the block's data.
func (d *decoder) header() error {
	h, err := d.take(3)
	if err != nil {
		return err
	}
	d.final = h&1 == 1
	switch h >> 1 {
	case 0:
		return d.storedHeader()
	case 1:
		d.lit, d.dist = fixedLit, fixedDist
	case 2:
		if d.lit, d.dist, err = d.dynamicTables(); err != nil {
			return err
		}
	default:
		return ErrCorrupt
	}
	d.mode = inCoded
	return nil
}

// storedHeader skips to the byte boundary and reads LEN and NLEN
// (RFC 1951 §3.2.4).
func (d *decoder) storedHeader() error {
	d.bits, d.nbits = 0, 0 // the rest of the current byte
	v, err := d.take(16)
	if err != nil {
		return err
	}
	nv, err := d.take(16)
	if err != nil {
		return err
	}
	if v != ^nv&0xffff {
		return ErrCorrupt
	}
	d.storedLeft = v
	d.mode = inStored
	if v == 0 {
		d.endBlock()
	}
	return nil
}

// stored copies a stored block's octets, as many as are at hand in one
// step (at least one, so a peer sending slowly still makes progress).
func (d *decoder) stored() error {
	for n := 0; d.storedLeft > 0 && n < chunk; n++ {
		b, err := d.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		d.hist = append(d.hist, b)
		d.storedLeft--
		if br, ok := d.r.(interface{ Buffered() int }); ok && br.Buffered() == 0 {
			break // hand out what came rather than block for the rest
		}
	}
	if d.storedLeft == 0 {
		d.endBlock()
	}
	return nil
}

// coded decodes literal/length and distance symbols (RFC 1951 §3.2.5).
func (d *decoder) coded() error {
	start := len(d.hist)
	for len(d.hist)-start < chunk {
		sym, err := d.lit.decode(d)
		if err != nil {
			return err
		}
		switch {
		case sym < endOfBlock:
			d.hist = append(d.hist, byte(sym))
		case sym == endOfBlock:
			d.endBlock()
			return nil
		default:
			if err := d.copyMatch(sym - 257); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyMatch reads a match's length extra bits and its distance and copies
// it from the history; a match may overlap its own output.
func (d *decoder) copyMatch(li int) error {
	if li >= len(lenBase) {
		return ErrCorrupt // symbols 286 and 287
	}
	extra, err := d.take(lenExtra[li])
	if err != nil {
		return err
	}
	length := lenBase[li] + extra
	di, err := d.dist.decode(d)
	if err != nil {
		return err
	}
	if di >= numDist {
		return ErrCorrupt // fixed-code distances 30 and 31
	}
	if extra, err = d.take(distExtra[di]); err != nil {
		return err
	}
	dist := distBase[di] + extra
	if dist > len(d.hist) {
		return ErrCorrupt // before the start of the stream
	}
	from := len(d.hist) - dist
	for i := range length {
		d.hist = append(d.hist, d.hist[from+i])
	}
	return nil
}
