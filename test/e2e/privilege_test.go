package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestRunAsUser starts the server as root with Run-As-User and checks that
// it runs as that account and that the store's files belong to it.
func TestRunAsUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users; skipped for a developer running as themselves")
	}
	e := newEnv(t, "Run-As-User: nobody")
	// t.TempDir's parents are private; let the unprivileged account reach
	// its data directory.
	for d := e.dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()) && d != os.TempDir() {
			os.Chmod(d, 0o755)
		}
	}
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	s := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	if uid := processUID(t, s.cmd.Process.Pid); uid != 65534 {
		t.Errorf("server runs as uid %d, want nobody (65534)", uid)
	}
	e.run(sampleMessage, "deliver", "alice").must(t, 0)
	e.run("", "ctl", "shutdown").must(t, 0)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	filepath.WalkDir(e.data, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 {
			t.Errorf("%s belongs to uid %d, not nobody", p, st.Uid)
		}
		return nil
	})
}

func processUID(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			uid, _ := strconv.Atoi(strings.Fields(rest)[1]) // effective uid
			return uid
		}
	}
	t.Fatal("no Uid line")
	return -1
}
