package pop3server

import (
	"bufio"
	"errors"
	"strconv"
	"strings"
)

// Line limits. RFC 2449 §4: a command line is at most 255 octets with its
// CRLF. SASL responses are not commands (RFC 5034 §4) and may be longer.
const (
	maxCommandLine = 255
	maxSASLLine    = 16 << 10
	maxDiscard     = 1 << 20 // an over-long line longer than this closes the connection
	maxArgLength   = 40      // RFC 2449 §4: each argument at most 40 octets (PASS exempt)
)

var (
	// errLineTooLong means a line exceeded its limit; the rest of it was
	// read and discarded, so the connection stays in sync.
	errLineTooLong = errors.New("line too long")
	// errFlood means an over-long line went on past maxDiscard.
	errFlood = errors.New("line flood")
)

// readLine reads one line of at most limit octets including the line
// ending, and returns it without CRLF (a bare LF is accepted).
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			return nil, discardLine(br, frag, err)
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// discardLine reads to the end of an over-long line.
func discardLine(br *bufio.Reader, frag []byte, err error) error {
	n := len(frag)
	for errors.Is(err, bufio.ErrBufferFull) {
		if n > maxDiscard {
			return errFlood
		}
		frag, err = br.ReadSlice('\n')
		n += len(frag)
	}
	if err != nil {
		return err
	}
	return errLineTooLong
}

// command is a parsed command line: an upper-cased keyword and the
// argument text after one space.
type command struct {
	verb string
	args string
}

// parseCommand splits a command line (RFC 2449 §4: a keyword of
// printable ASCII letters, then arguments separated by single spaces). It
// reports binary when the keyword is not made of letters, which the
// caller treats as garbage.
func parseCommand(line []byte) (cmd command, binary bool) {
	verb, args, _ := strings.Cut(string(line), " ")
	if len(verb) == 0 || len(verb) > 8 {
		return command{verb: "?"}, true
	}
	for i := 0; i < len(verb); i++ {
		c := verb[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return command{verb: "?"}, true
		}
	}
	return command{verb: strings.ToUpper(verb), args: args}, false
}

// hasControl reports whether s holds a control character (NUL, CR, LF,
// DEL …); tabs too, since POP3 arguments are separated by spaces only.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// splitArgs splits args at single spaces and checks the count and each
// argument's length (RFC 2449 §4).
func splitArgs(args string, min, max int) ([]string, error) {
	if hasControl(args) {
		return nil, errSyntax("invalid characters in command")
	}
	var f []string
	if args != "" {
		f = strings.Split(args, " ")
	}
	for _, a := range f {
		if a == "" {
			return nil, errSyntax("arguments must be separated by one space")
		}
		if len(a) > maxArgLength {
			return nil, errSyntax("argument too long")
		}
	}
	switch {
	case len(f) < min:
		return nil, errSyntax("missing argument")
	case len(f) > max:
		return nil, errSyntax("too many arguments")
	}
	return f, nil
}

// parseMsgNumber parses a message number (RFC 1939: a positive decimal).
func parseMsgNumber(s string) (int, error) {
	n, err := parseDecimal(s)
	if err != nil || n == 0 {
		return 0, errSyntax("invalid message number %q", s)
	}
	return n, nil
}

// parseDecimal parses a non-negative decimal of at most 9 digits.
func parseDecimal(s string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, strconv.ErrRange
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.Atoi(s)
}
