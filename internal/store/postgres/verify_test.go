package postgres

import (
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// TestVerify: a sound store verifies clean with every body read; a
// changed chunk is corrupt, a removed body missing, and a UIDNEXT below
// the messages' UIDs an invariant problem.
func TestVerify(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, pgtest.New(t), Options{})
	acc, err := s.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := s.Open(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	inbox, _ := ss.Mailbox(ctx, "INBOX")
	for _, subject := range []string{"one", "two", "three"} {
		appendMsg(t, ss, inbox.ID, subject)
	}
	var done int64
	r, err := s.Verify(ctx, func(d, _ int64) { done = d })
	if err != nil || !r.OK() || r.Messages != 3 || r.Bodies != 3 || done != 3 || r.Bytes == 0 {
		t.Fatalf("sound store: %+v, %v (progress %d)", r, err, done)
	}
	var first, second string
	if err := s.pool.QueryRow(ctx, `SELECT min(body), max(body) FROM content`).Scan(&first, &second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE body_chunk SET data = overlay(data placing 'X'::bytea from 1) WHERE name = $1`, first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM body_head WHERE name = $1`, second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE mailbox SET uidnext = 2 WHERE id = $1`, inbox.ID); err != nil {
		t.Fatal(err)
	}
	r, err = s.Verify(ctx, nil)
	if err != nil || r.OK() {
		t.Fatalf("damaged store verified: %+v, %v", r, err)
	}
	if len(r.Corrupt) != 1 || !strings.HasPrefix(r.Corrupt[0], first) || !strings.Contains(r.Corrupt[0], "SHA-256") {
		t.Errorf("corrupt: %q, want %s", r.Corrupt, first)
	}
	if len(r.Missing) != 1 || r.Missing[0] != second {
		t.Errorf("missing: %q, want %s", r.Missing, second)
	}
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "UIDNEXT 2 is not above its highest UID 3") {
		t.Errorf("problems: %q", r.Problems)
	}
}
