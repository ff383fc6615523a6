package imapserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// searchCorpus is a set of messages that exercise every decoding SEARCH
// does: folded and RFC 2047 headers, raw 8-bit headers, base64,
// quoted-printable with soft breaks inside words, ISO-8859-1 bodies,
// multipart with text and attachments, nested message/rfc822, unknown
// encodings and charsets, a top-level non-text part, and a body longer
// than the scan window with the word across the window's edge.
func searchCorpus() []string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// The first read fills searchChunk+len(needle)-1 bytes; the word
	// starts 5 bytes before that read's end (for "quokkaphone").
	edge := strings.Repeat("x", searchChunk+5) + "QuokkaPhone" + strings.Repeat("y", searchChunk)
	return []string{
		"From: Alice <alice@example.org>\r\nSubject: plain quokkaphone\r\n\r\nnothing here\r\n",
		"From: bob@example.org\r\nSubject: a very long subject that is\r\n folded before quokka\r\n\tphone\r\n\r\nbody\r\n",
		"From: =?UTF-8?B?WsO8cmljaA==?= <z@example.org>\r\nSubject: =?ISO-8859-1?Q?Caf=E9_QUOKKAPHONE?=\r\n\r\nbody\r\n",
		"From: raw@example.org\r\nSubject: Zürich ÄRGER \xe9t\xe9\r\n\r\nZÜRICH quokka phone\r\n",
		"Subject: base64\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("Grüße aus ZÜRICH, QuokkaPhone!") + "\r\n",
		"Subject: qp\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 quok=\r\nkaphone =C9T=C9\r\n",
		"Subject: latin1\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 \xc9t\xe9 d\xe9j\xe0\r\n",
		"Subject: mixed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npreamble quokkaphone\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("quokkaphone in an attachment") + "\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>QUOKKA</b>phone\r\n--b--\r\nepilogue zürich\r\n",
		"Subject: nested\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nouter\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner quokkaphone\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nInner caf=C3=A9 ZURICH\r\n--i--\r\n--o--\r\n",
		"Subject: unknown cte\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nraw quokkaphone\r\n",
		"Subject: unknown charset\r\nContent-Type: text/plain; charset=x-nonesuch\r\n\r\nQuokkaphone\r\n",
		"Subject: top pdf\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("%PDF quokkaphone") + "\r\n",
		"Subject: edge\r\nContent-Type: text/plain\r\n\r\n" + edge + "\r\n",
		"Subject: bad base64\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("quokka") + "!!!@@@" + b64("phone") + "\r\n",
		"X=?: odd name quokkaphone\r\nSubject: bare\rcr \xe2\x84\xaaelvin\r\n\r\n",
		"Subject: no body separator quokkaphone",
		"From: \"Dr. Who\" <who@example.org>\r\nTo: a@example.org, b@example.org\r\nSubject: empty\r\n\r\n",
	}
}

// searchNeedles are the strings the differential tests look for.
var searchNeedles = []string{
	"quokkaphone", "QUOKKAPHONE", "quokka phone", "zürich", "ZÜRICH", "café", "CAFÉ", "été", "ÉTÉ", "k", "kelvin",
	"subject: plain", "subject:  plain", "x-imap4-id", "=?", ": odd", "folded before quokka\tphone", "", "é", "\ufffd",
	"inner", "epilogue", "preamble", "attachment", "grüße", "b>quokka", "x=?: odd",
}

// TestSearchMatchesSlowPath compares SEARCH TEXT and BODY, as the server
// evaluates them (in parallel, through content refs, with the scratch
// buffers and the ASCII header shortcut), with a plain reading of RFC 9051
// §6.4.4 over the same view of each message: every header field decoded
// and lower-cased, every text part (and a top-level part of any type)
// decoded in full, then compared. In every view: as stored, with
// Send-ID-Headers, and the OpenVMS Mail view, which rebuild the header.
func TestSearchMatchesSlowPath(t *testing.T) {
	views := map[string]func(*fixture){
		"stored":  func(*fixture) {},
		"send-id": func(f *fixture) { f.opts.SendIDHeaders = true },
		"mail11": func(f *fixture) {
			f.opts.Mail11 = &mail11.Options{Hostname: testHost}
			f.opts.SendIDHeaders = true
		},
		"no-locator": func(f *fixture) { f.opts.Store = plainStore{f.st} },
	}
	for name, setView := range views {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			setView(f)
			f.addUser("alice", "pw")
			for _, m := range searchCorpus() {
				if err := f.deliver("alice", "INBOX", []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			date := time.Date(2001, 5, 30, 16, 19, 53, 0, time.UTC)
			f.deliverVMS("alice", "\r\nQuokkaphone from VMS, Zürich.\r\n", &store.VMSEnvelope{
				From: "NODE::SMITH", PersonalName: "John Smith", To: "ALICE", Subject: "vms quokkaphone", Date: date})
			f.deliverVMS("alice", "From: bob@example.org\r\nSubject: own quokkaphone\r\n\r\nbody Café\r\n", &store.VMSEnvelope{
				From: `SMTP%"bob@example.org"`, To: "ALICE", Subject: "real header", Date: date, OwnHeader: true})
			c := dialClient(t, f.start())
			found := 0
			for _, n := range searchNeedles {
				for _, op := range []string{"TEXT", "BODY"} {
					found += checkSearch(t, f, c, op, n)
				}
			}
			if found < 100 {
				t.Errorf("only %d matches in all: the corpus or the needles lost their point", found)
			}
		})
	}
}

// checkSearch runs one UID SEARCH, compares it with slowMatch on every
// message and returns the number of matches.
func checkSearch(t *testing.T, f *fixture, c *imapclient.Client, op, n string) int {
	t.Helper()
	crit := imap.SearchCriteria{Body: []string{n}}
	if op == "TEXT" {
		crit = imap.SearchCriteria{Text: []string{n}}
	}
	data, err := c.UIDSearch(&crit, nil).Wait()
	if err != nil {
		t.Fatalf("%s %q: %v", op, n, err)
	}
	var want []imap.UID
	err = f.withSession("alice", func(s store.Session) error {
		return eachView(f, s, func(mv *msgView) error {
			ok, err := slowMatch(mv, op, n)
			if ok {
				want = append(want, imap.UID(mv.info.UID))
			}
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := data.AllUIDs(); !slices.Equal(got, want) {
		t.Errorf("%s %q: got %v, want %v", op, n, got, want)
	}
	return len(want)
}

// eachView calls fn with the client's view of every INBOX message, opened.
func eachView(f *fixture, s store.Session, fn func(*msgView) error) error {
	ctx := context.Background()
	mb, err := s.Mailbox(ctx, "INBOX")
	if err != nil {
		return err
	}
	infos, err := s.Messages(ctx, mb.ID)
	if err != nil {
		return err
	}
	for _, in := range infos {
		err := s.MessageData(ctx, mb.ID, []store.UID{in.UID}, func(d store.MessageData) error {
			// The VMS envelope of SMTP mail, from the real header, as the
			// server's load paths derive it (deriveVMS).
			ct, err := s.OpenContent(ctx, mb.ID, in.UID)
			if err != nil {
				return err
			}
			err = f.srv.view.derive(ct, &d)
			ct.Close()
			if err != nil {
				return err
			}
			mv := f.srv.view.view(in, &d)
			defer mv.close()
			if err := mv.open(ctx, s, mb.ID); err != nil {
				return err
			}
			return fn(mv)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// slowMatch is SEARCH TEXT or BODY on one message view, read in full
// (RFC 9051 §6.4.4): the header half lower-cases each decoded field with
// strings.ToLower; the body half decodes each text part (and a top-level
// part of any type) and compares ASCII case-insensitively.
func slowMatch(mv *msgView, op, s string) (bool, error) {
	if op == "TEXT" {
		h, err := message.ReadHeader(io.NewSectionReader(mv.readerAt(), 0, mv.topHeaderLen()), wholeHeader(mv.topHeaderLen()))
		if err != nil {
			return false, err
		}
		for _, f := range h {
			if strings.Contains(strings.ToLower(f.Name+": "+message.DecodeHeaderText(f.Value())), strings.ToLower(s)) {
				return true, nil
			}
		}
	}
	return slowPart(mv, mv.part, foldASCII([]byte(s))), nil
}

func slowPart(mv *msgView, p *message.Part, needle []byte) bool {
	if p.IsMultipart() {
		for _, kid := range p.Parts {
			if slowPart(mv, kid, needle) {
				return true
			}
		}
		return false
	}
	if sub := p.Message(); sub != nil {
		return slowPart(mv, sub, needle)
	}
	if p.Type != "text" && p != mv.part {
		return false
	}
	s, e := mv.bodyRange(p)
	body, _ := io.ReadAll(io.NewSectionReader(mv.readerAt(), s, e-s))
	r, err := decodeCTE(bytes.NewReader(body), p.Encoding)
	if err != nil {
		r = bytes.NewReader(body)
	}
	if cs := p.Param("charset"); cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		if cr, err := charset.Reader(strings.ToLower(cs), r); err == nil {
			r = cr
		}
	}
	text, _ := io.ReadAll(r)
	return bytes.Contains(foldASCII(text), needle)
}

// plainStore hides the optional interfaces of its sessions, such as
// store.ContentLocator, so that SEARCH takes its general path.
type plainStore struct{ store.Store }

type plainSession struct{ store.Session }

func (p plainStore) Open(ctx context.Context, id store.AccountID) (store.Session, error) {
	s, err := p.Store.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return plainSession{s}, nil
}

// TestSearchManyBatches checks that results keep the mailbox's order
// across batches and workers, with and without content refs, for keys
// that read files and keys that do not.
func TestSearchManyBatches(t *testing.T) {
	for _, locator := range []bool{true, false} {
		f := newFixture(t)
		if !locator {
			f.opts.Store = plainStore{f.st}
		}
		f.addUser("alice", "pw")
		const n = 3*fetchBatch + 17
		var wantWord, wantSubject []imap.UID
		err := f.withSession("alice", func(s store.Session) error {
			mb, err := s.Mailbox(context.Background(), "INBOX")
			if err != nil {
				return err
			}
			reqs := make([]store.AppendRequest, n)
			for i := range reqs {
				subject, body := fmt.Sprintf("message %d", i), "nothing"
				if i%7 == 3 {
					body = "the Wombat is here"
					wantWord = append(wantWord, imap.UID(i+1))
				}
				if i%5 == 0 {
					subject += " wombat"
					wantSubject = append(wantSubject, imap.UID(i+1))
				}
				reqs[i] = store.AppendRequest{Content: strings.NewReader("Subject: " + subject + "\r\n\r\n" + body + "\r\n")}
			}
			_, err = s.Append(context.Background(), mb.ID, reqs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c := dialClient(t, f.start())
		union := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(wantWord), wantSubject...))))
		cases := []struct {
			crit imap.SearchCriteria
			want []imap.UID
		}{
			{imap.SearchCriteria{Body: []string{"WOMBAT"}}, wantWord},
			{imap.SearchCriteria{Text: []string{"wombat"}}, union},
			{imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "wombat"}}}, wantSubject},
			{imap.SearchCriteria{Body: []string{"wombat"}, Not: []imap.SearchCriteria{{UID: []imap.UIDSet{imap.UIDSetNum(4)}}}}, wantWord[1:]},
		}
		for _, tc := range cases {
			data, err := c.UIDSearch(&tc.crit, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if got := data.AllUIDs(); !slices.Equal(got, tc.want) {
				t.Errorf("locator=%v %+v: got %d UIDs %v, want %d", locator, tc.crit, len(got), got, len(tc.want))
			}
		}
	}
}
