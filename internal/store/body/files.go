package body

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/postern/postern/internal/store"
)

// Files keeps bodies as files: each in Dir/<first two hex digits>/<name>,
// written in Spool first, renamed into place, then fsynced with its
// directory. A body is whole under its name once Commit returns; a crash
// before that may leave it partial under its name, but no index row names
// it yet (the row is written after Commit), so it is an orphan that the
// store's sweep removes.
type Files struct {
	Dir   string // where committed bodies live
	Spool string // where bodies are written before Commit; same file system as Dir
}

var _ Bodies = Files{}

// Init creates Dir and Spool and the 256 subdirectories of Dir, so that a
// commit only has to fsync the subdirectory it renamed into.
func (f Files) Init() error {
	for _, d := range []string{f.Dir, f.Spool} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	created := false
	for i := range 256 {
		d := filepath.Join(f.Dir, fmt.Sprintf("%02x", i))
		if _, err := os.Stat(d); err == nil {
			continue
		}
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		created = true
	}
	if created {
		return SyncDir(f.Dir)
	}
	return nil
}

// Path is where the body of that name lives.
func (f Files) Path(name string) string {
	return filepath.Join(f.Dir, name[:2], name)
}

// Create starts a body in the spool directory.
func (f Files) Create(context.Context) (Writer, error) {
	tmp, err := os.CreateTemp(f.Spool, "append-*")
	if err != nil {
		return nil, err
	}
	return &fileWriter{f: f, File: tmp}, nil
}

// Open opens a body file for reading.
func (f Files) Open(_ context.Context, name string) (store.Content, error) {
	fd, err := OpenReadOnly(f.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("content %s: %w", name, store.ErrNoSuchMessage)
	}
	if err != nil {
		return nil, err
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, err
	}
	return FileContent{fd, st.Size()}, nil
}

// Remove removes a body file.
func (f Files) Remove(_ context.Context, name string) error {
	if err := os.Remove(f.Path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

type fileWriter struct {
	f Files
	*os.File
}

// Commit renames the body into place and then fsyncs it and its
// directory. Renaming first lets one journal commit carry both: on ext4
// the file's fsync commits the rename too, and the directory's fsync then
// finds nothing left to write (5.8 against 3.3 ms per body on the bench
// machine, bench/RESULTS.md). Either order makes the body durable under
// its name before Commit returns.
func (w *fileWriter) Commit(_ context.Context, name string) error {
	dst := w.f.Path(name)
	if err := os.Rename(w.Name(), dst); err != nil {
		w.Abort()
		return err
	}
	err := w.Sync()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = SyncDir(filepath.Dir(dst))
	}
	if err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}

func (w *fileWriter) Abort() {
	w.Close()
	os.Remove(w.Name())
}

// FileContent is a body file open for reading, with its size.
type FileContent struct {
	*os.File
	N int64
}

// Size is the body's length in octets.
func (c FileContent) Size() int64 { return c.N }

// OpenReadOnly opens a file for reading. It skips what os.Open does for
// files that might be pipes (set non-blocking, try to register with the
// network poller, which a regular file refuses, set blocking again): five
// system calls per message read, here one plus NewFile's flag check.
func OpenReadOnly(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
	}
}

// SyncDir fsyncs a directory, making the renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
