package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestControlRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	handlers := map[string]CtlHandler{
		"echo": func(_ context.Context, args []string, w io.Writer) error {
			_, err := io.WriteString(w, strings.Join(args, "+")+"\nsecond line\n")
			return err
		},
		"fail": func(context.Context, []string, io.Writer) error { return errors.New("it broke\nbadly") },
	}
	s, err := ListenControl(path, slog.New(slog.DiscardHandler), handlers)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", fi, err)
	}
	var out bytes.Buffer
	if err := CtlRequest(ctx, path, "ECHO a b", &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a+b\nsecond line\n" {
		t.Errorf("echo output %q", out.String())
	}
	err = CtlRequest(ctx, path, "fail", io.Discard)
	if err == nil || err.Error() != "it broke; badly" {
		t.Errorf("fail: %v", err)
	}
	if err := CtlRequest(ctx, path, "nope", io.Discard); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown: %v", err)
	}
	// A second server on the same socket must refuse while the first lives.
	if _, err := ListenControl(path, slog.New(slog.DiscardHandler), handlers); err == nil {
		t.Error("second ListenControl succeeded on a live socket")
	}
}

func TestCtlRequestNotRunning(t *testing.T) {
	err := CtlRequest(context.Background(), filepath.Join(t.TempDir(), "none.sock"), "stats", io.Discard)
	if !errors.Is(err, ErrNotRunning) {
		t.Errorf("err = %v, want ErrNotRunning", err)
	}
}

func TestListenReportsAddress(t *testing.T) {
	lns, err := Listen(context.Background(), []string{"127.0.0.1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lns[0].Close()
	if _, err := Listen(context.Background(), []string{"192.0.2.1"}, 1); err == nil || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Errorf("bind to a foreign address: %v", err)
	}
}
