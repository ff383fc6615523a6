package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testViewDataUIDs checks store.ViewDataLister: exactly the messages with
// an OpenVMS envelope or foreign content, of the mailbox asked, in UID
// order, and the marks follow the content through COPY and MOVE.
func testViewDataUIDs(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	vl, ok := ss.(store.ViewDataLister)
	if !ok {
		t.Skip("session is not a store.ViewDataLister")
	}
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	vms := req("vms")
	vms.VMS = &store.VMSEnvelope{From: "NODE::ALICE", To: "BOB", Subject: "vms"}
	marked := req("marked")
	marked.Foreign = true
	appendOne(t, ss, inbox.ID, req("text"))                                                                       // 1
	appendOne(t, ss, inbox.ID, vms)                                                                               // 2
	appendOne(t, ss, inbox.ID, marked)                                                                            // 3
	appendOne(t, ss, inbox.ID, req("text again"))                                                                 // 4
	appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: nul\r\n\r\nA\x00B\r\n")}) // 5: NUL, foreign
	appendOne(t, ss, mail.ID, req("elsewhere"))
	check := func(what string, mb store.MailboxID, want []store.UID) {
		t.Helper()
		got, err := vl.ViewDataUIDs(ctx, mb)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: ViewDataUIDs = %v, %v; want %v", what, got, err, want)
		}
	}
	check("INBOX", inbox.ID, []store.UID{2, 3, 5})
	check("Mail", mail.ID, nil)
	if _, err := ss.Copy(ctx, inbox.ID, []store.UID{2}, mail.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Move(ctx, inbox.ID, []store.UID{3, 4}, mail.ID); err != nil {
		t.Fatal(err)
	}
	check("INBOX after MOVE", inbox.ID, []store.UID{2, 5})
	check("Mail after COPY and MOVE", mail.ID, []store.UID{2, 3})

	_, other := account(t, st, "bob")
	if _, err := other.(store.ViewDataLister).ViewDataUIDs(ctx, inbox.ID); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
}
