package message

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// crlf converts a test literal written with LF line ends to the stored form.
func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// mustParse parses a message given with LF line ends, after normalising it.
// It returns the part and the normalised bytes.
func mustParse(t testing.TB, msg string) (*Part, string) {
	t.Helper()
	norm := crlf(msg)
	p, err := Parse(strings.NewReader(norm))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := checkInvariants(p, int64(len(norm))); err != nil {
		t.Fatalf("invariants: %v", err)
	}
	return p, norm
}

// walk follows 0-based child indices ("1.0" is root.Parts[1].Parts[0]),
// unlike IMAP section numbers; "" is the root.
func walk(p *Part, path string) (*Part, error) {
	if path == "" {
		return p, nil
	}
	for _, s := range strings.Split(path, ".") {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(p.Parts) {
			return nil, fmt.Errorf("no child %q", path)
		}
		p = p.Parts[i]
	}
	return p, nil
}

// checkInvariants verifies the offset and structure invariants of doc.go.
func checkInvariants(p *Part, size int64) error {
	return checkPart(p, nil, size, "root")
}

func checkPart(p, parent *Part, size int64, name string) error {
	if !(0 <= p.HeaderStart && p.HeaderStart <= p.BodyStart && p.BodyStart <= p.End && p.End <= size) {
		return fmt.Errorf("%s: offsets %d/%d/%d not monotone within [0,%d]", name, p.HeaderStart, p.BodyStart, p.End, size)
	}
	if p.BodyLines < 0 || p.BodyLines > p.End-p.BodyStart {
		return fmt.Errorf("%s: %d lines in %d bytes", name, p.BodyLines, p.End-p.BodyStart)
	}
	if parent != nil && (p.HeaderStart < parent.BodyStart || p.End > parent.End) {
		return fmt.Errorf("%s: [%d,%d) outside parent body [%d,%d)", name, p.HeaderStart, p.End, parent.BodyStart, parent.End)
	}
	if p.Type == "multipart" && len(p.Parts) == 0 {
		return fmt.Errorf("%s: multipart without parts", name)
	}
	if isMessageType(p) && len(p.Parts) > 1 {
		return fmt.Errorf("%s: message with %d parts", name, len(p.Parts))
	}
	if m := p.Message(); m != nil && (m.HeaderStart != p.BodyStart || m.Envelope == nil) {
		return fmt.Errorf("%s: embedded message at %d, body at %d", name, m.HeaderStart, p.BodyStart)
	}
	if p.Type != "multipart" && !isMessageType(p) && len(p.Parts) > 0 {
		return fmt.Errorf("%s: %s/%s has parts", name, p.Type, p.Subtype)
	}
	prevEnd := int64(-1)
	for i, c := range p.Parts {
		if c.HeaderStart < prevEnd {
			return fmt.Errorf("%s.%d: starts at %d before previous sibling ends at %d", name, i, c.HeaderStart, prevEnd)
		}
		if err := checkPart(c, p, size, fmt.Sprintf("%s.%d", name, i)); err != nil {
			return err
		}
		prevEnd = c.End
	}
	return nil
}

// countLF counts LF bytes, the way BodyLines does.
func countLF(s string) int64 {
	return int64(strings.Count(s, "\n"))
}
