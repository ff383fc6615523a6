package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// FileReaderCommand is the hidden command line word that runs the helper
// of StartFileReader: `postern <FileReaderCommand> PATH...`.
const FileReaderCommand = "privileged-file-reader"

// maxReadFile bounds what the helper sends for one file; certificates and
// keys are a few kilobytes.
const maxReadFile = 1 << 20

// FileReader reads a fixed set of files with the credentials the process
// had before DropPrivileges, through a helper process started before the
// drop. It is how a server running as Run-As-User re-reads, on reload,
// certificate and key files only root may read (Let's Encrypt's
// /etc/letsencrypt/live/… are root-only), without keeping root itself: the
// helper does nothing but read the files it was started with, so the
// server gains no access it did not have at start. The helper ends when
// the server does (its end of the socket closes).
type FileReader struct {
	mu   sync.Mutex
	conn *os.File
	r    *bufio.Reader
	cmd  *exec.Cmd
}

// StartFileReader starts the helper, exe run with FileReaderCommand and
// paths, before the privileges are dropped.
func StartFileReader(exe string, paths []string) (*FileReader, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("file reader: socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "file-reader"), os.NewFile(uintptr(fds[1]), "file-reader-child")
	cmd := exec.Command(exe, append([]string{FileReaderCommand}, paths...)...)
	cmd.ExtraFiles = []*os.File{theirs} // fd 3 in the child
	cmd.Stderr = os.Stderr
	// Its own process group: a Ctrl-C or a SIGHUP meant for the server
	// does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		ours.Close()
		return nil, fmt.Errorf("file reader: %w", err)
	}
	go cmd.Wait() // reap it whenever it ends
	return &FileReader{conn: ours, r: bufio.NewReader(ours), cmd: cmd}, nil
}

// ReadFile returns the contents and mode of path, which must be one of the
// paths the helper was started with. Errors keep fs.ErrNotExist and
// fs.ErrPermission for errors.Is.
func (fr *FileReader) ReadFile(path string) ([]byte, fs.FileMode, error) {
	if strings.ContainsAny(path, "\n\x00") {
		return nil, 0, fmt.Errorf("file reader: bad path %q", path)
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if _, err := io.WriteString(fr.conn, path+"\n"); err != nil {
		return nil, 0, fmt.Errorf("file reader: %w", err)
	}
	line, err := fr.r.ReadString('\n')
	if err != nil {
		return nil, 0, fmt.Errorf("file reader: %w", err)
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 3 && f[0] == "OK":
		mode, err1 := strconv.ParseUint(f[1], 8, 32)
		size, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || size < 0 || size > maxReadFile {
			return nil, 0, fmt.Errorf("file reader: bad reply %q", line)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(fr.r, data); err != nil {
			return nil, 0, fmt.Errorf("file reader: %w", err)
		}
		return data, fs.FileMode(mode), nil
	case len(f) >= 2 && f[0] == "ERR":
		return nil, 0, &fs.PathError{Op: "read", Path: path, Err: errnoFromName(f[1], strings.Join(f[2:], " "))}
	}
	return nil, 0, fmt.Errorf("file reader: bad reply %q", line)
}

// Close ends the helper.
func (fr *FileReader) Close() error {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.conn.Close()
}

// NewFileReaderConn returns a FileReader that asks over conn, a stream
// socket whose other end runs ServeFileReaderWith: how a worker process
// reads certificates through its supervisor's reader (docs/supervisor.md).
func NewFileReaderConn(conn *os.File) *FileReader {
	return &FileReader{conn: conn, r: bufio.NewReader(conn)}
}

// ServeFileReaderWith answers FileReader requests on conn with read, until
// conn ends: the supervisor's side of NewFileReaderConn.
func ServeFileReaderWith(conn io.ReadWriter, read func(string) ([]byte, fs.FileMode, error)) error {
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		path := strings.TrimSuffix(line, "\n")
		if data, mode, err := read(path); err != nil {
			fmt.Fprintf(w, "ERR %s %s\n", errnoName(err), strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(w, "OK %o %d\n", uint32(mode), len(data))
			w.Write(data)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// ServeFileReader is the helper's side: it answers requests on conn (fd 3)
// for the files in paths, and nothing else, until conn closes.
func ServeFileReader(conn *os.File, paths []string) error {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT)
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		path := strings.TrimSuffix(line, "\n")
		if !slices.Contains(paths, path) {
			fmt.Fprintf(w, "ERR EPERM %s is not a file this helper reads\n", strconv.Quote(path))
		} else if data, mode, err := readRegular(path); err != nil {
			fmt.Fprintf(w, "ERR %s %s\n", errnoName(err), strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(w, "OK %o %d\n", uint32(mode), len(data))
			w.Write(data)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// readRegular reads a regular file of at most maxReadFile bytes and its mode
// (from the open descriptor, as tlsconf checks it).
func readRegular(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi.Mode(), &fs.PathError{Op: "read", Path: path, Err: syscall.EINVAL}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxReadFile+1))
	if err == nil && len(data) > maxReadFile {
		err = &fs.PathError{Op: "read", Path: path, Err: syscall.EFBIG}
	}
	return data, fi.Mode(), err
}

// The errors the helper passes on by name; others become EIO.
var errnoNames = map[string]syscall.Errno{
	"ENOENT": syscall.ENOENT, "EACCES": syscall.EACCES, "EPERM": syscall.EPERM,
	"EINVAL": syscall.EINVAL, "EFBIG": syscall.EFBIG, "ENOTDIR": syscall.ENOTDIR, "EIO": syscall.EIO,
}

func errnoName(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		for name, e := range errnoNames {
			if e == en {
				return name
			}
		}
	}
	return "EIO"
}

// helperError is an errno from the helper with its message.
type helperError struct {
	errno syscall.Errno
	msg   string
}

func (e *helperError) Error() string { return e.msg }

func (e *helperError) Unwrap() error { return e.errno }

func errnoFromName(name, msg string) error {
	en, ok := errnoNames[name]
	if !ok {
		en = syscall.EIO
	}
	return &helperError{errno: en, msg: msg}
}
