package source

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth"
)

// SystemHelperCommand is the hidden command line word that runs the
// privileged part of the system source: `postern
// privileged-system-accounts PASSWD SHADOW MINUID`, started by `postern
// serve` before it drops root, speaking on fd 3.
const SystemHelperCommand = "privileged-system-accounts"

// The helper's protocol, one request at a time, one line each way:
//
//	L NAME             → U DISABLED(0|1) EXPIRES(unix seconds, 0 never) | N | E MESSAGE
//	V NAME HEXPASSWORD → Y | F | E MESSAGE
//
// No answer ever holds a hash.
const maxHelperLine = 2 * auth.MaxPasswordLine

// helperTimeout bounds one question to the helper (a yescrypt of a high
// cost included); past it the login is a temporary failure.
const helperTimeout = 30 * time.Second

// SystemHelper is a SystemChecker that asks the privileged helper
// process. It is safe for concurrent use; questions are answered one at a
// time.
type SystemHelper struct {
	mu   sync.Mutex
	conn *os.File
	r    *bufio.Reader
}

// StartSystemHelper starts exe as the helper over passwd and shadow,
// before the server drops its privileges. The helper ends when the server
// does (its end of the socket closes).
func StartSystemHelper(exe, passwd, shadow string, minUID int) (*SystemHelper, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("system accounts helper: socketpair: %w", err)
	}
	// Non-blocking, so that the file is pollable and takes deadlines.
	syscall.SetNonblock(fds[0], true)
	ours, theirs := os.NewFile(uintptr(fds[0]), "system-accounts"), os.NewFile(uintptr(fds[1]), "system-accounts-child")
	cmd := exec.Command(exe, SystemHelperCommand, passwd, shadow, strconv.Itoa(minUID))
	cmd.ExtraFiles = []*os.File{theirs} // fd 3 in the child
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C and SIGHUP are the server's
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		ours.Close()
		return nil, fmt.Errorf("system accounts helper: %w", err)
	}
	go cmd.Wait()
	return NewSystemHelper(ours), nil
}

// NewSystemHelper returns a client of a helper already connected on conn
// (made non-blocking by the caller, so that questions have a deadline).
func NewSystemHelper(conn *os.File) *SystemHelper {
	return &SystemHelper{conn: conn, r: bufio.NewReaderSize(conn, 512)}
}

// LookupUser asks the helper for name's account.
func (h *SystemHelper) LookupUser(ctx context.Context, name string) (SystemUser, bool, error) {
	if !helperWord(name) {
		return SystemUser{}, false, nil
	}
	resp, err := h.ask("L " + name)
	if err != nil {
		return SystemUser{}, false, err
	}
	f := strings.Fields(resp)
	switch {
	case len(f) == 1 && f[0] == "N":
		return SystemUser{}, false, nil
	case len(f) == 3 && f[0] == "U":
		u := SystemUser{Name: strings.ToLower(name), Disabled: f[1] == "1"}
		if sec, err := strconv.ParseInt(f[2], 10, 64); err == nil && sec != 0 {
			u.Expires = time.Unix(sec, 0).UTC()
		}
		return u, true, nil
	}
	return SystemUser{}, false, fmt.Errorf("%w: system accounts helper: %s", auth.ErrUnavailable, resp)
}

// VerifyUser asks the helper to verify name's password.
func (h *SystemHelper) VerifyUser(ctx context.Context, name, password string) (bool, error) {
	if !helperWord(name) || password == "" || len(password) > auth.MaxPasswordLine/2 {
		return false, nil
	}
	resp, err := h.ask("V " + name + " " + hex.EncodeToString([]byte(password)))
	switch {
	case err != nil:
		return false, err
	case resp == "Y":
		return true, nil
	case resp == "F":
		return false, nil
	}
	return false, fmt.Errorf("%w: system accounts helper: %s", auth.ErrUnavailable, resp)
}

// helperWord reports whether a name can travel in the protocol as one
// word: the helper refuses what is not an account name anyway.
func helperWord(s string) bool {
	return s != "" && len(s) <= 256 && !strings.ContainsAny(s, " \t\r\n\x00")
}

// ask sends one request line and reads the answer, within helperTimeout.
func (h *SystemHelper) ask(req string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn.SetDeadline(time.Now().Add(helperTimeout))
	defer h.conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(h.conn, req+"\n"); err != nil {
		return "", fmt.Errorf("%w: system accounts helper: %v", auth.ErrUnavailable, err)
	}
	line, err := h.r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("%w: system accounts helper: %v", auth.ErrUnavailable, err)
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// Close ends the helper (it exits when its socket closes).
func (h *SystemHelper) Close() error { return h.conn.Close() }

// ServeSystemHelper is the helper's side: it answers the requests of conn
// (fd 3) from files until conn closes. It holds the only copy of the
// hashes it reads, for the time of one request.
func ServeSystemHelper(conn io.ReadWriter, files *SystemFiles) error {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT)
	return ServeSystemChecker(conn, files)
}

// ServeSystemChecker answers the helper protocol on conn from any
// SystemChecker until conn closes: the helper serves its files, and a
// supervisor relays its workers' questions to its helper this way.
func ServeSystemChecker(conn io.ReadWriter, checker SystemChecker) error {
	r := bufio.NewReaderSize(conn, 512)
	w := bufio.NewWriter(conn)
	for {
		line, err := readHelperLine(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(w, answer(checker, line))
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// readHelperLine reads one request, refusing one longer than
// maxHelperLine.
func readHelperLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		part, err := r.ReadSlice('\n')
		b.Write(part)
		if b.Len() > maxHelperLine {
			return "", errors.New("system accounts helper: request too long")
		}
		if err == nil {
			return strings.TrimSuffix(b.String(), "\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
}

// answer answers one request line.
func answer(files SystemChecker, line string) string {
	ctx := context.Background()
	f := strings.Split(line, " ")
	switch {
	case len(f) == 2 && f[0] == "L":
		u, found, err := files.LookupUser(ctx, f[1])
		switch {
		case err != nil:
			return "E " + oneLine(err)
		case !found:
			return "N"
		}
		disabled, exp := "0", int64(0)
		if u.Disabled {
			disabled = "1"
		}
		if !u.Expires.IsZero() {
			exp = u.Expires.Unix()
		}
		return fmt.Sprintf("U %s %d", disabled, exp)
	case len(f) == 3 && f[0] == "V":
		pw, err := hex.DecodeString(f[2])
		if err != nil {
			return "E bad password encoding"
		}
		ok, err := files.VerifyUser(ctx, f[1], string(pw))
		switch {
		case err != nil:
			return "E " + oneLine(err)
		case ok:
			return "Y"
		}
		return "F"
	}
	return "E bad request"
}

// oneLine makes an error one line of the protocol.
func oneLine(err error) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(err.Error())
}
