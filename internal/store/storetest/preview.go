package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// testPreview: RFC 8970 §3.1 previews kept by the store
// (store.PreviewKeeper). Every message stored gets the preview
// search.Preview computes from it (plain text, HTML, a multipart's first
// text part, a NUL made a space, none for an image); a COPY shares it and
// a MOVE keeps it; KeepPreviews leaves a kept preview alone and skips
// absent UIDs; another account's mailbox is refused.
func testPreview(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	pk, ok := ss.(store.PreviewKeeper)
	if !ok {
		t.Skip("session does not implement store.PreviewKeeper")
	}
	inbox, mail, sent := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail"), mailbox(t, ss, "Sent")
	bodies := []struct{ content, want string }{
		{msg("plain"), "Hello, plain."},
		{"Subject: html\nContent-Type: text/html\n\n<p>Big &amp; <b>bold</b></p><p>news</p>\n", "Big & bold news"},
		{"Subject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n> quoted\n  part\x00!\n--b\nContent-Type: text/html\n\n<p>html</p>\n--b--\n", "first part !"},
		{"Subject: image\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n", ""},
		{"Subject: long\n\n" + strings.Repeat("é", 300) + "\n", strings.Repeat("é", 256)},
	}
	var uids []store.UID
	want := map[store.UID]string{}
	for _, b := range bodies {
		r := appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(b.content)})
		uids = append(uids, r.UID)
		want[r.UID] = b.want
	}
	previews := func(mb store.MailboxID, uids []store.UID) map[store.UID]string {
		t.Helper()
		m, err := pk.Previews(ctx, mb, uids)
		if err != nil {
			t.Fatalf("Previews(%d, %v): %v", mb, uids, err)
		}
		return m
	}
	if got := previews(inbox.ID, append(uids, 999)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Previews = %v, want %v", got, want)
	}

	if err := pk.KeepPreviews(ctx, inbox.ID, map[store.UID]string{uids[0]: "other", 999: "none"}); err != nil {
		t.Fatal(err)
	}
	if got := previews(inbox.ID, uids[:1])[uids[0]]; got != want[uids[0]] {
		t.Errorf("KeepPreviews replaced a kept preview: %q, want %q", got, want[uids[0]])
	}

	copied, err := ss.Copy(ctx, inbox.ID, uids[1:2], sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := ss.Move(ctx, inbox.ID, uids[2:3], mail.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := previews(sent.ID, copied.Dest)[copied.Dest[0]]; got != want[uids[1]] {
		t.Errorf("preview of the copy = %q, want %q", got, want[uids[1]])
	}
	if got := previews(mail.ID, moved.Dest)[moved.Dest[0]]; got != want[uids[2]] {
		t.Errorf("preview of the moved message = %q, want %q", got, want[uids[2]])
	}

	_, bob := account(t, st, "bob")
	if _, err := bob.(store.PreviewKeeper).Previews(ctx, inbox.ID, uids); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("Previews of another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
	if err := bob.(store.PreviewKeeper).KeepPreviews(ctx, inbox.ID, map[store.UID]string{uids[3]: "x"}); !errors.Is(err, store.ErrNoSuchMailbox) {
		t.Errorf("KeepPreviews in another account's mailbox: %v, want ErrNoSuchMailbox", err)
	}
}
