package sieve

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// maxHeaderSize bounds how much of a message's header ReadHeader keeps.
const maxHeaderSize = 1 << 20

// Field is one header field, unfolded (RFC 5322 §2.2.3).
type Field struct {
	Name  string
	Value string
}

// Header is a message's header fields in order.
type Header []Field

// ReadHeader reads the header section of a message, up to the blank line
// or maxHeaderSize octets; what follows is not read.
func ReadHeader(r io.Reader) (Header, error) {
	br := bufio.NewReader(io.LimitReader(r, maxHeaderSize))
	var h Header
	for {
		line, err := br.ReadString('\n')
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return h, err
		}
		if (trimmed[0] == ' ' || trimmed[0] == '\t') && len(h) > 0 {
			h[len(h)-1].Value += trimmed // unfold: drop the CRLF, keep the WSP
		} else if name, value, ok := strings.Cut(trimmed, ":"); ok {
			h = append(h, Field{Name: strings.TrimRight(name, " \t"), Value: value})
		}
		if errors.Is(err, io.EOF) {
			return h, nil
		} else if err != nil {
			return h, err
		}
	}
}

// values returns the decoded values of the named fields (lower-cased
// name), leading and trailing white space removed and RFC 2047 encoded
// words decoded (RFC 5228 §5.7).
func (h Header) values(name string) []string {
	var out []string
	dec := mime.WordDecoder{CharsetReader: nil}
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			v := strings.TrimSpace(f.Value)
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			out = append(out, v)
		}
	}
	return out
}

func (h Header) has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// addresses returns the addresses in the named fields (RFC 5228 §5.1).
// A field that does not parse as an address list counts as one address,
// its whole value, as Pigeonhole does.
func (h Header) addresses(name string) []string {
	var out []string
	for _, v := range h.values(name) {
		list, err := mail.ParseAddressList(v)
		if err != nil {
			if v != "" {
				out = append(out, v)
			}
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// splitAddress splits local@domain at the last "@".
func splitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 || strings.ContainsAny(addr, " \t\r\n<>") {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// addressPart extracts the part of an address an address test compares
// (RFC 5228 §2.7.4; :user and :detail RFC 5233 §4 with "+" as the
// separator). ok is false when the part does not exist: a :detail of an
// address without a separator matches nothing.
func addressPart(addr, part string) (string, bool) {
	local, domain, ok := splitAddress(addr)
	if !ok {
		// Not local@domain: only :all and :localpart see it.
		local, domain = addr, ""
	}
	switch part {
	case "localpart":
		return local, true
	case "domain":
		return domain, true
	case "user":
		user, _, _ := strings.Cut(local, "+")
		return user, true
	case "detail":
		_, detail, found := strings.Cut(local, "+")
		return detail, found
	}
	return addr, true
}

// mimeQ encodes a non-ASCII header value as RFC 2047 encoded words.
func mimeQ(s string) string { return mime.QEncoding.Encode("utf-8", s) }
