package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPCondStoreGoIMAP drives CONDSTORE (RFC 7162 §3.1) with the go-imap
// v2 client: SELECT (CONDSTORE), STATUS HIGHESTMODSEQ, FETCH MODSEQ and
// CHANGEDSINCE, STORE UNCHANGEDSINCE (a success and a conflict), and a
// flag change by a second session reaching the first with its MODSEQ. The
// values must agree with each other and move forward when flags change.
func TestIMAPCondStoreGoIMAP(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 3)

	updates := make(chan *imapclient.FetchMessageBuffer, 10)
	c := dialCondStore(t, p, &imapclient.UnilateralDataHandler{
		Fetch: func(msg *imapclient.FetchMessageData) {
			if buf, err := msg.Collect(); err == nil {
				updates <- buf
			}
		},
	})
	if !c.Caps().Has(imap.CapCondStore) {
		t.Fatalf("CONDSTORE not advertised: %v", c.Caps())
	}
	st := condStatus(t, c)
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil || sel.NumMessages != 3 {
		t.Fatalf("select: %v %+v", err, sel)
	}
	if sel.HighestModSeq == 0 || sel.HighestModSeq != st {
		t.Fatalf("SELECT HIGHESTMODSEQ %d, STATUS HIGHESTMODSEQ %d", sel.HighestModSeq, st)
	}

	// FETCH MODSEQ: every message has one, the highest is HIGHESTMODSEQ.
	msgs := condFetch(t, c, imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true, Flags: true, ModSeq: true}, 3)
	var highest uint64
	for _, m := range msgs {
		if m.ModSeq == 0 {
			t.Errorf("message %d has no MODSEQ", m.SeqNum)
		}
		highest = max(highest, m.ModSeq)
	}
	if highest != sel.HighestModSeq {
		t.Errorf("highest MODSEQ fetched %d, HIGHESTMODSEQ %d", highest, sel.HighestModSeq)
	}
	// Nothing changed since HIGHESTMODSEQ.
	condFetch(t, c, imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true, ChangedSince: sel.HighestModSeq}, 0)

	// A conditional STORE that passes: the new MODSEQ is above every old one.
	m2 := msgs[1]
	res, err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}},
		&imap.StoreOptions{UnchangedSince: m2.ModSeq}).Collect()
	if err != nil || len(res) != 1 {
		t.Fatalf("conditional store: %v %d", err, len(res))
	}
	if res[0].ModSeq <= sel.HighestModSeq || !slices.Contains(res[0].Flags, imap.FlagFlagged) || res[0].UID != m2.UID {
		t.Fatalf("conditional store answered %+v, old HIGHESTMODSEQ %d", res[0], sel.HighestModSeq)
	}
	afterStore := res[0].ModSeq
	if st := condStatus(t, c); st != afterStore {
		t.Errorf("STATUS HIGHESTMODSEQ %d after STORE, want %d", st, afterStore)
	}
	// CHANGEDSINCE the old HIGHESTMODSEQ finds exactly that message.
	changed := condFetch(t, c, imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true, Flags: true, ChangedSince: sel.HighestModSeq}, 1)
	if changed[0].UID != m2.UID || changed[0].ModSeq != afterStore {
		t.Errorf("CHANGEDSINCE %d: %+v, want UID %d MODSEQ %d", sel.HighestModSeq, changed[0], m2.UID, afterStore)
	}

	// A conditional STORE with the MODSEQ message 3 still has, which
	// message 2 has gone past: it fails for 2 ([MODIFIED 2]) and succeeds
	// for 3.
	res, err = c.Store(imap.SeqSetNum(2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}},
		&imap.StoreOptions{UnchangedSince: msgs[2].ModSeq}).Collect()
	if err != nil || len(res) != 1 || res[0].SeqNum != 3 || res[0].ModSeq <= afterStore {
		t.Fatalf("store with a conflict: %v %+v", err, res)
	}
	afterConflict := res[0].ModSeq
	now := condFetch(t, c, imap.SeqSetNum(2), &imap.FetchOptions{Flags: true, ModSeq: true}, 1)
	if slices.Contains(now[0].Flags, imap.FlagSeen) || now[0].ModSeq != afterStore {
		t.Errorf("message 2 changed by a failed conditional STORE: %+v", now[0])
	}

	// Another session changes message 1: the first sees FLAGS with the
	// new MODSEQ at its next command, and STATUS agrees.
	other := dialCondStore(t, p, nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagAnswered}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-updates:
		if u.SeqNum != 1 || u.UID != msgs[0].UID || u.ModSeq <= afterConflict || !slices.Contains(u.Flags, imap.FlagAnswered) {
			t.Errorf("flag update from the other session: %+v (last MODSEQ %d)", u, afterConflict)
		}
		if st := condStatus(t, c); st != u.ModSeq {
			t.Errorf("STATUS HIGHESTMODSEQ %d, the update's MODSEQ %d", st, u.ModSeq)
		}
	case <-time.After(3 * time.Second):
		t.Error("no FETCH for the other session's flag change")
	}
	for _, cl := range []*imapclient.Client{other, c} {
		if err := cl.Logout().Wait(); err != nil {
			t.Error(err)
		}
	}
}

// dialCondStore logs alice in over implicit TLS.
func dialCondStore(t *testing.T, p imapPorts, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	pem, err := os.ReadFile(p.cafile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := imapclient.DialTLS("localhost:"+strconv.Itoa(p.secure), &imapclient.Options{
		TLSConfig:             &tls.Config{RootCAs: pool, ServerName: "localhost"},
		UnilateralDataHandler: h,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice", "alice-pw").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// condStatus returns INBOX's STATUS HIGHESTMODSEQ.
func condStatus(t *testing.T, c *imapclient.Client) uint64 {
	t.Helper()
	st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st.HighestModSeq
}

// condFetch fetches and checks the number of messages returned.
func condFetch(t *testing.T, c *imapclient.Client, set imap.NumSet, opts *imap.FetchOptions, want int) []*imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := c.Fetch(set, opts).Collect()
	if err != nil || len(msgs) != want {
		t.Fatalf("fetch %v %+v: %v, %d messages, want %d", set, opts, err, len(msgs), want)
	}
	return msgs
}
