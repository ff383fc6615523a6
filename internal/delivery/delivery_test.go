package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
)

func newDeliverer(t *testing.T) (*Deliverer, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateAccount(ctx, "alice", store.AccountUpdate{}); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := st.CreateAccount(ctx, "closed", store.AccountUpdate{NoMail: &yes}); err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: st, MaxSize: 1024}), st
}

func TestDeliver(t *testing.T) {
	d, _ := newDeliverer(t)
	ctx := context.Background()
	msg := "Subject: hi\n\nbody\n"
	cases := []struct {
		name      string
		req       Request
		err       error
		mailbox   string
		fellBack  bool
		permanent bool
	}{
		{"inbox", Request{Account: "ALICE", Content: strings.NewReader(msg)}, nil, "INBOX", false, false},
		{"named mailbox", Request{Account: "alice", Mailbox: "Mail", Content: strings.NewReader(msg)}, nil, "Mail", false, false},
		{"fallback", Request{Account: "alice", Mailbox: "Nope", Content: strings.NewReader(msg)}, nil, "INBOX", true, false},
		{"unknown", Request{Account: "bob", Content: strings.NewReader(msg)}, ErrNoSuchUser, "", false, true},
		{"no mail", Request{Account: "closed", Content: strings.NewReader(msg)}, ErrNoMail, "", false, true},
		{"empty", Request{Account: "alice", Content: strings.NewReader("")}, ErrMalformed, "INBOX", false, true},
		{"too big", Request{Account: "alice", Content: strings.NewReader("Subject: x\n\n" + strings.Repeat("y", 2000))}, ErrTooBig, "INBOX", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := d.Deliver(ctx, c.req)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if Permanent(err) != c.permanent {
				t.Errorf("Permanent = %v", Permanent(err))
			}
			if err == nil && (res.Mailbox != c.mailbox || res.FellBack != c.fellBack || res.UID == 0) {
				t.Errorf("result %+v", res)
			}
		})
	}
}
