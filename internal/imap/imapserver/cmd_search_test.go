package imapserver

import (
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestSearchSemantic checks SEARCH keys through the go-imap client:
// substring and case rules, decoded headers and bodies (base64, a legacy
// charset), dates, sizes, flags, boolean combinations and ESEARCH.
func TestSearchSemantic(t *testing.T) {
	f := newFixture(t)
	f.addUser("alice", "pw")
	msgs := []string{
		"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Quarterly REPORT\r\nDate: Mon, 5 Jan 2026 10:00:00 +0000\r\n\r\nNumbers are up.\r\n",
		"From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\r\nSubject: lunch\r\nDate: Mon, 1 Dec 2025 23:30:00 -0800\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 at noon?\r\n",
		"From: carol@example.org\r\nSubject: attachment\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nc2VjcmV0IHBhc3N3b3JkIGluc2lkZQ==\r\n--b--\r\n",
	}
	for i, m := range msgs {
		var flags []string
		if i == 1 {
			flags = []string{`\Seen`, "Work"}
		}
		if err := f.deliver("alice", "INBOX", []byte(m), flags...); err != nil {
			t.Fatal(err)
		}
	}
	c := dialClient(t, f.start())
	cases := []struct {
		name string
		crit imap.SearchCriteria
		want []imap.UID
	}{
		{"subject case-insensitive substring", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "report"}}}, []imap.UID{1}},
		{"decoded From", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "andré"}}}, []imap.UID{2}},
		{"body quoted-printable latin-1", imap.SearchCriteria{Body: []string{"café"}}, []imap.UID{2}},
		{"body base64", imap.SearchCriteria{Body: []string{"PASSWORD"}}, []imap.UID{3}},
		{"text finds header", imap.SearchCriteria{Text: []string{"bob@example"}}, []imap.UID{1}},
		{"seen and keyword", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen, "Work"}}, []imap.UID{2}},
		{"not seen", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []imap.UID{1, 3}},
		{"sent since ignores time zone", imap.SearchCriteria{SentSince: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), SentBefore: time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC)}, []imap.UID{2}},
		{"or", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Body: []string{"numbers"}}, {Body: []string{"noon"}}}}}, []imap.UID{1, 2}},
		{"larger", imap.SearchCriteria{Larger: 150}, []imap.UID{2, 3}},
		{"uid set", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(2, 3)}, Not: []imap.SearchCriteria{{Body: []string{"noon"}}}}, []imap.UID{3}},
	}
	for _, tc := range cases {
		data, err := c.UIDSearch(&tc.crit, nil).Wait()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := data.AllUIDs(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{}, &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	if err != nil || data.Min != 1 || data.Max != 3 || data.Count != 3 {
		t.Errorf("ESEARCH MIN MAX COUNT: %v %+v", err, data)
	}
}
