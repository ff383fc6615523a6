package storecopy

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/postgres"
	"github.com/postern/postern/internal/store/postgres/pgtest"
	"github.com/postern/postern/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// snapshot is what clients know of a mailbox.
type snapshot struct {
	uidValidity uint32
	uidNext     store.UID
	modseq      store.ModSeq
	infos       []string // UID, flags, date, size
	contents    [][]byte
	uidls       map[store.UID]string
}

func snap(t *testing.T, st store.Store, account, mailbox string) snapshot {
	t.Helper()
	ctx := t.Context()
	acc, err := st.Account(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := st.Open(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	mb, err := ss.Mailbox(ctx, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{uidValidity: mb.UIDValidity, uidNext: mb.UIDNext, modseq: mb.HighestModSeq, uidls: map[store.UID]string{}}
	infos, err := ss.Messages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		s.infos = append(s.infos, fmt.Sprintf("%d %v %s %d", in.UID, in.Flags, in.InternalDate.Format(time.RFC3339Nano), in.Size))
		c, err := ss.OpenContent(ctx, mb.ID, in.UID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
		c.Close()
		s.contents = append(s.contents, b)
	}
	ss.(store.UIDLKeeper).POP3UIDLs(ctx, mb.ID, func(u store.UID, x string) error { s.uidls[u] = x; return nil })
	return s
}

func appendTo(t *testing.T, ss store.Session, mb store.MailboxID, reqs ...store.AppendRequest) {
	t.Helper()
	if _, err := ss.Append(t.Context(), mb, reqs...); err != nil {
		t.Fatal(err)
	}
}

// TestCopySQLiteToPostgres: a copy keeps UIDVALIDITY, UIDs, UIDNEXT,
// flags, keywords, internal dates with their zones, sizes, octets and
// POP3 unique-ids, raises HIGHESTMODSEQ to at least the source's, keeps
// the account's credentials, subscriptions and active Sieve script; a
// second run after new mail copies only the new mail.
func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := t.Context()
	src, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, pgtest.New(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	hash := "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
	acc, err := src.CreateAccount(ctx, "alice", store.AccountUpdate{PasswordHash: &hash})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := src.Open(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	inbox, _ := ss.Mailbox(ctx, "INBOX")
	zone := time.FixedZone("", 2*3600)
	for i := range 5 {
		appendTo(t, ss, inbox.ID, store.AppendRequest{
			Content: strings.NewReader(fmt.Sprintf("Subject: m%d\n\nbody %d\n", i, i)), Flags: store.Flags{`\Seen`, fmt.Sprintf("kw%d", i)},
			InternalDate: time.Date(2020, 1, i+1, 10, 0, 0, 0, zone),
		})
	}
	appendTo(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: bin\r\n\r\nA\x00B"), Foreign: true})
	ss.Expunge(ctx, inbox.ID, []store.UID{2}) // a gap in the UIDs
	if _, err := ss.(store.IdentityImporter).AppendIdentified(ctx, inbox.ID, store.IdentifiedAppend{
		AppendRequest: store.AppendRequest{Content: strings.NewReader("Subject: kept uidl\n\nx\n")}, UID: 20, POP3UIDL: "abc.123"}); err != nil {
		t.Fatal(err)
	}
	news, err := ss.CreateMailbox(ctx, "Lists/News", "")
	if err != nil {
		t.Fatal(err)
	}
	appendTo(t, ss, news.ID, store.AppendRequest{Content: strings.NewReader("Subject: news\n\nn\n")})
	ss.SetSubscribed(ctx, "Lists/News", true)
	src.PutSieveScript(ctx, acc.ID, "main", "keep;\n")
	src.SetActiveSieveScript(ctx, acc.ID, "main")
	queued := store.QueuedMessage{ID: "q1", Created: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Envelope: []byte(`{"from":"alice@x"}`)}
	queued.NextAttempt = queued.Created.Add(time.Minute)
	if err := src.QueueAdd(ctx, queued, strings.NewReader("Subject: out\r\n\r\nqueued\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := src.QueueClaim(ctx, "old-node", queued.NextAttempt, time.Hour); err != nil { // a lease left by a crash
		t.Fatal(err)
	}

	var calls int
	res, err := Copy(ctx, src, dst, func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 7 || res.Skipped != 0 || res.Queued != 1 || calls == 0 {
		t.Errorf("first copy: %+v, %d progress calls", res, calls)
	}
	for _, name := range []string{"INBOX", "Lists/News"} {
		a, b := snap(t, src, "alice", name), snap(t, dst, "alice", name)
		if a.uidValidity != b.uidValidity || a.uidNext != b.uidNext || !slices.Equal(a.infos, b.infos) || b.modseq < a.modseq {
			t.Errorf("%s: source %+v\ntarget %+v", name, a, b)
		}
		if !slices.EqualFunc(a.contents, b.contents, bytes.Equal) || fmt.Sprint(a.uidls) != fmt.Sprint(b.uidls) {
			t.Errorf("%s: contents or unique-ids differ: %v %v", name, a.uidls, b.uidls)
		}
	}
	da, err := dst.Account(ctx, "alice")
	if err != nil || da.PasswordHash != hash {
		t.Errorf("target account: %+v, %v", da, err)
	}
	if name, text, err := dst.ActiveSieveScript(ctx, da.ID); err != nil || name != "main" || text != "keep;\n" {
		t.Errorf("active sieve script: %q %q %v", name, text, err)
	}
	if q, err := dst.QueueList(ctx); err != nil || len(q) != 1 || q[0].ID != "q1" || string(q[0].Envelope) != string(queued.Envelope) ||
		!q[0].Created.Equal(queued.Created) || !q[0].NextAttempt.Equal(queued.NextAttempt) || q[0].LeaseOwner != "" {
		t.Errorf("target queue: %+v, %v", q, err)
	} else if body, err := dst.QueueBody(ctx, "q1"); err != nil {
		t.Error(err)
	} else if b, _ := io.ReadAll(body); string(b) != "Subject: out\r\n\r\nqueued\r\n" {
		t.Errorf("queued body %q", b)
	}
	ds, _ := dst.Open(ctx, da.ID)
	defer ds.Close()
	if subs, _ := ds.Subscriptions(ctx); !slices.Contains(subs, "Lists/News") {
		t.Errorf("subscriptions %v", subs)
	}

	appendTo(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: later\n\nl\n")})
	res, err = Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 1 || res.Skipped != 7 || res.Queued != 0 {
		t.Errorf("second copy: %+v, want 1 copied, 7 already there", res)
	}
	if a, b := snap(t, src, "alice", "INBOX"), snap(t, dst, "alice", "INBOX"); !slices.Equal(a.infos, b.infos) {
		t.Errorf("after the second copy:\n%v\n%v", a.infos, b.infos)
	}
}
