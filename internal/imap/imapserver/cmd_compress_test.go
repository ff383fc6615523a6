package imapserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/tlsconf"
)

// zClient is an IMAP client that can switch to COMPRESS=DEFLATE: after
// the OK it writes raw DEFLATE, sync-flushed per command, and inflates
// what the server sends (RFC 4978 §3).
type zClient struct {
	t  *testing.T
	nc net.Conn
	w  io.Writer     // the connection, or zw
	zw *flate.Writer // nil until COMPRESS
	br *bufio.Reader
}

func newZClient(t *testing.T, nc net.Conn) *zClient {
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	c := &zClient{t: t, nc: nc, w: nc, br: bufio.NewReader(nc)}
	c.expect("* OK ")
	return c
}

func (c *zClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.w, s+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
	if c.zw != nil {
		// Without this flush the server would wait for the command.
		if err := c.zw.Flush(); err != nil {
			c.t.Fatal(err)
		}
	}
}

// line reads one response line without its CRLF.
func (c *zClient) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expect reads lines until one starts with prefix and returns it.
func (c *zClient) expect(prefix string) string {
	c.t.Helper()
	for {
		if l := c.line(); strings.HasPrefix(l, prefix) {
			return l
		}
	}
}

// expectExactly checks the next lines.
func (c *zClient) expectExactly(lines ...string) {
	c.t.Helper()
	for _, want := range lines {
		if got := c.line(); got != want {
			c.t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// compress sends COMPRESS DEFLATE and switches both directions.
func (c *zClient) compress(tag string) {
	c.t.Helper()
	c.send(tag + " COMPRESS DEFLATE")
	c.expectExactly(tag + " OK DEFLATE active")
	c.startDeflate()
}

// startDeflate switches to DEFLATE. What the reader already buffered
// is compressed data.
func (c *zClient) startDeflate() {
	pending, _ := c.br.Peek(c.br.Buffered())
	raw := io.MultiReader(bytes.NewReader(bytes.Clone(pending)), c.nc)
	c.br = bufio.NewReader(flate.NewReader(raw))
	zw, err := flate.NewWriter(c.nc, flate.DefaultCompression)
	if err != nil {
		c.t.Fatal(err)
	}
	c.zw, c.w = zw, zw
}

// TestCompressDeflate runs a session over COMPRESS=DEFLATE: the second
// COMPRESS and an unknown algorithm are refused and the session goes on,
// a large message comes back intact, IDLE gets an update pushed (so the
// server flushes without a command to answer), the trace shows the
// exchange in clear, and LOGOUT ends it.
func TestCompressDeflate(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	big := bigMessage(300 << 10)
	if err := f.deliver("alice", "INBOX", big); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr, err := observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: "imap", Node: testHost, Synch: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Tracer = tr
	addr := f.start()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := newZClient(t, nc)
	c.send("a1 LOGIN alice secret")
	c.expect("a1 OK ")
	c.compress("a2")

	c.send("a3 COMPRESS DEFLATE")
	c.expectExactly("a3 NO [COMPRESSIONACTIVE] DEFLATE active via COMPRESS")
	c.send("a4 COMPRESS LZW")
	c.expectExactly("a4 BAD Unsupported compression algorithm")
	c.send("a5 SELECT INBOX")
	c.expect("a5 OK [READ-WRITE]")
	c.send("a6 FETCH 1 BODY.PEEK[]")
	header := c.line()
	if want := fmt.Sprintf("* 1 FETCH (BODY[] {%d}", len(big)); header != want {
		t.Fatalf("got %q, want %q", header, want)
	}
	body := make([]byte, len(big))
	if _, err := io.ReadFull(c.br, body); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, big) {
		t.Fatal("the message came back changed")
	}
	c.expectExactly(")", "a6 OK FETCH completed")

	c.send("a7 IDLE")
	c.expectExactly("+ idling")
	if err := f.deliver("alice", "INBOX", []byte("Subject: two\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	c.expectExactly("* 2 EXISTS")
	c.send("DONE")
	c.expect("a7 OK ")
	c.send("a8 LOGOUT")
	c.expectExactly("* BYE Postern IMAP server logging out", "a8 OK LOGOUT completed")

	tr.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*trace*"))
	if len(files) != 1 {
		t.Fatalf("trace files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	for _, want := range []string{"a5 SELECT INBOX", "* 2 EXISTS", "a8 OK LOGOUT completed"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("trace lacks %q:\n%s", want, b)
		}
	}
}

// TestCompressPipelined sends the first compressed command in the same
// packet as COMPRESS: the server must read it as DEFLATE data.
func TestCompressPipelined(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	nc, err := net.Dial("tcp", f.start())
	if err != nil {
		t.Fatal(err)
	}
	c := newZClient(t, nc)
	c.send("a1 LOGIN alice secret")
	c.expect("a1 OK ")
	var pkt bytes.Buffer
	pkt.WriteString("a2 COMPRESS DEFLATE\r\n")
	zw, _ := flate.NewWriter(&pkt, flate.BestCompression)
	io.WriteString(zw, "a3 NOOP\r\n")
	zw.Flush()
	if _, err := nc.Write(pkt.Bytes()); err != nil {
		t.Fatal(err)
	}
	c.expectExactly("a2 OK DEFLATE active")
	c.startDeflate()
	c.expectExactly("a3 OK NOOP completed")
	c.send("a4 LOGOUT")
	c.expect("a4 OK ")
}

// TestCompressPartialFlush sends commands the way isync/mbsync does, each
// ended by zlib's Z_PARTIAL_FLUSH (an empty fixed-code block, no stored
// block): the server must answer each without waiting for more input.
// The bytes are Python zlib's (compressobj(6, DEFLATED, -15)).
func TestCompressPartialFlush(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	nc, err := net.Dial("tcp", f.start())
	if err != nil {
		t.Fatal(err)
	}
	c := newZClient(t, nc)
	c.send("a1 LOGIN alice secret")
	c.expect("a1 OK ")
	c.compress("a2")
	for i, h := range []string{
		"4a3456f0f3f70fe0e50208", // "a3 NOOP\r\n", partial flush
		"a04413280320",           // "a4 NOOP\r\n", same stream
	} {
		b, _ := hex.DecodeString(h)
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
		c.expectExactly(fmt.Sprintf("a%d OK NOOP completed", i+3))
	}
}

// TestCompressAfterSTARTTLS layers DEFLATE inside TLS (RFC 4978 §3).
func TestCompressAfterSTARTTLS(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	dir := t.TempDir()
	certPath, keyPath, err := tlsconf.GenerateSelfSigned(dir, testHost, []string{testHost})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	f.opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	nc, err := net.Dial("tcp", f.start())
	if err != nil {
		t.Fatal(err)
	}
	c := newZClient(t, nc)
	c.send("a1 STARTTLS")
	c.expectExactly("a1 OK Begin TLS negotiation now")
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
	c.nc, c.w, c.br = tc, tc, bufio.NewReader(tc)
	c.send("a2 LOGIN alice secret")
	c.expect("a2 OK ")
	c.compress("a3")
	c.send("a4 STARTTLS")
	c.expectExactly("a4 BAD STARTTLS not allowed in the authenticated state")
	c.send("a5 LIST \"\" INBOX")
	c.expectExactly(`* LIST (\HasNoChildren) "/" INBOX`, "a5 OK LIST completed")
	c.send("a6 LOGOUT")
	c.expect("a6 OK ")
}

// bigMessage is a message of about n octets, half of it text that
// compresses, half random base64 that does not.
func bigMessage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: bob@example.org\r\nSubject: big\r\n\r\n")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; b.Len() < n; i++ {
		if i%2 == 0 {
			b.WriteString("line " + strconv.Itoa(i) + " of a message that repeats itself\r\n")
			continue
		}
		for range 19 {
			b.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[r.IntN(64)])
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// FuzzCompressedInput feeds arbitrary bytes to the server as the client's
// DEFLATE stream after COMPRESS (RFC 4978 §3): valid compressed commands,
// corrupt blocks, a final block followed by more data. The inflater is
// compress/flate's, but what it yields goes through the same decoder as
// clear input. A panic fails TestMain; a hang fails the read deadline.
func FuzzCompressedInput(f *testing.F) {
	deflate := func(level int, s string, final bool) []byte {
		var b bytes.Buffer
		zw, _ := flate.NewWriter(&b, level)
		io.WriteString(zw, s)
		if final {
			zw.Close()
		} else {
			zw.Flush()
		}
		return b.Bytes()
	}
	f.Add(deflate(flate.BestSpeed, "a NOOP\r\n", false))
	f.Add(deflate(flate.BestCompression, "a SELECT INBOX\r\na FETCH 1:* (FLAGS BODY.PEEK[])\r\na IDLE\r\nDONE\r\n", false))
	f.Add(deflate(flate.HuffmanOnly, "a APPEND INBOX {5+}\r\nhello\r\n", true))
	f.Add(append(deflate(flate.BestSpeed, "a NOOP\r\n", true), "a NOOP\r\n"...))
	f.Add([]byte("a NOOP\r\n")) // clear text where DEFLATE is expected
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	fx := newFixture(f)
	if err := fx.addUser("alice", "secret"); err != nil {
		f.Fatal(err)
	}
	fx.deliver("alice", "INBOX", []byte("From: bob@example.org\r\nSubject: hi\r\n\r\nx\r\n"))
	addr := fx.start()
	f.Fuzz(func(t *testing.T, input []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			io.WriteString(nc, "p1 LOGIN alice secret\r\np2 COMPRESS DEFLATE\r\n")
			nc.Write(input)
			nc.(*net.TCPConn).CloseWrite()
		}()
		if _, err := io.Copy(io.Discard, nc); err != nil {
			t.Fatalf("reading the server's answer to %q: %v", input, err)
		}
	})
}

// TestUnauthenticateUnderCompress: UNAUTHENTICATE (RFC 8437 §3) keeps
// COMPRESS in effect, and on a connection without TLS the STARTTLS that
// the not-authenticated state would offer is neither advertised nor
// allowed, since TLS would then run inside the compression (RFC 4978 §3).
// Logging in again works over the same compressed stream.
func TestUnauthenticateUnderCompress(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "secret")
	dir := t.TempDir()
	certPath, keyPath, err := tlsconf.GenerateSelfSigned(dir, testHost, []string{testHost})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	f.opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	nc, err := net.Dial("tcp", f.start())
	if err != nil {
		t.Fatal(err)
	}
	c := newZClient(t, nc)
	c.send("a1 CAPABILITY")
	if l := c.expect("* CAPABILITY "); !strings.Contains(l, " STARTTLS") {
		t.Fatalf("no STARTTLS before login: %q", l)
	}
	c.expect("a1 OK ")
	c.send("a2 LOGIN alice secret")
	c.expect("a2 OK ")
	c.compress("a3")
	c.send("a4 UNAUTHENTICATE")
	if l := c.expect("a4 "); !strings.HasPrefix(l, "a4 OK [CAPABILITY ") || strings.Contains(l, "STARTTLS") {
		t.Fatalf("UNAUTHENTICATE under COMPRESS: %q; want OK without STARTTLS", l)
	}
	c.send("a5 STARTTLS")
	c.expectExactly("a5 BAD STARTTLS not available")
	c.send("a6 LOGIN alice secret")
	c.expect("a6 OK ")
	c.send("a7 LIST \"\" INBOX")
	c.expectExactly(`* LIST (\HasNoChildren) "/" INBOX`, "a7 OK LIST completed")
	c.send("a8 LOGOUT")
	c.expect("a8 OK ")
}
