package prototest

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// IMAP literals in transcripts. In a C line, "{file}" sends the archive
// file as a synchronising literal (waiting for "+"), "{file+}" as a
// non-synchronising one (RFC 7888), and "~{file}" or "~{file+}" as a
// literal8 (RFC 3516). In an S line, "{file}" or "~{file}" expects a
// literal (or literal8) holding exactly the file's octets: the line up to
// it must match, then the data is compared octet for octet, and the
// response goes on after it. A file whose name ends in ".bin" is used as
// written, not CRLF-normalised, with "\xHH" escapes decoded, "\\" a
// backslash and a backslash at the end of a line joining it to the next
// (so that a file can end without LF), so that transcripts can hold bare
// LF, NUL and 8-bit octets.

// literalRe finds literal references: optional "~", "{", the name, an
// optional "+", "}".
var literalRe = regexp.MustCompile(`(~?)\{([^{}\s+]+)(\+?)\}`)

// literalRef is one literal reference in a transcript line.
type literalRef struct {
	start, end int // the reference in the line
	name       string
	data       []byte
	binary     bool
	nonSync    bool
}

// header is the literal header the reference stands for.
func (ref literalRef) header() string {
	h := "{" + strconv.Itoa(len(ref.data))
	if ref.nonSync {
		h += "+"
	}
	h += "}"
	if ref.binary {
		h = "~" + h
	}
	return h
}

// literalRef finds the first reference in text that names a file of the
// archive; text that only looks like one is sent or matched as typed.
func (r *run) literalRef(text string) (literalRef, bool) {
	for off := 0; off < len(text); {
		m := literalRe.FindStringSubmatchIndex(text[off:])
		if m == nil {
			return literalRef{}, false
		}
		name := text[off+m[4] : off+m[5]]
		if data, ok := r.c.files[name]; ok {
			return literalRef{start: off + m[0], end: off + m[1], name: name, data: data,
				binary: m[3] > m[2], nonSync: m[7] > m[6]}, true
		}
		off += m[1]
	}
	return literalRef{}, false
}

// expectLiterals expects a response that carries literals whose data are
// archive files (see above).
func (r *run) expectLiterals(st *step, cc *clientConn) error {
	text := st.text
	first := true
	for {
		ref, ok := r.literalRef(text)
		if !ok {
			break
		}
		if ref.nonSync {
			return fmt.Errorf("a server literal cannot be non-synchronising: %s", text[ref.start:ref.end])
		}
		if err := r.expectLine(st, cc, text[:ref.start]+ref.header(), first); err != nil {
			return err
		}
		first = false
		got := make([]byte, len(ref.data))
		cc.nc.SetReadDeadline(time.Now().Add(r.timeout))
		if _, err := io.ReadFull(cc.br, got); err != nil {
			return fmt.Errorf("reading the %d octets of literal {%s}: %v", len(got), ref.name, err)
		}
		r.logf("S%d: [%d octets]", st.conn, len(got))
		if !bytes.Equal(got, ref.data) {
			return fmt.Errorf("literal {%s}: expected %q\n  actual:   %q", ref.name, ref.data, got)
		}
		text = text[ref.end:]
	}
	return r.expectLine(st, cc, text, first)
}

// expectLine expects the next line to match the glob pattern p, skipping
// lines first when the step follows an Sn.. and skip is allowed.
func (r *run) expectLine(st *step, cc *clientConn, p string, skip bool) error {
	re, _ := globRegexp(p)
	for skipped := 0; ; skipped++ {
		line, err := r.readLine(cc)
		if err != nil {
			return fmt.Errorf("expected %q, got error: %v", p, err)
		}
		r.logf("S%d: %s", st.conn, line)
		if re.MatchString(line) {
			if skip {
				cc.skip = false
			}
			return nil
		}
		if !(skip && cc.skip && skipped < maxSkip) {
			return fmt.Errorf("expected: %s\n  actual:   %s", p, line)
		}
	}
}

// fileData is how the runner uses an archive file: CRLF-normalised, or as
// written for a ".bin" file, with its escapes decoded.
func fileData(name string, data []byte) []byte {
	if !strings.HasSuffix(name, ".bin") {
		return toCRLF(data)
	}
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		if data[i] == '\\' && i+1 < len(data) && data[i+1] == '\n' {
			i++ // a line continuation: neither is data
			continue
		}
		if data[i] == '\\' && i+1 < len(data) && data[i+1] == '\\' {
			out = append(out, '\\')
			i++
			continue
		}
		if data[i] == '\\' && i+3 < len(data) && data[i+1] == 'x' {
			if v, err := strconv.ParseUint(string(data[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, data[i])
	}
	return out
}
