package imapserver

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/postern/postern/internal/store"
)

// faultStore is the fault-injecting seam of the append tests: its
// sessions' Append reads part of the first message, as a store writing it
// would, then fails with appendErr wrapped as a file error, as a full disk
// makes the SQLite store fail (issue 12, item 5).
type faultStore struct {
	store.Store
	appendErr error
}

func (s faultStore) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	sess, err := s.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return faultSession{Session: sess, appendErr: s.appendErr}, nil
}

type faultSession struct {
	store.Session
	appendErr error
}

func (s faultSession) Append(ctx context.Context, mailbox store.MailboxID, reqs ...store.AppendRequest) ([]store.AppendResult, error) {
	if len(reqs) > 0 {
		io.CopyN(io.Discard, reqs[0].Content, 10)
	}
	return nil, fmt.Errorf("append: %w", &os.PathError{Op: "write", Path: "msg/tmp/append-1", Err: s.appendErr})
}

// wrapPath wraps errno as the error of a file operation.
func wrapPath(errno error) error {
	return fmt.Errorf("spool: %w", &os.PathError{Op: "write", Path: "/var/tmp/x", Err: errno})
}

func itoa(n int) string { return fmt.Sprint(n) }

// Quota passes the wrapped store's quota through, so that the server
// advertises QUOTA over a faultStore as over the store itself.
func (s faultStore) Quota(ctx context.Context, id store.AccountID) (store.Quota, error) {
	return s.Store.(store.QuotaKeeper).Quota(ctx, id)
}
