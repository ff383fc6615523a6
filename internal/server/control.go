package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// The control protocol is line-based and private to this binary: the client
// sends one command line; the server answers with any number of text lines
// and ends with a line "OK" or "ERR message", then closes.
const (
	ctlMaxLine     = 1024
	ctlDeadline    = 30 * time.Second
	ctlReplyOK     = "OK"
	ctlReplyErrPfx = "ERR "
)

// CtlHandler answers one control command. args are the words after the
// command name. What it writes to w is sent to the client; an error is sent
// as the final ERR line.
type CtlHandler func(ctx context.Context, args []string, w io.Writer) error

// ControlServer serves the control socket.
type ControlServer struct {
	path     string
	logger   *slog.Logger
	handlers map[string]CtlHandler

	mu sync.Mutex
	ln net.Listener
	wg sync.WaitGroup
	// keep leaves the socket file in place at Close: another process (an
	// upgraded supervisor) serves the same socket.
	keep bool
}

// FallbackCommand is the handlers key whose handler gets every command no
// other key names, with the command word as its first argument: how the
// supervisor passes a worker's own commands (queue, listeners) on.
const FallbackCommand = "*"

// ServeControlOn serves the control protocol on ln, a socket at path that
// the process inherited (an upgrade passes it on).
func ServeControlOn(ln net.Listener, path string, logger *slog.Logger, handlers map[string]CtlHandler) *ControlServer {
	return &ControlServer{path: path, logger: logger, handlers: handlers, ln: ln}
}

// Listener returns the control socket, for passing it to another process.
func (s *ControlServer) Listener() net.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln
}

// Keep makes Close leave the socket file: another process serves it now.
func (s *ControlServer) Keep() {
	s.mu.Lock()
	s.keep = true
	if ul, ok := s.ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	s.mu.Unlock()
}

// ListenControl creates the control socket at path, mode 0600, replacing a
// stale socket left by a crashed server. It refuses to replace a socket a
// live server still answers on.
func ListenControl(path string, logger *slog.Logger, handlers map[string]CtlHandler) (*ControlServer, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another server is running", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale control socket: %w", err)
	}
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &ControlServer{path: path, logger: logger, handlers: handlers, ln: ln}, nil
}

// Serve accepts control connections until ctx is done or Close is called.
func (s *ControlServer) Serve(ctx context.Context) {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return
	}
	stop := context.AfterFunc(ctx, s.Close)
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ln == nil { // closing: Close is waiting on wg
			s.mu.Unlock()
			c.Close()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
		}()
	}
}

// Close stops accepting, waits for running commands, and removes the socket.
func (s *ControlServer) Close() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln == nil {
		return
	}
	ln.Close()
	s.wg.Wait()
	if !s.keep {
		os.Remove(s.path)
	}
}

func (s *ControlServer) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(ctlDeadline))
	line, err := bufio.NewReaderSize(io.LimitReader(c, ctlMaxLine), ctlMaxLine).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	words := strings.Fields(line)
	w := bufio.NewWriter(c)
	defer w.Flush()
	if len(words) == 0 {
		fmt.Fprintf(w, "%sempty command\n", ctlReplyErrPfx)
		return
	}
	h, ok := s.handlers[strings.ToLower(words[0])]
	args := words[1:]
	if fb, isFB := s.handlers[FallbackCommand]; !ok && isFB {
		h, ok, args = fb, true, words
	}
	if !ok {
		fmt.Fprintf(w, "%sunknown command %q\n", ctlReplyErrPfx, words[0])
		return
	}
	s.logger.Info("control command", "cmd", strings.ToLower(words[0]))
	if err := h(ctx, args, w); err != nil {
		fmt.Fprintf(w, "%s%s\n", ctlReplyErrPfx, oneLine(err.Error()))
		return
	}
	fmt.Fprintln(w, ctlReplyOK)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// ErrNotRunning is returned by CtlRequest when no server answers.
var ErrNotRunning = errors.New("the server is not running")

// CtlRequest sends one command to the control socket at path and copies the
// answer to out. A final ERR line becomes the returned error.
func CtlRequest(ctx context.Context, path, cmd string, out io.Writer) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("%w (no control socket at %s: %v)", ErrNotRunning, path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ctlDeadline))
	if _, err := fmt.Fprintf(c, "%s\n", cmd); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == ctlReplyOK:
			return nil
		case strings.HasPrefix(line, ctlReplyErrPfx):
			return errors.New(strings.TrimPrefix(line, ctlReplyErrPfx))
		}
		fmt.Fprintln(out, line)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	return errors.New("control socket: the server closed the connection without an answer")
}
