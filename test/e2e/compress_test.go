package e2e

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIMAPCompressPythonZlib drives COMPRESS=DEFLATE (RFC 4978) with
// Python's imaplib over the unencrypted port, its socket wrapped by hand
// in zlib's raw DEFLATE (wbits -15, sync flush per command): select,
// fetch every body, a second COMPRESS (NO [COMPRESSIONACTIVE]), an IDLE
// that sees a delivery pushed, and logout.
func TestIMAPCompressPythonZlib(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "Server-Trace: on\nTrace-Synch: 1")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 20)
	script := `
import imaplib, sys, zlib
imaplib.Commands["COMPRESS"] = ("AUTH", "SELECTED")

class Z(imaplib.IMAP4):
    zon = False
    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        assert typ == "OK" and data == [b"DEFLATE active"], (typ, data)
        self.zc = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.zd = zlib.decompressobj(-15)
        self.zbuf = b""
        self.zon = True
    def send(self, data):
        if self.zon:
            data = self.zc.compress(data) + self.zc.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)
    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("eof")
        self.zbuf += self.zd.decompress(chunk)
    def read(self, size):
        if not self.zon:
            return super().read(size)
        while len(self.zbuf) < size:
            self._fill()
        out, self.zbuf = self.zbuf[:size], self.zbuf[size:]
        return out
    def readline(self):
        if not self.zon:
            return super().readline()
        while b"\n" not in self.zbuf:
            self._fill()
        i = self.zbuf.index(b"\n") + 1
        out, self.zbuf = self.zbuf[:i], self.zbuf[i:]
        return out

M = Z("localhost", int(sys.argv[1]))
M.login("alice", "alice-pw")
typ, caps = M.capability(); assert b"COMPRESS=DEFLATE" in caps[0], caps
M.compress()
typ, data = M.select("INBOX"); assert typ == "OK" and data[0] == b"20", data
typ, data = M.fetch("1:20", "(BODY.PEEK[])")
bodies = [d[1] for d in data if isinstance(d, tuple)]
assert len(bodies) == 20 and all(b"body of message" in b for b in bodies), data
typ, data = M._simple_command("COMPRESS", "DEFLATE")
assert typ == "NO" and data[0].startswith(b"[COMPRESSIONACTIVE]"), (typ, data)
tag = M._new_tag(); M.send(tag + b" IDLE\r\n"); line = M.readline(); assert line.startswith(b"+"), line
print("idling", flush=True)
sys.stdin.readline()
line = M.readline(); assert line == b"* 21 EXISTS\r\n", line
M.send(b"DONE\r\n")
while True:
    line = M.readline()
    if line.startswith(tag):
        assert line.startswith(tag + b" OK"), line
        break
typ, data = M.fetch("21", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"); assert b"Subject" in data[0][1], data
M.logout()
print("ok")
`
	out := pythonIdle(t, script, func() { e.deliverIMAP("alice", 1) }, strconv.Itoa(p.plain))
	if !strings.Contains(out, "ok") {
		t.Fatalf("imaplib with zlib: %s", out)
	}
	// The trace shows the compressed session in clear.
	trace := readLog(t, e.logs, "postern-imap-*-trace.log")
	for _, want := range []string{"COMPRESS DEFLATE", "OK DEFLATE active", "NO [COMPRESSIONACTIVE]", "* 21 EXISTS"} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%.3000s", want, trace)
		}
	}
}

// pythonIdle runs a Python script that prints "idling" when it waits in
// IDLE and then reads a line from stdin: between the two, act runs, so
// that what the script reads next is the server pushing act's effect.
func pythonIdle(t *testing.T, script string, act func(), args ...string) string {
	t.Helper()
	py := requireTool(t, "python3")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-c", script}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(stdout)
	var out strings.Builder
	for {
		l, err := br.ReadString('\n')
		out.WriteString(l)
		if err != nil {
			cmd.Wait()
			t.Fatalf("python ended before IDLE: %v\n%s%s", err, out.String(), stderr.String())
		}
		if l == "idling\n" {
			break
		}
	}
	act()
	io.WriteString(stdin, "\n")
	rest, _ := io.ReadAll(br)
	out.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python: %v\n%s%s", err, out.String(), stderr.String())
	}
	return out.String()
}
