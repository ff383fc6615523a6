package imapserver

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// viewer turns a stored message into the message the client sees. Every
// message read of the server — FETCH of bodies, sizes and structure, and
// SEARCH — goes through viewer.view, so the OpenVMS Mail view (mail11:
// Ignore-Mail11-Headers, Decnet-Rewrite, Personal-Name, Gateway-Node) plugs
// in here without touching the handlers. Send-ID-Headers is applied here,
// which keeps BODY[], BODY[HEADER], RFC822.SIZE and BINARY.SIZE consistent.
type viewer struct {
	sendIDHeaders bool
	hostname      string
	version       string
}

// msgView is one message as the client sees it: the stored content with
// its top-level header replaced by header. Offsets of the stored Part
// tree map to the view by adding shift, except the top-level header,
// which is [0, len(header)).
type msgView struct {
	info    store.MessageInfo
	part    *message.Part // nil until structure was loaded
	header  []byte        // the view's top-level header; nil: the stored one
	hdrEnd  int64         // end of the stored top-level header (Part.BodyStart)
	shift   int64         // view offset minus stored offset, for body bytes
	size    int64
	content store.Content // opened lazily
}

// idPrefix returns the Send-ID-Headers lines for a message (hp-system.md
// §3.1: host name plus IMAP version, and the message UID).
func (v *viewer) idPrefix(uid store.UID) []byte {
	if !v.sendIDHeaders {
		return nil
	}
	return []byte("X-IMAP4-Server: " + v.hostname + " Postern IMAP " + v.version + "\r\n" +
		"X-IMAP4-ID: " + strconv.FormatUint(uint64(uid), 10) + "\r\n")
}

// sizeOf returns a message's size as the client sees it, without loading
// its structure: what RFC822.SIZE reports.
func (v *viewer) sizeOf(in store.MessageInfo) int64 {
	return in.Size + int64(len(v.idPrefix(in.UID)))
}

// view builds the client's view of a message from what the store keeps.
// data.Part may be nil when only index data is known; header bytes are
// then built on first use.
func (v *viewer) view(info store.MessageInfo, data *store.MessageData) *msgView {
	mv := &msgView{info: info, size: info.Size}
	prefix := v.idPrefix(info.UID)
	if data != nil {
		mv.part = data.Part
		mv.hdrEnd = data.Part.BodyStart
	}
	if len(prefix) > 0 {
		mv.header = prefix // completed with the stored header in load
		mv.shift = int64(len(prefix))
		mv.size += int64(len(prefix))
	}
	return mv
}

// open opens the stored content and completes the header.
func (mv *msgView) open(ctx context.Context, sess store.Session, mbox store.MailboxID) error {
	if mv.content != nil {
		return nil
	}
	ct, err := sess.OpenContent(ctx, mbox, mv.info.UID)
	if err != nil {
		return fmt.Errorf("open message %d: %w", mv.info.UID, err)
	}
	mv.content = ct
	if mv.header != nil && mv.part != nil {
		h := make([]byte, len(mv.header), len(mv.header)+int(mv.hdrEnd))
		copy(h, mv.header)
		stored := make([]byte, mv.hdrEnd)
		if _, err := ct.ReadAt(stored, 0); err != nil && err != io.EOF {
			return fmt.Errorf("read header of message %d: %w", mv.info.UID, err)
		}
		mv.header = append(h, stored...)
	}
	return nil
}

// close releases the content.
func (mv *msgView) close() {
	if mv.content != nil {
		mv.content.Close()
		mv.content = nil
	}
}

// topHeaderLen is the length of the view's top-level header block.
func (mv *msgView) topHeaderLen() int64 {
	if mv.header != nil {
		return int64(len(mv.header))
	}
	return mv.hdrEnd
}

// readerAt returns the whole view as an io.ReaderAt of mv.size bytes.
func (mv *msgView) readerAt() io.ReaderAt {
	if mv.header == nil {
		return mv.content
	}
	return &splicedReader{head: mv.header, tail: mv.content, tailOff: mv.hdrEnd}
}

// section returns the view's byte range for a part's header or body.
func (mv *msgView) headerRange(p *message.Part) (int64, int64) {
	if p == mv.part {
		return 0, mv.topHeaderLen()
	}
	return p.HeaderStart + mv.shift, p.BodyStart + mv.shift
}

func (mv *msgView) bodyRange(p *message.Part) (int64, int64) {
	return p.BodyStart + mv.shift, p.End + mv.shift
}

// splicedReader reads head followed by tail from tailOff on.
type splicedReader struct {
	head    []byte
	tail    io.ReaderAt
	tailOff int64
}

func (s *splicedReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(s.head)) {
		n = copy(p, s.head[off:])
		if n == len(p) {
			return n, nil
		}
		off = int64(len(s.head))
	}
	m, err := s.tail.ReadAt(p[n:], off-int64(len(s.head))+s.tailOff)
	return n + m, err
}
