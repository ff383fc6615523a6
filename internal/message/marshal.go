package message

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// encodingVersion is the first byte of MarshalBinary's output. Bump it when
// the layout changes; UnmarshalBinary rejects versions it does not know.
const encodingVersion = 1

// maxOffset bounds decoded offsets so that arithmetic on them cannot
// overflow.
const maxOffset = 1 << 52

// ErrCorrupt is returned (wrapped) by UnmarshalBinary for input that is not
// a valid encoding.
var ErrCorrupt = errors.New("message: corrupt part encoding")

// MarshalBinary encodes p and its descendants compactly, for the store's
// index.
//
// Layout (version 1): the version byte, then the root part. A part is:
// uvarints HeaderStart-cursor, BodyStart-HeaderStart, End-BodyStart and
// BodyLines; strings Type, Subtype; params; strings ID, Description,
// Encoding, MD5, Disposition; params; string list Language; string
// Location; a byte 0 (no envelope), 1 (an envelope) or 2 (an envelope and
// a byte of its Empty fields) and the envelope; uvarint child count and the
// children. The cursor is 0 for the root, the parent's BodyStart for a first
// child and the previous sibling's End after that, so offsets are small
// deltas and children are ordered by construction. A string is a uvarint
// length and bytes; a list is a uvarint count and elements. An envelope is
// strings Date, Subject, six address lists, strings InReplyTo, MessageID;
// an address is a flags byte (bit 0 a group marker, bit 1 a route
// follows), strings Name, Mailbox, Host and, with bit 1, Route. Bit 1 and
// envelope flag 2 came later in version 1: data without them decodes as
// before.
func (p *Part) MarshalBinary() ([]byte, error) {
	e := encoder{b: []byte{encodingVersion}}
	if err := e.part(p, 0, 0); err != nil {
		return nil, fmt.Errorf("marshal part: %w", err)
	}
	return e.b, nil
}

// UnmarshalBinary decodes data produced by MarshalBinary into p. It checks
// every length and offset, so corrupt data yields an error wrapping
// ErrCorrupt, never a panic or an oversized allocation, and the offsets of a
// decoded Part satisfy the invariants documented on Part.
func (p *Part) UnmarshalBinary(data []byte) error {
	return p.unmarshal(data, func(d *decoder, q *Part) {
		d.part(q, 0, 0, maxOffset)
		if d.err == nil && len(d.b) != 0 {
			d.fail("%d trailing bytes", len(d.b))
		}
	})
}

// UnmarshalBinaryTop is UnmarshalBinary for the root part alone: it
// decodes the root's offsets, fields and envelope, leaves Parts nil and
// skips the children without decoding them. It is for readers that need
// only the top-level envelope and size (FETCH ENVELOPE): the children are
// most of the decoding work. Corrupt data in what it reads is an error
// wrapping ErrCorrupt; corruption in the children it skips goes unnoticed.
func (p *Part) UnmarshalBinaryTop(data []byte) error {
	return p.unmarshal(data, func(d *decoder, q *Part) {
		d.fields(q, 0, maxOffset)
		d.count(8) // the children, checked for size only
	})
}

// unmarshal checks the encoding version, runs decode on the rest and sets
// p only if it succeeded.
func (p *Part) unmarshal(data []byte, decode func(*decoder, *Part)) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty", ErrCorrupt)
	}
	if data[0] != encodingVersion {
		return fmt.Errorf("%w: unknown version %d", ErrCorrupt, data[0])
	}
	d := decoder{b: data[1:]}
	var q Part
	decode(&d, &q)
	if d.err != nil {
		return d.err
	}
	*p = q
	return nil
}

type encoder struct {
	b []byte
}

func (e *encoder) uvarint(v int64) {
	e.b = binary.AppendUvarint(e.b, uint64(v))
}

func (e *encoder) str(s string) {
	e.uvarint(int64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) params(ps []Param) {
	e.uvarint(int64(len(ps)))
	for _, p := range ps {
		e.str(p.Name)
		e.str(p.Value)
	}
}

func (e *encoder) part(p *Part, cursor int64, depth int) error {
	if depth > maxDepth+1 {
		return errors.New("nesting too deep")
	}
	if p.HeaderStart < cursor || p.BodyStart < p.HeaderStart || p.End < p.BodyStart || p.BodyLines < 0 || p.End > maxOffset {
		return fmt.Errorf("offsets %d/%d/%d out of order", p.HeaderStart, p.BodyStart, p.End)
	}
	e.uvarint(p.HeaderStart - cursor)
	e.uvarint(p.BodyStart - p.HeaderStart)
	e.uvarint(p.End - p.BodyStart)
	e.uvarint(p.BodyLines)
	e.str(p.Type)
	e.str(p.Subtype)
	e.params(p.Params)
	e.str(p.ID)
	e.str(p.Description)
	e.str(p.Encoding)
	e.str(p.MD5)
	e.str(p.Disposition)
	e.params(p.DispositionParams)
	e.uvarint(int64(len(p.Language)))
	for _, l := range p.Language {
		e.str(l)
	}
	e.str(p.Location)
	switch {
	case p.Envelope == nil:
		e.b = append(e.b, 0)
	case p.Envelope.Empty == 0:
		e.b = append(e.b, 1)
		e.envelope(p.Envelope)
	default:
		e.b = append(e.b, 2)
		e.envelope(p.Envelope)
		e.b = append(e.b, byte(p.Envelope.Empty))
	}
	e.uvarint(int64(len(p.Parts)))
	cursor = p.BodyStart
	for _, c := range p.Parts {
		if c.End > p.End {
			return fmt.Errorf("child ends at %d after its parent at %d", c.End, p.End)
		}
		if err := e.part(c, cursor, depth+1); err != nil {
			return err
		}
		cursor = c.End
	}
	return nil
}

func (e *encoder) envelope(env *Envelope) {
	e.str(env.Date)
	e.str(env.Subject)
	for _, l := range [][]Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		e.uvarint(int64(len(l)))
		for _, a := range l {
			flags := byte(0)
			if a.Group {
				flags |= 1
			}
			if a.Route != "" {
				flags |= 2
			}
			e.b = append(e.b, flags)
			e.str(a.Name)
			e.str(a.Mailbox)
			e.str(a.Host)
			if a.Route != "" {
				e.str(a.Route)
			}
		}
	}
	e.str(env.InReplyTo)
	e.str(env.MessageID)
}

// decoder reads the encoding with a sticky error: after the first failure
// every method returns zero values, and d.err says what went wrong.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// uvarint reads a value in [0, max].
func (d *decoder) uvarint(max int64) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 {
		// Overlong forms are rejected so that each Part has exactly one
		// encoding.
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	if v > uint64(max) {
		d.fail("value %d out of range", v)
		return 0
	}
	return int64(v)
}

// count reads a list length; each element takes at least min bytes, which
// bounds allocations by the input size.
func (d *decoder) count(min int) int {
	n := int(d.uvarint(maxOffset))
	if d.err == nil && n > len(d.b)/min {
		d.fail("list of %d elements overruns input", n)
		return 0
	}
	return n
}

func (d *decoder) str() string {
	n := int(d.uvarint(maxOffset))
	if d.err == nil && n > len(d.b) {
		d.fail("string of %d bytes overruns input", n)
	}
	if d.err != nil || n == 0 {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) params() []Param {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	ps := make([]Param, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ps = append(ps, Param{Name: d.str(), Value: d.str()})
	}
	return ps
}

// part decodes one part whose HeaderStart is at least cursor and whose End
// is at most limit.
func (d *decoder) part(p *Part, cursor int64, depth int, limit int64) {
	if depth > maxDepth+1 {
		d.fail("nesting too deep")
		return
	}
	d.fields(p, cursor, limit)
	n := d.count(8) // a part takes at least 8 bytes
	if d.err != nil {
		return
	}
	if n > 0 {
		p.Parts = make([]*Part, 0, n)
	}
	cursor = p.BodyStart
	for i := 0; i < n && d.err == nil; i++ {
		c := &Part{}
		d.part(c, cursor, depth+1, p.End)
		p.Parts = append(p.Parts, c)
		cursor = c.End
	}
}

// fields decodes a part up to its child count: offsets, header fields and
// envelope.
func (d *decoder) fields(p *Part, cursor, limit int64) {
	p.HeaderStart = cursor + d.uvarint(limit-cursor)
	p.BodyStart = p.HeaderStart + d.uvarint(limit-p.HeaderStart)
	p.End = p.BodyStart + d.uvarint(limit-p.BodyStart)
	p.BodyLines = d.uvarint(p.End - p.BodyStart)
	p.Type = d.str()
	p.Subtype = d.str()
	p.Params = d.params()
	p.ID = d.str()
	p.Description = d.str()
	p.Encoding = d.str()
	p.MD5 = d.str()
	p.Disposition = d.str()
	p.DispositionParams = d.params()
	if n := d.count(1); n > 0 {
		p.Language = make([]string, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			p.Language = append(p.Language, d.str())
		}
	}
	p.Location = d.str()
	switch d.byte() {
	case 0:
	case 1:
		p.Envelope = d.envelope()
	case 2:
		p.Envelope = d.envelope()
		if p.Envelope.Empty = EmptyFields(d.byte()); p.Envelope.Empty&^emptyAll != 0 {
			d.fail("bad empty fields")
		}
	default:
		d.fail("bad envelope flag")
	}
}

func (d *decoder) envelope() *Envelope {
	env := &Envelope{Date: d.str(), Subject: d.str()}
	for _, l := range []*[]Address{&env.From, &env.Sender, &env.ReplyTo, &env.To, &env.Cc, &env.Bcc} {
		n := d.count(4)
		if n == 0 {
			continue
		}
		*l = make([]Address, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			flags := d.byte()
			if flags > 3 {
				d.fail("bad address flags")
			}
			a := Address{Group: flags&1 != 0, Name: d.str(), Mailbox: d.str(), Host: d.str()}
			if flags&2 != 0 {
				a.Route = d.str()
			}
			*l = append(*l, a)
		}
	}
	env.InReplyTo = d.str()
	env.MessageID = d.str()
	return env
}
