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
// buffer in front of the connection's own, then passes on what fn wrote.
// A failure to pass it on is returned, as any write error. After a panic
// in fn its partial output is dropped.
func (c *conn) withBulkWriter(fn func() error) error {
	big := bulkWriters.Get().(*bufio.Writer)
	// Only Write: bufio's ReadFrom would hand a literal that starts on
	// an empty buffer to the 8 KiB writer's ReadFrom.
	big.Reset(writeOnly{c.bw})
	own := c.enc.SetWriter(big)
	defer func() {
		c.enc.SetWriter(own)
		big.Reset(nil)
		bulkWriters.Put(big)
	}()
	err := fn()
	if ferr := big.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// writeOnly hides every method of a writer but Write.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }
