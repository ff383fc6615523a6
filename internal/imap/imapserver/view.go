package imapserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// viewer turns a stored message into the message the client sees. Every
// message read of the server — FETCH of bodies, sizes and structure, SEARCH
// and STATUS SIZE — goes through viewer.view, so the OpenVMS Mail view
// (Ignore-Mail11-Headers, Decnet-Rewrite, Personal-Name, Gateway-Node) and
// Send-ID-Headers apply in one place and BODY[], BODY[HEADER],
// RFC822.SIZE and BINARY.SIZE always agree.
type viewer struct {
	sendIDHeaders bool
	hostname      string
	version       string
	// mail11 turns the OpenVMS Mail view on; nil: messages are served as
	// stored (after the Send-ID headers).
	mail11       *mail11.Options
	ignoreMail11 bool
	// magic types foreign messages (see foreignView).
	magic *mail11.Magic
}

// needsData reports whether sizes depend on the stored structure and
// OpenVMS envelope, so that RFC822.SIZE, LARGER/SMALLER and STATUS SIZE
// must load them (the Mail11 view rebuilds headers).
func (v *viewer) needsData() bool { return v.mail11 != nil }

// msgView is one message as the client sees it: the view's top-level
// header, then the stored content from hdrEnd on. Offsets of the stored
// Part tree map to the view by adding shift, except the top-level header,
// which is [0, topHeaderLen()).
type msgView struct {
	info    store.MessageInfo
	part    *message.Part // nil until structure was loaded
	header  []byte        // the view's top-level header; nil: the stored one
	final   bool          // header is complete (rebuilt by the Mail11 view)
	hdrEnd  int64         // stored bytes the header replaces: [0, hdrEnd)
	shift   int64         // view offset minus stored offset, for body bytes
	size    int64
	lines   int64            // Mail11 own-header messages: -1 until the stored header's lines are added to BodyLines
	content store.Content    // opened lazily
	ref     store.ContentRef // opens content without an index query; nil: ask the session

	storedHeaderEnd int64 // Mail11: end of the stored top-level header
	base64          bool  // foreign message: the stored body is served base64-encoded (foreignView)
	// bodyRebuilt: the view's body text is not the stored message's (its
	// stored header shown as body, or base64), so neither is its preview.
	bodyRebuilt bool
}

func (v *viewer) serverID() string { return v.hostname + " Postern IMAP " + v.version }

// idPrefix returns the Send-ID-Headers lines for a message (hp-system.md
// §3.1: host name plus IMAP version, and the message UID).
func (v *viewer) idPrefix(uid store.UID) []byte {
	if !v.sendIDHeaders {
		return nil
	}
	return []byte("X-IMAP4-Server: " + v.serverID() + "\r\n" +
		"X-IMAP4-ID: " + strconv.FormatUint(uint64(uid), 10) + "\r\n")
}

// sizeOf returns a message's size as the client sees it. data may be nil
// when needsData is false.
func (v *viewer) sizeOf(in store.MessageInfo, data *store.MessageData) int64 {
	if data != nil && v.mail11 != nil {
		return v.view(in, data).size
	}
	return in.Size + int64(len(v.idPrefix(in.UID)))
}

// view builds the client's view of a message from what the store keeps.
// data may be nil when only index data is known (and needsData is false).
func (v *viewer) view(info store.MessageInfo, data *store.MessageData) *msgView {
	mv := new(msgView)
	v.viewInto(mv, info, data)
	return mv
}

// viewInto is view into a msgView of the caller's, which FETCH uses again
// for every message of a command instead of allocating one each.
func (v *viewer) viewInto(mv *msgView, info store.MessageInfo, data *store.MessageData) {
	*mv = msgView{info: info, size: info.Size, lines: 0}
	if data != nil {
		mv.part = data.Part
		mv.hdrEnd = data.Part.BodyStart
		if v.mail11 != nil && data.Foreign && data.VMS != nil && !data.VMS.OwnHeader {
			v.foreignView(mv, data)
			return
		}
		if v.mail11 != nil && data.VMS == nil && !v.ignoreMail11 && data.Part.Envelope != nil {
			// Mail that came by SMTP/LMTP/deliver has no OpenVMS envelope:
			// derive one, as the original's SMTP did, so that the options
			// apply to it too (issue 6).
			derived := *data
			derived.VMS = mail11.DeriveEnvelope(envelopeHeader(data.Part.Envelope), info.InternalDate)
			data = &derived
		}
		if v.mail11 != nil && !mail11.Decide(data.VMS, v.ignoreMail11) {
			v.mail11View(mv, data)
			return
		}
	}
	if prefix := v.idPrefix(info.UID); len(prefix) > 0 {
		mv.header = prefix // completed with the stored header in open
		mv.shift = int64(len(prefix))
		mv.size += int64(len(prefix))
	}
}

// mail11View serves a message with its header rebuilt from its OpenVMS
// envelope (mail11 package doc): the rebuilt header, then the stored
// content after its own (empty) header block, or the whole stored content
// when the message has a real header of its own, which then reads as the
// first lines of the body.
func (v *viewer) mail11View(mv *msgView, data *store.MessageData) {
	h := mail11.IMAPHeader(data.VMS, mail11.IMAPOptions{
		Options: *v.mail11, SendIDHeaders: v.sendIDHeaders, Server: v.serverID(),
		ID: strconv.FormatUint(uint64(mv.info.UID), 10),
	})
	var env *message.Envelope
	if p, err := message.Parse(bytes.NewReader(h)); err == nil {
		env = p.Envelope
	}
	top := *data.Part
	top.Envelope = env
	if data.VMS.OwnHeader {
		// The whole stored message is the body of one text part.
		top = message.Part{End: mv.info.Size, Type: "text", Subtype: "plain", Encoding: "8BIT",
			BodyLines: data.Part.BodyLines, Envelope: env}
		mv.hdrEnd = 0
		mv.lines = -1 // the stored header's lines, counted in open
		mv.bodyRebuilt = true
	}
	mv.part = &top
	mv.header, mv.final = h, true
	mv.shift = int64(len(h)) - mv.hdrEnd
	mv.size = int64(len(h)) + mv.info.Size - mv.hdrEnd
	mv.storedHeaderEnd = data.Part.BodyStart
}

// foreignView serves a foreign message that has no header of its own (an
// OpenVMS MAIL foreign message, hp-system §6.3) as one part: the header
// rebuilt from its envelope, with MIME-Version, the Content-Type the
// magic table gives the first octets of its body, an attachment
// disposition and base64 transfer encoding, then the stored body in
// base64 (RFC 2045 §6.8), since IMAP literals cannot carry binary data.
// A foreign message with its own header keeps its own MIME description.
func (v *viewer) foreignView(mv *msgView, data *store.MessageData) {
	typ, sub := v.magic.Type(data.ForeignHead)
	h := mail11.IMAPHeader(data.VMS, mail11.IMAPOptions{
		Options: *v.mail11, SendIDHeaders: v.sendIDHeaders, Server: v.serverID(),
		ID: strconv.FormatUint(uint64(mv.info.UID), 10),
	})
	h = append(h[:len(h)-2:len(h)-2], "MIME-Version: 1.0\r\n"+
		"Content-Type: "+typ+"/"+sub+"\r\n"+
		"Content-Transfer-Encoding: base64\r\n"+
		"Content-Disposition: attachment\r\n\r\n"...)
	var env *message.Envelope
	if p, err := message.Parse(bytes.NewReader(h)); err == nil {
		env = p.Envelope
	}
	encLen, lines := base64Size(max(0, mv.info.Size-mv.hdrEnd))
	hl := int64(len(h))
	mv.part = &message.Part{BodyStart: hl, End: hl + encLen, BodyLines: lines, Type: typ, Subtype: sub,
		Encoding: "BASE64", Disposition: "attachment", Envelope: env}
	mv.header, mv.final, mv.base64, mv.bodyRebuilt = h, true, true, true
	mv.size = hl + encLen
	mv.storedHeaderEnd = data.Part.BodyStart
}

// One line of base64 output encodes base64LineIn octets as 76 characters
// (RFC 2045 §6.8) and CRLF.
const (
	base64LineIn  = 57
	base64LineOut = 78
)

// base64Size returns the length and line count of n octets in base64.
func base64Size(n int64) (size, lines int64) {
	full, rem := n/base64LineIn, n%base64LineIn
	size, lines = full*base64LineOut, full
	if rem > 0 {
		size += (rem+2)/3*4 + 2
		lines++
	}
	return size, lines
}

// base64ReaderAt reads the base64 encoding, in lines of 76 characters
// and CRLF, of the n octets of src from off on, at any offset.
type base64ReaderAt struct {
	src io.ReaderAt
	off int64
	n   int64
}

func (b *base64ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	total, _ := base64Size(b.n)
	var in [base64LineIn]byte
	var out [base64LineOut]byte
	done := 0
	for done < len(p) && off < total {
		line := off / base64LineOut
		start := line * base64LineIn
		k := min(base64LineIn, b.n-start)
		if m, err := b.src.ReadAt(in[:k], b.off+start); m < int(k) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
		enc := base64.StdEncoding.EncodedLen(int(k))
		base64.StdEncoding.Encode(out[:enc], in[:k])
		out[enc], out[enc+1] = '\r', '\n'
		c := copy(p[done:], out[off-line*base64LineOut:enc+2])
		done += c
		off += int64(c)
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// open opens the stored content and completes the header.
func (mv *msgView) open(ctx context.Context, sess store.Session, mbox store.MailboxID) error {
	if mv.content != nil {
		return nil
	}
	var ct store.Content
	var err error
	if mv.ref != nil {
		ct, err = mv.ref.Open()
	} else {
		ct, err = sess.OpenContent(ctx, mbox, mv.info.UID)
	}
	if err != nil {
		return fmt.Errorf("open message %d: %w", mv.info.UID, err)
	}
	mv.content = ct
	if mv.lines < 0 {
		stored := make([]byte, mv.storedHeaderEnd)
		if _, err := ct.ReadAt(stored, 0); err != nil && err != io.EOF {
			return fmt.Errorf("read header of message %d: %w", mv.info.UID, err)
		}
		mv.part.BodyLines += int64(bytes.Count(stored, []byte("\n")))
		mv.lines = 0
	}
	if mv.header != nil && mv.part != nil && !mv.final {
		h := make([]byte, len(mv.header), len(mv.header)+int(mv.hdrEnd))
		copy(h, mv.header)
		stored := make([]byte, mv.hdrEnd)
		if _, err := ct.ReadAt(stored, 0); err != nil && err != io.EOF {
			return fmt.Errorf("read header of message %d: %w", mv.info.UID, err)
		}
		mv.header = append(h, stored...)
		mv.final = true
	}
	return nil
}

// needsOpenForStructure reports whether BODYSTRUCTURE needs the content
// (the Mail11 view of a message with its own header counts its lines).
func (mv *msgView) needsOpenForStructure() bool { return mv.lines < 0 }

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
	if mv.base64 {
		return &splicedReader{head: mv.header, tail: &base64ReaderAt{src: mv.content, off: mv.hdrEnd, n: mv.info.Size - mv.hdrEnd}}
	}
	return &splicedReader{head: mv.header, tail: mv.content, tailOff: mv.hdrEnd}
}

// headerRange returns the view's byte range of a part's header.
func (mv *msgView) headerRange(p *message.Part) (int64, int64) {
	if p == mv.part {
		return 0, mv.topHeaderLen()
	}
	return p.HeaderStart + mv.shift, p.BodyStart + mv.shift
}

// bodyRange returns the view's byte range of a part's body.
func (mv *msgView) bodyRange(p *message.Part) (int64, int64) {
	if p == mv.part {
		return mv.topHeaderLen(), mv.size
	}
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

// envelopeHeader rebuilds, from the ENVELOPE the store parsed at
// delivery, the header fields mail11.DeriveEnvelope looks at, so that the
// view needs no read of the message file.
//
// It is the fallback: the load paths give such mail the envelope derived
// from its real header first (deriveVMS), since the stored envelope has no
// Resent-* or Return-Path fields, which the original's SMTP also consulted
// (hp-system.md §3.4), and defaults Reply-To to From. This one serves when
// that read failed.
func envelopeHeader(e *message.Envelope) message.Header {
	var h message.Header
	add := func(name string, addrs []message.Address) {
		var parts []string
		for _, a := range addrs {
			if a.Group {
				continue
			}
			addr := a.Mailbox + "@" + a.Host
			if a.Name != "" {
				addr = strconv.Quote(a.Name) + " <" + addr + ">"
			}
			parts = append(parts, addr)
		}
		if len(parts) > 0 {
			h = append(h, message.Field{Name: name, Raw: []byte(name + ": " + strings.Join(parts, ", ") + "\r\n")})
		}
	}
	add("Reply-To", e.ReplyTo)
	add("Sender", e.Sender)
	add("From", e.From)
	add("To", e.To)
	add("Cc", e.Cc)
	if e.Subject != "" {
		h = append(h, message.Field{Name: "Subject", Raw: []byte("Subject: " + e.Subject + "\r\n")})
	}
	return h
}
