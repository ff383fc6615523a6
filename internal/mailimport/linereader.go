package mailimport

import (
	"bufio"
	"io"
)

// readBufferSize is the size of the bufio.Reader under mbox and VMS sources.
// Lines longer than this are handed on in pieces, so it bounds memory, not
// line length.
const readBufferSize = 64 << 10

// maxHeaderScan bounds the header block read ahead of each message (for
// flags and dates, and to see whether a VMS body has its own header).
const maxHeaderScan = 128 << 10

// lineReader hands out a file line by line without copying, keeping count
// of offsets and line numbers.
type lineReader struct {
	br   *bufio.Reader
	off  int64 // offset of the next byte to be returned
	line int   // number of the line that contains off, from 1
	bol  bool  // off is at the beginning of a line
	eof  bool  // the underlying reader returned io.EOF

	// Where the segment last returned by next starts.
	segOff  int64
	segLine int
}

func newLineReader(r io.Reader) lineReader {
	return lineReader{br: bufio.NewReaderSize(r, readBufferSize), line: 1, bol: true}
}

// next returns the next line including its '\n', or as much of it as fits
// in the buffer (then the following calls return the rest of the line with
// bol false). The slice is valid until the next call on r. At the end it
// returns io.EOF and no bytes; other errors are read errors.
func (r *lineReader) next() (seg []byte, bol bool, err error) {
	bol = r.bol
	r.segOff, r.segLine = r.off, r.line
	seg, err = r.br.ReadSlice('\n')
	switch err {
	case nil, bufio.ErrBufferFull:
		err = nil
	case io.EOF:
		r.eof = true
		if len(seg) > 0 {
			err = nil
		}
	}
	r.off += int64(len(seg))
	r.bol = len(seg) > 0 && seg[len(seg)-1] == '\n'
	if r.bol {
		r.line++
	}
	if len(seg) == 0 {
		r.bol = bol
	}
	return seg, bol, err
}

// complete reports whether seg, just returned by next, is a whole line: it
// ends in '\n', or it is the unterminated last line of the file.
func (r *lineReader) complete(seg []byte) bool {
	if len(seg) > 0 && seg[len(seg)-1] == '\n' {
		return true
	}
	// Not peeking for the end of the file here: that could move the buffer
	// under seg. A last line of exactly readBufferSize bytes without a
	// newline is the only one misjudged.
	return r.eof
}

// isBlankLine reports whether line (with its terminator) is empty.
func isBlankLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

// trimEOL removes a trailing "\n" or "\r\n".
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}

// readHeaderAhead reads from r into buf[:0] until buf holds the end of a
// header block (a blank line), limit bytes, or the end of r. It returns the
// grown buffer and the first read error other than io.EOF.
func readHeaderAhead(buf []byte, r io.Reader, limit int) ([]byte, error) {
	buf = buf[:0]
	scanned := 0
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(cap(buf), limit)
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if headerEnd(buf, scanned) >= 0 {
			return buf, nil
		}
		scanned = max(0, len(buf)-2)
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// headerEnd returns the offset just after the blank line that ends the
// header block in b, or -1. from is where to start looking (a hint: the
// part before it has been searched).
func headerEnd(b []byte, from int) int {
	if from == 0 {
		if len(b) >= 1 && b[0] == '\n' {
			return 1
		}
		if len(b) >= 2 && b[0] == '\r' && b[1] == '\n' {
			return 2
		}
	}
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i + 3
		}
	}
	return -1
}
