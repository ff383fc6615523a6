package body

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// Prepared is an append request after the pipeline: its body written,
// and what the index keeps of it.
type Prepared struct {
	Size      int64
	Sum       []byte        // SHA-256 of the body
	Part      *message.Part // the structure
	PartBin   []byte        // Part, marshalled
	VMS       []byte        // store.VMSEnvelope as JSON, or nil
	Foreign   bool          // store.AppendRequest.Foreign, or a NUL in the body
	Head      []byte        // foreign: the first octets of the body (store.MessageData.ForeignHead)
	Flags     store.Flags   // canonical
	Date      time.Time     // the internal date; now when the request had none
	ImportKey string
	Doc       *search.Doc // what the search index keeps (IndexDoc); nil: left unindexed
	Preview   string      // RFC 8970 §3.1, by search.Preview
	Thread    store.ThreadRefs
}

// Prepare runs one request through the pipeline: it checks the flags,
// streams the content through the CRLF normaliser (unless req.Exact) into
// w, counting it against req.MaxSize (store.ErrTooBig), hashing and
// parsing it on the way (message.ErrMalformed for what is no message),
// then reads back from w the foreign head. It neither syncs nor commits
// w, nor makes the search index entry (IndexDoc): a store that indexes
// after acknowledgement reads it from the stored body later. now gives the internal date of a
// request without one.
func Prepare(ctx context.Context, w Writer, req store.AppendRequest, now time.Time) (*Prepared, error) {
	p := &Prepared{ImportKey: req.ImportKey, Date: req.InternalDate}
	var err error
	if p.Flags, err = store.CanonicalFlags(req.Flags); err != nil {
		return nil, err
	}
	if p.Date.IsZero() {
		p.Date = now
	}
	if req.VMS != nil {
		if p.VMS, err = json.Marshal(req.VMS); err != nil {
			return nil, err
		}
	}
	var nul nulDetector
	part, sum, size, err := writeContent(ctx, io.MultiWriter(w, &nul), req)
	if err != nil {
		return nil, err
	}
	p.Part, p.Sum, p.Size = part, sum, size
	p.Foreign = req.Foreign || bool(nul)
	if p.Foreign {
		if p.Head, err = readHead(w, part.BodyStart, size); err != nil {
			return nil, fmt.Errorf("read foreign message head: %w", err)
		}
	}
	if p.PartBin, err = part.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("encode structure: %w", err)
	}
	p.Preview = search.Preview(w, size, part) // store.PreviewKeeper
	p.Thread = threadRefs(w, part)            // store.ThreadKeeper
	return p, nil
}

// threadRefs reads the ThreadRefs of the content written to f from its
// top-level header. A header that cannot be read threads by nothing: the
// message begins a thread.
func threadRefs(f io.ReaderAt, part *message.Part) store.ThreadRefs {
	h, err := message.ReadHeader(io.NewSectionReader(f, part.HeaderStart, part.BodyStart-part.HeaderStart), int(part.BodyStart-part.HeaderStart)+1)
	if err != nil {
		return store.ThreadRefs{}
	}
	return store.ThreadRefsOf(h)
}

// IndexDoc sets p.Doc, the search index entry, from the body Prepare
// wrote to r. A failure leaves p.Doc nil: the message is unindexed (and
// scanned), never unstored.
func (p *Prepared) IndexDoc(r io.ReaderAt) {
	p.Doc, _ = search.Extract(r, p.Size, p.Part, store.KeptHeaderFields)
}

// copyBufSize is the size of the buffer an append streams through.
const copyBufSize = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// writeContent streams req.Content, CRLF-normalised unless req.Exact, into f while parsing
// it in a second goroutine, and returns the structure, the SHA-256 and the
// size. Memory stays flat: one buffer here, the parser's bounded buffers
// there.
func writeContent(ctx context.Context, f io.Writer, req store.AppendRequest) (*message.Part, []byte, int64, error) {
	pr, pw := io.Pipe()
	type parsed struct {
		part *message.Part
		err  error
	}
	done := make(chan parsed, 1)
	go func() {
		part, err := message.Parse(pr)
		if err != nil {
			pr.CloseWithError(err) // stops the copy below
		} else {
			_, err = io.Copy(io.Discard, pr) // Parse reads to EOF; be sure
		}
		done <- parsed{part, err}
	}()
	h := sha256.New()
	src := req.Content
	if !req.Exact {
		src = message.NewCRLFReader(src)
	}
	size, copyErr := copyLimited(ctx, io.MultiWriter(f, h, pw), src, req.MaxSize)
	pw.CloseWithError(copyErr)
	res := <-done
	switch {
	case res.err != nil && errors.Is(res.err, message.ErrMalformed):
		return nil, nil, 0, res.err
	case copyErr != nil:
		return nil, nil, 0, copyErr
	case res.err != nil:
		return nil, nil, 0, res.err
	}
	return res.part, h.Sum(nil), size, nil
}

// readHead returns the first store.ForeignHeadSize octets (or fewer) of
// the body, from start on, of the content written to f.
func readHead(f io.ReaderAt, start, size int64) ([]byte, error) {
	n := max(0, min(size-start, store.ForeignHeadSize))
	head := make([]byte, n)
	if _, err := f.ReadAt(head, start); err != nil && err != io.EOF {
		return nil, err
	}
	return head, nil
}

// nulDetector is a writer that notes whether a NUL octet went through it:
// content with one is foreign (store.AppendRequest.Foreign).
type nulDetector bool

func (d *nulDetector) Write(p []byte) (int, error) {
	if !*d && bytes.IndexByte(p, 0) >= 0 {
		*d = true
	}
	return len(p), nil
}

// copyLimited copies r to w, failing with store.ErrTooBig as soon as more
// than limit octets (if limit > 0) have come.
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, limit int64) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := r.Read(buf)
		if k > 0 {
			n += int64(k)
			if limit > 0 && n > limit {
				return n, fmt.Errorf("%w: more than %d octets", store.ErrTooBig, limit)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
