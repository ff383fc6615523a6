// Package body is the store-neutral half of storing a message: the append
// pipeline every store backend runs a request through (CRLF
// normalisation, parsing, hashing, the size limit, the search index
// entry), and the seam where immutable message bodies are kept, with its
// local-files implementation. A backend adds its index on top.
package body

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"

	"github.com/postern/postern/internal/store"
)

// Bodies keeps immutable message bodies under names it chooses. A body
// is written once through a Writer, read any number of times, and removed
// when no message refers to it any longer. Implementations are safe for
// concurrent use.
type Bodies interface {
	// Create starts a new body.
	Create(ctx context.Context) (Writer, error)
	// Open opens the body of that name; store.ErrNoSuchMessage when there
	// is none (it was removed).
	Open(ctx context.Context, name string) (store.Content, error)
	// Remove removes the body of that name; a missing body is no error.
	Remove(ctx context.Context, name string) error
}

// Writer is a body being written. What was written can be read back
// before Commit (the pipeline reads the foreign head and the search text
// from it). Exactly one of Commit and Abort must be called.
type Writer interface {
	io.Writer
	io.ReaderAt
	// Commit makes the body durable under the given name, which must be
	// new (see NewName): once Commit returns, Open finds it.
	Commit(ctx context.Context, name string) error
	// Abort discards what was written.
	Abort()
}

// NewName returns a fresh body name: 128 random bits in hex. Names are
// never reused, so a body is never replaced in place.
func NewName() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
