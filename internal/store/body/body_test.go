package body

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

func testFiles(t *testing.T) Files {
	t.Helper()
	dir := t.TempDir()
	f := Files{Dir: filepath.Join(dir, "msg"), Spool: filepath.Join(dir, "tmp")}
	if err := f.Init(); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFilesRoundTrip: a committed body opens with its octets, nothing is
// left in the spool, an aborted one leaves nothing, and a removed one is
// ErrNoSuchMessage.
func TestFilesRoundTrip(t *testing.T) {
	ctx := t.Context()
	f := testFiles(t)
	w, err := f.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: x\r\n\r\nbody\r\n")
	name := NewName()
	if err := w.Commit(ctx, name); err != nil {
		t.Fatal(err)
	}
	c, err := f.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
	c.Close()
	if string(got) != "Subject: x\r\n\r\nbody\r\n" {
		t.Errorf("read back %q", got)
	}
	w2, _ := f.Create(ctx)
	io.WriteString(w2, "aborted")
	w2.Abort()
	if ents, _ := os.ReadDir(f.Spool); len(ents) != 0 {
		t.Errorf("spool holds %d files", len(ents))
	}
	if err := f.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(ctx, name); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	if _, err := f.Open(ctx, name); !errors.Is(err, store.ErrNoSuchMessage) {
		t.Errorf("Open after Remove: %v; want ErrNoSuchMessage", err)
	}
}

// TestPrepare: the pipeline normalises line endings, hashes, parses,
// marks NUL content foreign with its head, dates undated requests, and
// refuses oversized and malformed content.
func TestPrepare(t *testing.T) {
	ctx := t.Context()
	f := testFiles(t)
	now := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	run := func(req store.AppendRequest) (*Prepared, string, error) {
		w, err := f.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		p, err := Prepare(ctx, w, req, now)
		if err != nil {
			return nil, "", err
		}
		b := make([]byte, p.Size)
		w.ReadAt(b, 0)
		return p, string(b), nil
	}
	p, got, err := run(store.AppendRequest{Content: strings.NewReader("Subject: hi\n\nbody\n"), Flags: store.Flags{`\seen`}})
	if err != nil {
		t.Fatal(err)
	}
	if got != "Subject: hi\r\n\r\nbody\r\n" || p.Size != int64(len(got)) || len(p.Sum) != 32 || p.Part == nil || p.Foreign || !p.Date.Equal(now) {
		t.Errorf("prepared %q size %d foreign %v date %v", got, p.Size, p.Foreign, p.Date)
	}
	if p.Doc != nil {
		t.Errorf("Prepare made the index entry %v; IndexDoc's job", p.Doc)
	}
	p.IndexDoc(strings.NewReader(got))
	if !p.Flags.Has(store.FlagSeen) || p.Doc == nil {
		t.Errorf("flags %v, doc %v", p.Flags, p.Doc)
	}
	p, _, err = run(store.AppendRequest{Content: strings.NewReader("Subject: bin\r\n\r\nA\x00B")})
	if err != nil {
		t.Fatalf("NUL content: %v", err)
	}
	if !p.Foreign || string(p.Head) != "A\x00B" {
		t.Errorf("NUL content: foreign %v head %q", p.Foreign, p.Head)
	}
	_, got, err = run(store.AppendRequest{Content: strings.NewReader("Subject: x\n\nbare\rCR"), Exact: true})
	if err != nil || got != "Subject: x\n\nbare\rCR" {
		t.Errorf("exact: %q, %v", got, err)
	}
	if _, _, err := run(store.AppendRequest{Content: strings.NewReader("Subject: big\n\n" + strings.Repeat("x", 200)), MaxSize: 100}); !errors.Is(err, store.ErrTooBig) {
		t.Errorf("oversized: %v; want ErrTooBig", err)
	}
	if _, _, err := run(store.AppendRequest{Content: strings.NewReader("")}); !errors.Is(err, message.ErrMalformed) {
		t.Errorf("empty: %v; want ErrMalformed", err)
	}
}
