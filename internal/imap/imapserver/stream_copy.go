package imapserver

import (
	"bufio"
	"io"
	"sync"
)

// bulkBufferSize is the write buffer a FETCH that sends message bodies
// borrows: most messages fit, so each response leaves in one write
// instead of one per 8 KiB connection buffer.
const bulkBufferSize = 64 << 10

// bulkWriters holds the borrowed buffers. It is a cache of scratch
// memory, not state (STYLE.md B1): which buffer a FETCH gets changes
// nothing but allocations. A large buffer per connection would stay with
// every idle connection; borrowed ones serve only the FETCH running.
var bulkWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bulkBufferSize) }}

// withBulkWriter runs fn with the encoder writing into a borrowed large
// buffer in front of the writer it had (the command's, see
// withCommandWriter), then passes on what fn wrote. A failure to pass it
// on is returned, as any write error. After a panic in fn its partial
// output is dropped.
func (c *conn) withBulkWriter(fn func() error) error {
	return c.withBorrowed(&bulkWriters, writeOnly, fn)
}

// Connection buffers (issue 15, memory per idle connection). The
// connection's own writer is small (connWriteBuffer); each command but
// IDLE, STARTTLS and COMPRESS writes into a borrowed cmdBufferSize buffer
// whose every flush goes through to the connection, so an idle
// connection holds 1 KiB for writing instead of 8 KiB. The reader's
// buffer (connReadBuffer) bounds nothing: the decoder reads a line of any
// length, and literals larger than it are read past it.
const (
	connReadBuffer  = 4 << 10
	connWriteBuffer = 1 << 10
	cmdBufferSize   = 8 << 10
)

// cmdWriters holds the borrowed command buffers (a cache of scratch
// memory, as bulkWriters).
var cmdWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, cmdBufferSize) }}

// withCommandWriter runs a command with the encoder writing into a
// borrowed buffer. A flush the handler asks for (a continuation request,
// a SASL challenge) reaches the client, as with the connection's writer.
func (c *conn) withCommandWriter(fn func() error) error {
	return c.withBorrowed(&cmdWriters, flushThrough, fn)
}

// withBorrowed puts a writer from pool in front of the encoder's while fn
// runs; wrap makes the io.Writer it passes its output to.
func (c *conn) withBorrowed(pool *sync.Pool, wrap func(*bufio.Writer) io.Writer, fn func() error) error {
	big := pool.Get().(*bufio.Writer)
	big.Reset(nil)
	own := c.enc.SetWriter(big)
	big.Reset(wrap(own))
	defer func() {
		c.enc.SetWriter(own)
		big.Reset(nil)
		pool.Put(big)
	}()
	err := fn()
	if ferr := big.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// writeOnly hides every method of a writer but Write: bufio's ReadFrom
// would hand a literal that starts on an empty buffer to the smaller
// writer's ReadFrom.
func writeOnly(w *bufio.Writer) io.Writer { return writeOnlyWriter{w} }

type writeOnlyWriter struct{ w io.Writer }

func (w writeOnlyWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

// flushThrough passes each write on and flushes w after it.
func flushThrough(w *bufio.Writer) io.Writer { return flushWriter{w} }

type flushWriter struct{ w *bufio.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}
