package imapserver

import (
	"context"
	"time"

	"github.com/postern/postern/internal/store"
)

// partSaveDateStore is a store whose save dates begin at UID from in
// every mailbox: older messages have none, as those stored before the
// store recorded save dates (transcript option save-dates-from).
type partSaveDateStore struct {
	store.Store
	from store.UID
}

type partSaveDateSession struct {
	store.Session
	from store.UID
}

func (p partSaveDateStore) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	s, err := p.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return partSaveDateSession{s, p.from}, nil
}

func (p partSaveDateSession) SaveDates(ctx context.Context, mailbox store.MailboxID, uids []store.UID) (map[store.UID]time.Time, error) {
	m, err := p.Session.(store.SaveDateKeeper).SaveDates(ctx, mailbox, uids)
	for u := range m {
		if u < p.from {
			m[u] = time.Time{}
		}
	}
	return m, err
}
