package storetest

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// searchMessages exercise the header forms a search index must decode:
// encoded words in names and subjects, folded fields, several To and
// From fields, groups, raw 8-bit and Latin-1 words, a field name in odd
// case and an empty Subject.
var searchMessages = []string{
	"From: Alice <alice@example.org>\nTo: bob@example.org, Carol <carol@example.net>\nSubject: Quarterly report\n\nbody\n",
	"From: =?UTF-8?B?WsO8cmljaCBCw7xybw==?= <zb@example.org>\nTo: undisclosed:;\nCc: =?ISO-8859-1?Q?J=F6rg?= <jorg@example.de>\nSubject: =?ISO-8859-1?Q?Caf=E9_Stra=DFe?=\n\nbody\n",
	"From: first@example.org\nFrom: second@example.org\nTo: a@example.org\nTo: b@example.org\nSubject: a long subject\n that is folded\n\tacross lines\nX-Odd-Field: Hello World\n\nbody\n",
	"from: raw@example.org\nsubject: Zürich \xe9t\xe9 ÄRGER\nx-odd-field:\nBcc: hidden@example.org\n\nbody\n",
	"From: \"Dr. Who\" <who@example.org>\nTo: team: x@example.org, y@example.org;\nSubject:\nIn-Reply-To: <abc@example.org>\n\nbody\n",
	"Subject: mixed\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 QUOKKA=\nphone\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\ncXVva2thcGhvbmUgYXR0YWNoZWQ=\n--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\nPGI+WsO8cmljaDwvYj4gcGhvbmU=\n--b--\n",
}

// searchQueries are the queries tried against searchMessages.
var searchQueries = []store.SearchQuery{
	{Field: store.SearchFrom, Value: "alice"}, {Field: store.SearchFrom, Value: "ZÜRICH"},
	{Field: store.SearchFrom, Value: "second@"}, {Field: store.SearchFrom, Value: "first"},
	{Field: store.SearchFrom, Value: "dr. who <who@"}, {Field: store.SearchFrom, Value: ""},
	{Field: store.SearchTo, Value: "carol <carol"}, {Field: store.SearchTo, Value: "b@example.org"},
	{Field: store.SearchTo, Value: "team: x@"}, {Field: store.SearchTo, Value: "undisclosed"},
	{Field: store.SearchCc, Value: "jörg"}, {Field: store.SearchCc, Value: ""},
	{Field: store.SearchBcc, Value: "HIDDEN"}, {Field: store.SearchSubject, Value: "café straße"},
	{Field: store.SearchSubject, Value: "folded across"}, {Field: store.SearchSubject, Value: "ärger"},
	{Field: store.SearchSubject, Value: "\ufffdt\ufffd"}, {Field: store.SearchSubject, Value: ""},
	{Field: store.SearchHeader, Name: "x-odd-field", Value: "hello"},
	{Field: store.SearchHeader, Name: "X-ODD-FIELD", Value: ""},
	{Field: store.SearchHeader, Name: "subject", Value: "is folded"},
	{Field: store.SearchHeader, Name: "In-Reply-To", Value: "ABC@"},
	{Field: store.SearchHeader, Name: "cc", Value: "jörg"},
	{Field: store.SearchHeader, Name: "from", Value: "=?utf-8?"},
	{Field: store.SearchHeader, Name: "Nonesuch", Value: ""},
	{Field: store.SearchBody, Value: "quokkaphone"}, {Field: store.SearchBody, Value: "CAFÉ"}, {Field: store.SearchBody, Value: "café"},
	{Field: store.SearchBody, Value: "<b>zü"}, {Field: store.SearchBody, Value: "attached"}, {Field: store.SearchBody, Value: "body"},
	{Field: store.SearchText, Value: "café"}, {Field: store.SearchText, Value: "subject: quarterly"},
	{Field: store.SearchText, Value: "ZÜRICH"}, {Field: store.SearchText, Value: "\"dr. who\""}, {Field: store.SearchText, Value: "body"},
}

// testSearchIndex checks store.Searcher, where implemented, against the
// scan's semantics (internal/search) on the same messages, after a copy
// and an expunge, and marks messages with an OpenVMS envelope.
func testSearchIndex(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	sr, ok := ss.(store.Searcher)
	if !ok {
		t.Skip("the store keeps no search index")
	}
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	var stored []string
	for _, m := range searchMessages {
		appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(m)})
		stored = append(stored, strings.ReplaceAll(m, "\n", "\r\n"))
	}
	vms := appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(searchMessages[0]),
		VMS: &store.VMSEnvelope{From: "NODE::ALICE", To: "BOB", Subject: "vms"}})
	stored = append(stored, stored[0])
	if _, err := ss.Copy(ctx, inbox.ID, []store.UID{1, 2}, mail.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Expunge(ctx, inbox.ID, []store.UID{2}); err != nil {
		t.Fatal(err)
	}
	live := map[store.MailboxID][]store.UID{inbox.ID: {1, 3, 4, 5, 6, 7}, mail.ID: {1, 2}}
	source := map[store.MailboxID]func(store.UID) string{
		inbox.ID: func(u store.UID) string { return stored[u-1] },
		mail.ID:  func(u store.UID) string { return stored[u-1] }, // copies of 1 and 2
	}
	// Right after the appends, a store that indexes in the background
	// may not have indexed them yet: every answer must still be exact,
	// each message matched or reported unindexed (for the caller to
	// scan). Once flushed, the index answers for every message.
	want := func(mb store.MailboxID, q store.SearchQuery) []store.UID {
		var want []store.UID
		for _, u := range live[mb] {
			if scanMatch(t, source[mb](u), q) {
				want = append(want, u)
			}
		}
		return want
	}
	wantVMS := map[store.MailboxID][]store.UID{inbox.ID: {vms.UID}}
	for _, q := range searchQueries {
		for _, mb := range []store.MailboxID{inbox.ID, mail.ID} {
			checkSearchBeforeFlush(t, sr, mb, q, want(mb, q), wantVMS[mb])
		}
	}
	FlushIndex(t, st)
	for _, q := range searchQueries {
		for _, mb := range []store.MailboxID{inbox.ID, mail.ID} {
			res, err := sr.SearchIndex(ctx, mb, q)
			if err != nil {
				t.Fatalf("SearchIndex(%+v): %v", q, err)
			}
			if w := want(mb, q); !slices.Equal(res.Matched, w) || len(res.Unindexed) != 0 {
				t.Errorf("mailbox %d, %+v: matched %v, unindexed %v; want %v, none", mb, q, res.Matched, res.Unindexed, w)
			}
			if !slices.Equal(res.VMS, wantVMS[mb]) {
				t.Errorf("mailbox %d, %+v: VMS %v, want %v", mb, q, res.VMS, wantVMS[mb])
			}
		}
	}
	_, err := sr.SearchIndex(ctx, inbox.ID, store.SearchQuery{Field: store.SearchField(99), Value: "x"})
	wantErr(t, "SearchIndex of an unknown field", err, store.ErrNotIndexed)
	_, err = sr.SearchIndex(ctx, 9999, searchQueries[0])
	wantErr(t, "SearchIndex of a missing mailbox", err, store.ErrNoSuchMailbox)
}

// FlushIndex waits, if st fills its search index in the background
// (store.IndexFlusher), until it holds every message stored so far.
func FlushIndex(t testing.TB, st any) {
	t.Helper()
	if fl, ok := st.(store.IndexFlusher); ok {
		if err := fl.FlushIndex(t.Context()); err != nil {
			t.Fatalf("FlushIndex: %v", err)
		}
	}
}

// checkSearchBeforeFlush checks one answer of an index that may not hold
// every message yet: no message in two lists, every matched one wanted,
// every wanted one matched or unindexed, and the OpenVMS ones among the
// indexed reported.
func checkSearchBeforeFlush(t *testing.T, sr store.Searcher, mb store.MailboxID, q store.SearchQuery, want, wantVMS []store.UID) {
	t.Helper()
	res, err := sr.SearchIndex(t.Context(), mb, q)
	if err != nil {
		t.Fatalf("SearchIndex(%+v): %v", q, err)
	}
	unindexed := func(u store.UID) bool { return slices.Contains(res.Unindexed, u) }
	for _, u := range res.Matched {
		if !slices.Contains(want, u) || unindexed(u) {
			t.Errorf("mailbox %d, %+v, before the index is flushed: matched %v (unindexed %v), want %v", mb, q, res.Matched, res.Unindexed, want)
			return
		}
	}
	for _, u := range want {
		if !slices.Contains(res.Matched, u) && !unindexed(u) {
			t.Errorf("mailbox %d, %+v, before the index is flushed: %d neither matched (%v) nor unindexed (%v)", mb, q, u, res.Matched, res.Unindexed)
		}
	}
	for _, u := range wantVMS {
		if !slices.Contains(res.VMS, u) && !unindexed(u) {
			t.Errorf("mailbox %d, %+v, before the index is flushed: VMS %v, want %v unless unindexed", mb, q, res.VMS, wantVMS)
		}
	}
}

// scanMatch evaluates q on one message the way the IMAP scan does.
func scanMatch(t *testing.T, raw string, q store.SearchQuery) bool {
	t.Helper()
	p, err := message.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if q.Field == store.SearchBody || q.Field == store.SearchText {
		return textMatch(t, raw, p, q)
	}
	if q.Field <= store.SearchSubject {
		text, present := search.EnvelopeText(p.Envelope, search.Key(q.Field-store.SearchFrom))
		return present && (q.Value == "" || strings.Contains(search.Fold(text), search.Fold(q.Value)))
	}
	h, err := message.ReadHeader(bytes.NewReader([]byte(raw)), len(raw)+1)
	if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
		t.Fatal(err)
	}
	for _, f := range h {
		if strings.EqualFold(f.Name, q.Name) && (q.Value == "" || strings.Contains(search.Fold(search.FieldValue(f)), search.Fold(q.Value))) {
			return true
		}
	}
	return false
}

// testKeptHeaders checks store.HeaderKeeper, where implemented: the kept
// fields are exactly the stored header's fields of the kept names, raw
// and in order, for the UIDs asked and present.
func testKeptHeaders(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	hk, ok := ss.(store.HeaderKeeper)
	if !ok {
		t.Skip("the store keeps no header fields")
	}
	inbox := mailbox(t, ss, "INBOX")
	msgs := append(slices.Clone(searchMessages),
		"Resent-From: r@example.org\nReturn-Path: <>\nReferences: <a@x>\n <b@x>\nSender: s@example.org\nreply-to: x@example.org\nX-Other: y\n\nbody\n",
		"Subject: no body separator")
	for _, m := range msgs {
		appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(m)})
	}
	FlushIndex(t, st)
	got := map[store.UID]message.Header{}
	err := hk.KeptHeaders(ctx, inbox.ID, []store.UID{7, 1, 6, 99, 3}, func(u store.UID, h message.Header) error {
		got[u] = h
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.UID{1, 3, 6, 7} {
		raw := strings.ReplaceAll(msgs[u-1], "\n", "\r\n")
		h, err := message.ReadHeader(strings.NewReader(raw), len(raw)+1)
		if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
			t.Fatal(err)
		}
		var want []string
		for _, f := range h {
			if slices.ContainsFunc(store.KeptHeaderFields, func(k string) bool { return strings.EqualFold(k, f.Name) }) {
				want = append(want, string(f.Raw))
			}
		}
		var have []string
		for _, f := range got[u] {
			have = append(have, string(f.Raw))
		}
		if !slices.Equal(have, want) {
			t.Errorf("UID %d: kept %q, want %q", u, have, want)
		}
	}
	if len(got) != 4 {
		t.Errorf("KeptHeaders gave %d messages, want 4 (UID 99 is missing)", len(got))
	}
}

// textMatch evaluates BODY or TEXT on one message the way the IMAP scan
// does: the header's "Name: value" lines Unicode-lower-cased, then every
// text part decoded (search.Texts) and compared ASCII-case-insensitively.
func textMatch(t *testing.T, raw string, p *message.Part, q store.SearchQuery) bool {
	t.Helper()
	if q.Field == store.SearchText {
		h, _ := message.ReadHeader(strings.NewReader(raw), len(raw)+1)
		for _, f := range h {
			if strings.Contains(search.Fold(search.FieldLine(f)), search.Fold(q.Value)) {
				return true
			}
		}
	}
	rng := func(part *message.Part) (int64, int64) {
		if part == p {
			return p.BodyStart, int64(len(raw))
		}
		return part.BodyStart, part.End
	}
	needle := search.FoldBody([]byte(q.Value))
	found, err := search.Texts(strings.NewReader(raw), p, rng, func(r io.Reader) (bool, error) {
		text, _ := io.ReadAll(r)
		return bytes.Contains(search.FoldBody(text), needle), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
