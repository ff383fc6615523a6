package imapserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"io"
	"strings"
	"sync"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/inflate"
)

// COMPRESS=DEFLATE (RFC 4978). After the tagged OK both directions are
// raw DEFLATE (RFC 1951, no zlib or gzip framing; RFC 4978 §3), below
// the buffered reader and writer and above TLS: compression goes inside
// TLS (RFC 4978 §3), and COMPRESS after STARTTLS is the only order possible,
// since STARTTLS is refused once authenticated and COMPRESS before.
//
// Memory (docs/imap.md states the figures). Inflating needs the client's
// 32 KiB window for the whole connection: the decompressor with its
// Huffman tables and read buffer is about 45 KiB per compressed
// connection. Deflating does not need history: a DEFLATE stream may
// continue with blocks that refer only to their own data, so every
// write is compressed by a compressor borrowed from a pool and ended
// with a sync flush (RFC 1951 §3.2.4 empty stored block; RFC 4978 §4
// asks for a flush after each response burst). A compressor (about
// 1.2 MB for compress/flate at BestSpeed) is thus held only by the
// connections writing at that instant, never by an idle one.

// deflateLevel is compress/flate's BestSpeed: the cheapest CPU per byte,
// and its Reset costs nothing (the higher levels clear 640 KiB of hash
// chains on every Reset).
const deflateLevel = flate.BestSpeed

// inflateBufferSize is the read buffer under the decompressor.
const inflateBufferSize = 4 << 10

// deflaters holds idle compressors. It is a cache of scratch memory, not
// state (STYLE.md B1): Reset makes a compressor equivalent to a new one,
// with no reference to earlier data.
var deflaters = sync.Pool{New: func() any {
	zw, err := flate.NewWriter(io.Discard, deflateLevel)
	if err != nil {
		panic(err) // only for an invalid level, a constant here
	}
	return zw
}}

// cmdCompress: RFC 4978 §3.
func (c *conn) cmdCompress(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseCompressArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	// RFC 4978 §3: BAD for "command unknown or arguments invalid"; the
	// only algorithm defined is DEFLATE.
	if !strings.EqualFold(args.Algorithm, "DEFLATE") {
		return badf("Unsupported compression algorithm")
	}
	// RFC 4978 §3 and RFC 5530 §3: NO [COMPRESSIONACTIVE] when
	// compression is already on. (Go's TLS never compresses.)
	if c.deflate {
		return nof("COMPRESSIONACTIVE", "DEFLATE active via COMPRESS")
	}
	// §3: compression starts right after the CRLF of the tagged OK.
	c.tagged(tag, "OK", "", "DEFLATE active")
	c.resp.sent = true
	if !c.flush() {
		return errConnBroken
	}
	c.startDeflate()
	return nil
}

// startDeflate puts DEFLATE streams between the connection and its
// buffered reader and writer. Bytes the client sent after the COMPRESS
// line are already in the old reader's buffer: they are the start of the
// compressed stream.
func (c *conn) startDeflate() {
	pending := bytes.Clone(c.peekBuffered())
	raw := io.MultiReader(bytes.NewReader(pending), c.nc)
	// internal/inflate, not compress/flate: compress/flate's reader holds
	// back the data of a block that ends in a partial flush (zlib
	// Z_PARTIAL_FLUSH, isync/mbsync's), so the command would never run.
	zr := inflate.NewReader(bufio.NewReaderSize(raw, inflateBufferSize))
	c.deflate = true
	c.setStreams(zr, deflateWriter{dst: deadlineWriter{c}})
}

// peekBuffered returns what the buffered reader holds, without consuming.
func (c *conn) peekBuffered() []byte {
	b, _ := c.br.Peek(c.br.Buffered())
	return b
}

// deflateWriter compresses each write into complete DEFLATE blocks ending
// in a sync flush, so that whatever the buffered writer passes on (at a
// flush, or when its buffer fills) reaches the client at once and can be
// inflated without waiting for more (RFC 4978 §4).
type deflateWriter struct{ dst io.Writer }

func (w deflateWriter) Write(p []byte) (int, error) {
	zw := deflaters.Get().(*flate.Writer)
	zw.Reset(w.dst)
	defer func() {
		zw.Reset(io.Discard) // drop the reference to the connection
		deflaters.Put(zw)
	}()
	if _, err := zw.Write(p); err != nil {
		return 0, err
	}
	// Flush, never Close: Close would end the stream with a final block.
	if err := zw.Flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}
