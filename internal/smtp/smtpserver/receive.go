package smtpserver

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// maxDataLine is the longest line of message data we take, CRLF not
// counted. RFC 5321 §4.5.3.1.6 allows 1,000 octets with the CRLF; like
// go-smtp before us we accept twice that, for senders that stretch it.
const maxDataLine = 2000

// errLineTooLong refuses a message with a line over maxDataLine, after
// its data was read to the end (issue 12: closing the connection instead
// made sending MTAs retry for days).
var errLineTooLong = reply(500, 5, 5, 2, "Line too long: message lines are limited to 1000 octets (RFC 5321 §4.5.3.1.6)")

// errDataBroken means the connection failed in the middle of message
// data (a timeout, a reset, EOF): the client's next octets cannot be told
// from commands, so the connection must end.
var errDataBroken = errors.New("message data not received")

// receiver takes one message's data, from DATA (through a dotReader) or
// from BDAT chunks (RFC 3030), checks it and spools it. It never stops
// taking data: after the first problem (a bare line end, a NUL, a long
// line, the size limit, a spool error) it drops the rest, so that the
// caller can always read to the end of the data and stay in step with the
// client; finish then returns the problem.
type receiver struct {
	ss       *session
	fr       *FramingReader
	sp       *spool
	sink     io.Writer
	size     int64
	lineLen  int
	err      error // the first problem with the message (a reply)
	spoolErr error
}

func (ss *session) newReceiver() *receiver {
	r := &receiver{ss: ss, fr: NewFramingReader(nil), sp: newSpool(ss.s.opts.SpoolDir)}
	r.sink = r.sp
	if ss.s.opts.Mode == ModeSubmission && ss.s.opts.AcceptBareLF {
		// Submission needs AUTH before MAIL, so the sender is known.
		r.fr.AcceptBareLF()
		r.sink = NewCRLFWriter(r.sp)
	}
	return r
}

// Write takes the next octets of the message. It always succeeds.
func (r *receiver) Write(p []byte) (int, error) {
	r.fr.Check(p)
	r.size += int64(len(p))
	r.checkLines(p)
	if max := r.ss.s.opts.MaxMessageSize; max > 0 && r.size > max && r.err == nil {
		r.err = errTooBig
	}
	if r.err == nil && r.fr.Err() == nil && r.spoolErr == nil {
		_, r.spoolErr = r.sink.Write(p)
	}
	return len(p), nil
}

// checkLines tracks the length of the current line (up to any LF, bare
// or not) and notes a line over maxDataLine.
func (r *receiver) checkLines(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.lineLen += len(p)
			break
		}
		r.lineLen += i
		if r.lineLen > maxDataLine+1 && r.err == nil { // +1: the CR
			r.err = errLineTooLong
		}
		r.lineLen = 0
		p = p[i+1:]
	}
	if r.lineLen > maxDataLine+1 && r.err == nil {
		r.err = errLineTooLong
	}
}

// readFrom copies message data from src to its end, giving the client
// DataTimeout for each block rather than for the whole message. An error
// reading src means the connection broke (errDataBroken).
func (r *receiver) readFrom(src io.Reader) error {
	nc := r.ss.conn.Conn()
	buf := make([]byte, copyBufSize)
	for {
		nc.SetReadDeadline(time.Now().Add(r.ss.s.opts.DataTimeout))
		n, err := src.Read(buf)
		r.Write(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			r.ss.log.Info("message data not received; closing", "tx", r.ss.tx.id, "err", err)
			return errDataBroken
		}
	}
}

// discard drops the spool of a message that will not be delivered.
func (r *receiver) discard() { r.sp.Close() }

// finish ends the data and returns the message, or the reply refusing it.
func (r *receiver) finish() (*message, error) {
	ss := r.ss
	r.fr.End()
	err := r.err
	if err == nil {
		if ferr := r.fr.Err(); errors.Is(ferr, ErrNUL) {
			err = errNULByte
		} else if ferr != nil {
			err = errBareLineEnd
		}
	}
	if err != nil {
		r.discard()
		ss.log.Info("message refused", "tx", ss.tx.id, "reason", err.Error())
		return nil, err
	}
	if r.spoolErr != nil {
		r.discard()
		return nil, ss.internal("spool message", r.spoolErr)
	}
	msg := &message{sp: r.sp}
	if ss.s.opts.Mode == ModeSubmission {
		msg.added = ss.missingHeaders(r.sp.Head())
	}
	msg.prepend = ss.received() + msg.added
	if err := ss.inspect(msg); err != nil {
		r.discard()
		return nil, err
	}
	return msg, nil
}
