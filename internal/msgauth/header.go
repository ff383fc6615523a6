package msgauth

import (
	"bufio"
	"errors"
	"io"
	"net/mail"
	"net/textproto"
	"strings"
)

// maxHeader bounds the header block read for From: a message whose
// header is larger has no From we can use.
const maxHeader = 256 << 10

// errNoFrom means the message has no single usable From address: none,
// several fields, several addresses, or one that does not parse.
var errNoFrom = errors.New("no single From address")

// fromDomain returns the domain of the message's one From address,
// lower-cased (RFC 7489 §3.1: the RFC5322.From domain; §6.6.1: a message
// with zero or several From addresses has none).
func fromDomain(r io.Reader) (string, error) {
	tr := textproto.NewReader(bufio.NewReader(io.LimitReader(r, maxHeader)))
	h, err := tr.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return "", errNoFrom
	}
	froms := h.Values("From")
	if len(froms) != 1 {
		return "", errNoFrom
	}
	addrs, err := mail.ParseAddressList(froms[0])
	if err != nil || len(addrs) != 1 {
		return "", errNoFrom
	}
	_, domain, ok := strings.Cut(addrs[0].Address, "@")
	if !ok || domain == "" {
		return "", errNoFrom
	}
	return strings.ToLower(strings.TrimSuffix(domain, ".")), nil
}

// addressDomain is the domain of an envelope address ("" for the null
// sender or a bare local part).
func addressDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[i+1:], "."))
}
