package e2e

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hugeMessage streams a message of about n octets without holding it.
func hugeMessage(n int64) io.Reader {
	head := "From: big@example.org\nSubject: huge\n\n"
	line := strings.Repeat("0123456789abcdef", 4) + "\n" // 65 octets
	body := io.LimitReader(&repeater{s: line}, n-int64(len(head)))
	return io.MultiReader(strings.NewReader(head), body)
}

type repeater struct {
	s   string
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

// TestDeliverHugeMessage delivers 100 MiB: refused with EX_DATAERR and
// nothing left behind when over the limit, stored when under it, and in
// both cases with memory far below the message size.
func TestDeliverHugeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB; skipped in -short mode")
	}
	t.Parallel()
	const size = 100 << 20
	for _, c := range []struct {
		limit string
		code  int
	}{{"64M", 65}, {"128M", 0}} {
		e := newEnv(t, "Max-Message-Size: "+c.limit)
		e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
		cmd := exec.Command(binary, "deliver", "alice")
		cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+e.conf)
		cmd.Stdin = hugeMessage(size)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if code != c.code {
			t.Fatalf("limit %s: exit %d (%v), want %d; stderr %q", c.limit, code, err, c.code, stderr.String())
		}
		maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
		if maxRSS > size/2 {
			t.Errorf("limit %s: deliver peaked at %d MiB resident for a 100 MiB message", c.limit, maxRSS>>20)
		}
		if left, _ := os.ReadDir(filepath.Join(e.data, "tmp")); len(left) != 0 {
			t.Errorf("limit %s: %d files left in tmp/", c.limit, len(left))
		}
		want := 0
		if c.code == 0 {
			want = 1
		}
		if n := mailboxCounts(t, e.data, "alice")["INBOX"]; n != want {
			t.Errorf("limit %s: INBOX holds %d messages, want %d", c.limit, n, want)
		}
		t.Logf("limit %s: exit %d, peak RSS %d MiB", c.limit, code, maxRSS>>20)
	}
}
