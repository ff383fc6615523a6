package server

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary be the helper StartFileReader runs.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == FileReaderCommand {
		if err := ServeFileReader(os.NewFile(3, "file-reader"), os.Args[2:]); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestFileReader(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "server.key")
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone.crt")
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("secret"), 0o600)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fr, err := StartFileReader(exe, []string{key, missing, dir})
	if err != nil {
		t.Fatal(err)
	}
	data, mode, err := fr.ReadFile(key)
	if err != nil || string(data) != "-----BEGIN PRIVATE KEY-----\n" || mode.Perm() != 0o600 || !mode.IsRegular() {
		t.Errorf("ReadFile(key) = %q, %v, %v", data, mode, err)
	}
	// Replaced on disk: read again, as a reload does.
	os.WriteFile(key+".new", []byte("renewed"), 0o640)
	os.Rename(key+".new", key)
	if data, mode, err := fr.ReadFile(key); err != nil || string(data) != "renewed" || mode.Perm() != 0o640 {
		t.Errorf("after renewal: %q, %v, %v", data, mode, err)
	}
	if _, _, err := fr.ReadFile(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, _, err := fr.ReadFile(other); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("a file it was not started with: %v, want a permission error", err)
	}
	if _, _, err := fr.ReadFile(dir); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a directory: %v, want EINVAL", err)
	}
	// Closing the socket ends the helper.
	pid := fr.cmd.Process.Pid
	fr.Close()
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("helper %d still running after Close", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S …": the state follows the last ')'.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z'
		}
	}
	return false
}
