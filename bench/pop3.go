package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// pop3Client is a minimal POP3 client (RFC 1939): enough for USER/PASS,
// STAT, LIST, UIDL, RETR and QUIT, with a deadline on every exchange.
type pop3Client struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

func dialPOP3(addr string, timeout time.Duration) (*pop3Client, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &pop3Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), timeout: timeout}
	if _, err := c.status(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return c, nil
}

func (c *pop3Client) Close() error { return c.conn.Close() }

func (c *pop3Client) readLine() ([]byte, error) {
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("line longer than %d bytes", c.r.Size())
	}
	if err != nil {
		return nil, err
	}
	return line, nil
}

// status reads a status line and returns its text after +OK.
func (c *pop3Client) status() (string, error) {
	line, err := c.readLine()
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(line), "\r\n")
	if !strings.HasPrefix(s, "+OK") {
		return "", fmt.Errorf("server: %s", s)
	}
	return strings.TrimSpace(strings.TrimPrefix(s, "+OK")), nil
}

// cmd sends one command and reads its status line.
func (c *pop3Client) cmd(format string, args ...any) (string, error) {
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := fmt.Fprintf(c.conn, format+"\r\n", args...); err != nil {
		return "", err
	}
	return c.status()
}

// multiline copies a dot-terminated response body to w, undoing the dot
// stuffing (RFC 1939 §3), and returns the bytes written.
func (c *pop3Client) multiline(w io.Writer) (int64, error) {
	var n int64
	for {
		line, err := c.readLine()
		if err != nil {
			return n, err
		}
		if line[0] == '.' {
			if bytes.Equal(line, []byte(".\r\n")) || bytes.Equal(line, []byte(".\n")) {
				return n, nil
			}
			line = line[1:]
		}
		m, err := w.Write(line)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
}

func (c *pop3Client) Login(user, pass string) error {
	if _, err := c.cmd("USER %s", user); err != nil {
		return err
	}
	_, err := c.cmd("PASS %s", pass)
	return err
}

// Stat returns the message count and the mailbox size.
func (c *pop3Client) Stat() (count int, size int64, err error) {
	s, err := c.cmd("STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("bad STAT response %q", s)
	}
	count, err = strconv.Atoi(f[0])
	if err != nil {
		return 0, 0, err
	}
	size, err = strconv.ParseInt(f[1], 10, 64)
	return count, size, err
}

// List runs a multi-line command (LIST, UIDL) and returns its lines.
func (c *pop3Client) List(verb string) (int, error) {
	if _, err := c.cmd("%s", verb); err != nil {
		return 0, err
	}
	var b bytes.Buffer
	if _, err := c.multiline(&b); err != nil {
		return 0, err
	}
	return bytes.Count(b.Bytes(), []byte("\n")), nil
}

// Retr copies message n to w and returns its size.
func (c *pop3Client) Retr(n int, w io.Writer) (int64, error) {
	if _, err := c.cmd("RETR %d", n); err != nil {
		return 0, err
	}
	return c.multiline(w)
}

func (c *pop3Client) Quit() error {
	_, err := c.cmd("QUIT")
	c.conn.Close()
	return err
}
