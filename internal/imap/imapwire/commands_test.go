package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCommand(t *testing.T) {
	str := func(s string) *string { return &s }
	seq := func(s string) SeqSet { set, _ := ParseSeqSet(s); return set }
	tests := []struct {
		in   string
		name string
		args any
	}{
		{"a1 capability", "CAPABILITY", nil},
		{"a1 LOGIN alice \"se cret\"", "LOGIN", LoginArgs{"alice", "se cret"}},
		{"a1 AUTHENTICATE plain", "AUTHENTICATE", AuthenticateArgs{Mechanism: "PLAIN"}},
		{"a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", "AUTHENTICATE", AuthenticateArgs{"PLAIN", str("AGFsaWNlAHNlY3JldA==")}},
		{"a1 AUTHENTICATE PLAIN =", "AUTHENTICATE", AuthenticateArgs{"PLAIN", str("")}},
		{"a1 ENABLE IMAP4rev2 utf8=accept", "ENABLE", EnableArgs{[]string{"IMAP4REV2", "UTF8=ACCEPT"}}},
		{`a1 ID ("name" "mutt" "version" NIL)`, "ID", []IDParam{{"name", str("mutt")}, {"version", nil}}},
		{"a1 ID NIL", "ID", []IDParam(nil)},
		{"a1 SELECT inbox", "SELECT", SelectArgs{Mailbox: "INBOX"}},
		// RFC 9208 §4.1-§4.3 and §8.
		{`a1 GETQUOTA "!partition/sda4"`, "GETQUOTA", "!partition/sda4"},
		{`a1 getquota ""`, "GETQUOTA", ""},
		{"a1 GETQUOTAROOT inbox", "GETQUOTAROOT", "INBOX"},
		{`a1 SETQUOTA "#user/alice" (storage 510)`, "SETQUOTA", SetQuotaArgs{"#user/alice", []QuotaResource{{Name: "STORAGE", Limit: 510}}}},
		{`a1 SETQUOTA "" (STORAGE 512 MESSAGE 9223372036854775807)`, "SETQUOTA",
			SetQuotaArgs{"", []QuotaResource{{Name: "STORAGE", Limit: 512}, {Name: "MESSAGE", Limit: 1<<63 - 1}}}},
		{`a1 SETQUOTA "" ()`, "SETQUOTA", SetQuotaArgs{Root: ""}},
		{"a1 STATUS INBOX (DELETED deleted-storage)", "STATUS", StatusArgs{"INBOX", []StatusItem{StatusDeleted, StatusDeletedStorage}}},
		{"a1 EXAMINE Archive (CONDSTORE)", "EXAMINE", SelectArgs{Mailbox: "Archive", CondStore: true}},
		// RFC 7162 §3.2.5: the examples of §3.2.5.1 and §3.2.5.2.
		{"a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))", "SELECT", SelectArgs{Mailbox: "INBOX",
			QResync: &QResyncParam{UIDValidity: 67890007, ModSeq: 20050715194045000, KnownUIDs: seq("41,43:211,214:541")}}},
		{"a1 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:15,20,40 1:15,69,103)))", "SELECT",
			SelectArgs{Mailbox: "INBOX", QResync: &QResyncParam{UIDValidity: 67890007, ModSeq: 90060115194045000,
				KnownUIDs: seq("41:211,214:541"), SeqMatch: &SeqMatch{Seqs: seq("1:15,20,40"), UIDs: seq("1:15,69,103")}}}},
		{"a1 EXAMINE x (condstore qresync (1 2 (3 7)))", "EXAMINE", SelectArgs{Mailbox: "x", CondStore: true,
			QResync: &QResyncParam{UIDValidity: 1, ModSeq: 2, SeqMatch: &SeqMatch{Seqs: seq("3"), UIDs: seq("7")}}}},
		{"a1 SELECT x (QRESYNC (1 2))", "SELECT", SelectArgs{Mailbox: "x", QResync: &QResyncParam{UIDValidity: 1, ModSeq: 2}}},
		{`a1 CREATE "Sent Items" (USE (\Sent))`, "CREATE", CreateArgs{"Sent Items", []string{`\Sent`}}},
		{"a1 DELETE foo", "DELETE", MailboxArgs{"foo"}},
		{"a1 RENAME a b/c", "RENAME", RenameArgs{"a", "b/c"}},
		{"a1 SUBSCRIBE &ZeVnLIqe-", "SUBSCRIBE", MailboxArgs{"日本語"}},
		{`a1 LIST "" *`, "LIST", ListArgs{Patterns: []string{"*"}}},
		{`a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("%" INBOX/*) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))`, "LIST", ListArgs{
			Select: ListSelect{Subscribed: true, RecursiveMatch: true}, Patterns: []string{"%", "INBOX/*"},
			Return: ListReturn{Children: true, Status: []StatusItem{StatusMessages, StatusUnseen}}, Extended: true}},
		{`a1 LIST "" % RETURN (SPECIAL-USE)`, "LIST", ListArgs{Patterns: []string{"%"}, Return: ListReturn{SpecialUse: true}, Extended: true}},
		{`a1 LSUB "#news." comp.%`, "LSUB", ListArgs{Reference: "#news.", Patterns: []string{"comp.%"}}},
		{"a1 STATUS blurdybloop (UIDNEXT MESSAGES SIZE deleted)", "STATUS", StatusArgs{"blurdybloop",
			[]StatusItem{StatusUIDNext, StatusMessages, StatusSize, StatusDeleted}}},
		{"a1 UID EXPUNGE 3:5", "UID EXPUNGE", seq("3:5")},
		{"a1 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", "FETCH", FetchArgs{SeqSet: seq("2:4"), Items: []FetchItem{
			{Attr: FetchFlags}, {Attr: FetchBodySection, Section: Section{Specifier: SectionHeaderFields, Fields: []string{"DATE", "FROM"}}}}}},
		{"a1 UID FETCH 1:* FLAGS (CHANGEDSINCE 12345 VANISHED)", "UID FETCH", FetchArgs{SeqSet: seq("1:*"),
			Items: []FetchItem{{Attr: FetchFlags}}, ChangedSince: 12345, Vanished: true}},
		{`a1 STORE 2:4 +FLAGS.SILENT (\Deleted $Junk)`, "STORE", StoreArgs{SeqSet: seq("2:4"), Mode: StoreAdd, Silent: true,
			Flags: []string{FlagDeleted, "$Junk"}}},
		{`a1 UID STORE 1 (UNCHANGEDSINCE 0) -flags \seen \draft`, "UID STORE", StoreArgs{SeqSet: seq("1"), Mode: StoreRemove,
			Flags: []string{FlagSeen, FlagDraft}, HasUnchangedSince: true}},
		{`a1 STORE $ FLAGS ()`, "STORE", StoreArgs{SeqSet: SeqSet{Saved: true}}},
		{"a1 UID MOVE 1:3 Trash", "UID MOVE", CopyArgs{seq("1:3"), "Trash"}},
		{"a1 COPY 2 {5}\r\nDraft", "COPY", CopyArgs{seq("2"), "Draft"}},
		{"a1 UID SEARCH RETURN (COUNT) DELETED", "UID SEARCH", SearchArgs{Return: SearchReturn{Extended: true, Count: true},
			Key: SearchKey{Op: SearchFlag, Flag: FlagDeleted}}},
		// RFC 5267 §4.2-§4.4; RETURN (CONTEXT) alone means ALL.
		{"a1 UID SEARCH RETURN (UPDATE COUNT) DELETED", "UID SEARCH", SearchArgs{
			Return: SearchReturn{Extended: true, Update: true, Count: true}, Key: SearchKey{Op: SearchFlag, Flag: FlagDeleted}}},
		{"a1 SEARCH RETURN (CONTEXT) ALL", "SEARCH", SearchArgs{
			Return: SearchReturn{Extended: true, Context: true, All: true}, Key: SearchKey{Op: SearchAll}}},
		{"a1 SEARCH RETURN (PARTIAL 1:500 MIN) ALL", "SEARCH", SearchArgs{
			Return: SearchReturn{Extended: true, Min: true, Partial: &PartialRange{1, 500}}, Key: SearchKey{Op: SearchAll}}},
		{`a1 CANCELUPDATE "B01" "b 2"`, "CANCELUPDATE", []string{"B01", "b 2"}},
		{"a1 IDLE", "IDLE", nil},
		// RFC 4469 §5: CATENATE, also in MULTIAPPEND and REPLACE.
		{"a1 APPEND Drafts (\\Seen) CATENATE (URL \"/Drafts;UIDVALIDITY=3/;UID=20/;section=HEADER\" TEXT {2}\r\nab URL ;UID=1) {1}\r\nx",
			"APPEND", AppendCommand{"Drafts", []AppendMessage{
				{Flags: []string{FlagSeen}, Catenate: true, Parts: []CatPart{
					{URL: "/Drafts;UIDVALIDITY=3/;UID=20/;section=HEADER"}, {Text: true, Literal: LiteralInfo{Size: 2}}, {URL: ";UID=1"}}},
				{Literal: LiteralInfo{Size: 1}},
			}}},
		{"a1 UID REPLACE 3002 Drafts CATENATE (TEXT {2+}\r\nab URL \"/Drafts/;UID=3002\")", "UID REPLACE", ReplaceCommand{ReplaceArgs{3002, "Drafts"},
			AppendMessage{Catenate: true, Parts: []CatPart{{Text: true, Literal: LiteralInfo{Size: 2, NonSync: true}}, {URL: "/Drafts/;UID=3002"}}}}},
		// RFC 8508 §3.2, §3.3, §5.
		{"a1 REPLACE 4 Drafts (\\Seen \\Draft) {3}\r\nabc", "REPLACE", ReplaceCommand{ReplaceArgs{4, "Drafts"},
			AppendMessage{Flags: []string{FlagSeen, FlagDraft}, Literal: LiteralInfo{Size: 3}}}},
		{"a1 uid replace * INBOX {2+}\r\nab", "UID REPLACE", ReplaceCommand{ReplaceArgs{Star, "INBOX"},
			AppendMessage{Literal: LiteralInfo{Size: 2, NonSync: true}}}},
		{"a1 APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello {3+}\r\nabc ~{2}\r\n\x00\x01",
			"APPEND", AppendCommand{"saved-messages", []AppendMessage{
				{Flags: []string{FlagSeen}, Date: time.Date(1994, 2, 7, 21, 52, 25, 0, time.FixedZone("", -8*3600)), Literal: LiteralInfo{Size: 5}},
				{Literal: LiteralInfo{Size: 3, NonSync: true}},
				{Literal: LiteralInfo{Size: 2, Binary: true}},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := ParseCommand(newDecoder(tt.in+"\r\n", Options{}))
			if err != nil {
				t.Fatalf("%q: %v", tt.in, err)
			}
			if cmd.Tag != "a1" || cmd.Name != tt.name {
				t.Errorf("got tag %q name %q", cmd.Tag, cmd.Name)
			}
			if !reflect.DeepEqual(cmd.Args, tt.args) {
				t.Errorf("%q:\ngot  %#v\nwant %#v", tt.in, cmd.Args, tt.args)
			}
		})
	}
}

func TestParseCommandBad(t *testing.T) {
	for _, in := range []string{
		"", "a1", "a1 ", "+ NOOP", "a1 FROB", "a1 NOOP x", "a1 UID NOOP", "a1 LOGIN alice",
		"a1 SELECT", "a1 SELECT INBOX (QRESYNC)",
		// RFC 7162 §7: qresync-param and its bounds.
		"a1 SELECT INBOX (QRESYNC ())", "a1 SELECT INBOX (QRESYNC (1))", "a1 SELECT INBOX (QRESYNC (0 5))",
		"a1 SELECT INBOX (QRESYNC (1 0))", "a1 SELECT INBOX (QRESYNC (1 9223372036854775808))",
		"a1 SELECT INBOX (QRESYNC (1 5 1:*))", "a1 SELECT INBOX (QRESYNC (1 5 $))", "a1 SELECT INBOX (QRESYNC (1 5 1:3 ))",
		"a1 SELECT INBOX (QRESYNC (1 5 1:3 (1:2 4)))", "a1 SELECT INBOX (QRESYNC (1 5 (1 *)))",
		"a1 SELECT INBOX (QRESYNC (1 5 1:3 (1 2) x))", "a1 SELECT INBOX (QRESYNC (1 5) QRESYNC (1 5))",
		"a1 SELECT INBOX (QRESYNC (1 5 x))", "a1 SELECT INBOX (QRESYNC (4294967296 5))", "a1 LIST (RECURSIVEMATCH) \"\" *", "a1 LIST \"\" ()",
		"a1 STATUS INBOX ()", "a1 STATUS INBOX (FOO)", "a1 FETCH 1", "a1 FETCH 0 FLAGS", "a1 STORE 1 FLAGZ (x)",
		"a1 STORE 1 +FLAGS (\\*)", "a1 APPEND INBOX", "a1 APPEND INBOX (\\Seen) x", "a1 APPEND INBOX \"bad date\" {1}\r\nx",
		"a1 COPY 1", "a1 ENABLE", "a1 AUTHENTICATE PLAIN !!", "a1 ID (\"a\")", "a1 CREATE x (USE)", "a1 SEARCH",
		"a1  NOOP", "a1 NOOP\n", "a1 LIST \"\" * RETURN (BOGUS)",
		"a1 GETQUOTA", "a1 GETQUOTA \"\" x", "a1 GETQUOTAROOT", "a1 SETQUOTA \"\"", "a1 SETQUOTA \"\" STORAGE 1",
		"a1 SETQUOTA \"\" (STORAGE)", "a1 SETQUOTA \"\" (STORAGE -1)", "a1 SETQUOTA \"\" (STORAGE 9223372036854775808)",
		"a1 SETQUOTA \"\" (STORAGE 1 )", "a1 SETQUOTA \"\" (\"STORAGE\" 1)", "a1 STATUS INBOX (DELETED-STORAGES)",
		// RFC 5267 §4.4, §5: PARTIAL's range, PARTIAL with ALL, twice;
		// UPDATE twice; CANCELUPDATE takes quoted tags.
		"a1 SEARCH RETURN (PARTIAL 0:5) ALL", "a1 SEARCH RETURN (PARTIAL 1:*) ALL", "a1 SEARCH RETURN (PARTIAL 5) ALL",
		"a1 SEARCH RETURN (PARTIAL) ALL", "a1 SEARCH RETURN (PARTIAL 1:2 ALL) ALL", "a1 SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
		"a1 SEARCH RETURN (UPDATE UPDATE) ALL", "a1 CANCELUPDATE", "a1 CANCELUPDATE B01", "a1 CANCELUPDATE \"B01\" ",
		// RFC 4469 §5: at least one part, TEXT takes a literal (not a
		// literal8 or a string), URL an astring.
		"a1 APPEND INBOX CATENATE ()", "a1 APPEND INBOX CATENATE (TEXT \"x\")", "a1 APPEND INBOX CATENATE (TEXT ~{1}\r\nx)",
		"a1 APPEND INBOX CATENATE (URL)", "a1 APPEND INBOX CATENATE (URL x", "a1 APPEND INBOX CATENATE (FOO x)",
		"a1 APPEND INBOX CATENATE (URL x  URL y)", "a1 APPEND INBOX CATENATE URL x",
		// RFC 8508 §5: one nz seq-number, a mailbox, one message.
		"a1 REPLACE 0 INBOX {1}\r\nx", "a1 REPLACE 1:2 INBOX {1}\r\nx", "a1 REPLACE 1 INBOX", "a1 REPLACE INBOX {1}\r\nx",
		"a1 UID REPLACE 1 INBOX {1}\r\nx {1}\r\ny", "a1 REPLACE 1 INBOX x",
	} {
		_, err := ParseCommand(newDecoder(in+"\r\n", Options{}))
		if err == nil {
			t.Errorf("%q parsed", in)
			continue
		}
		if IsFatal(err) {
			t.Errorf("%q: fatal %v", in, err)
		}
	}
}

// TestAppendStreaming drives APPEND as the server does: decide on each
// literal from its header, answer, then stream it.
func TestAppendStreaming(t *testing.T) {
	in := "a1 APPEND INBOX {11}\r\nHello world (\\Seen) {4}\r\nbody\r\n" +
		"a2 APPEND INBOX {99999999}\r\n" +
		"a3 APPEND INBOX {10000+}\r\n" + strings.Repeat("x", 10000) + "\r\n" +
		"a4 NOOP\r\n"
	d := newDecoder(in, Options{MaxLineLength: 256})
	const appendLimit = 1000
	var bodies []string
	var refused []string

	for range 4 {
		tag, name := ParseCommandName(d)
		if name != "APPEND" {
			d.ExpectCRLF()
			if d.Err() != nil || tag != "a4" {
				t.Fatalf("after APPENDs: %q %q %v", tag, name, d.Err())
			}
			break
		}
		ParseAppendMailbox(d)
		for d.Err() == nil {
			m := ParseAppendMessage(d)
			if d.Err() != nil {
				break
			}
			if m.Literal.Size > appendLimit {
				refused = append(refused, tag)
				d.Fail("too big") // the server answers NO [TOOBIG]
				break
			}
			body, err := io.ReadAll(d.LiteralReader(m.Literal))
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, string(body))
			if !d.Peek(' ') {
				break
			}
		}
		if d.Err() == nil {
			d.ExpectCRLF()
		}
		if d.Err() != nil {
			if err := d.DiscardLine(); err != nil {
				t.Fatalf("discard after %s: %v", tag, err)
			}
		}
	}
	if want := []string{"Hello world", "body"}; !reflect.DeepEqual(bodies, want) {
		t.Errorf("bodies %q, want %q", bodies, want)
	}
	if want := []string{"a2", "a3"}; !reflect.DeepEqual(refused, want) {
		t.Errorf("refused %q, want %q", refused, want)
	}
}

func TestLiteralPending(t *testing.T) {
	d := newDecoder("a1 APPEND INBOX {5}\r\nhello\r\n", Options{})
	ParseCommandName(d)
	ParseAppendMailbox(d)
	m := ParseAppendMessage(d)
	if d.ExpectCRLF() || !errors.Is(d.Err(), ErrLiteralPending) {
		t.Fatalf("reading past an unread literal: %v", d.Err())
	}
	d = newDecoder("a1 APPEND INBOX {5}\r\nhello\r\n", Options{})
	ParseCommandName(d)
	ParseAppendMailbox(d)
	m = ParseAppendMessage(d)
	r := d.LiteralReader(m.Literal)
	buf := make([]byte, 2)
	io.ReadFull(r, buf)
	if d.ExpectCRLF() || !errors.Is(d.Err(), ErrLiteralPending) {
		t.Fatalf("reading inside a literal: %v", d.Err())
	}
}

func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"a1 CAPABILITY\r\n",
		"a1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n",
		"a1 UID FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (From)]<0.100>)\r\n",
		"a1 SEARCH RETURN (MIN) CHARSET UTF-8 OR FROM x (TO y SINCE 1-Feb-1994) UID $\r\n",
		"a1 STORE 1:3 +FLAGS.SILENT (\\Seen $Junk)\r\n",
		"a1 APPEND INBOX (\\Seen) \"01-Jan-2024 00:00:00 +0000\" {3}\r\nabc ~{2}\r\nxy\r\n",
		"a1 LIST (SUBSCRIBED) \"\" (% *) RETURN (STATUS (MESSAGES))\r\n",
		"a1 SELECT &ZeVnLIqe- (CONDSTORE)\r\n",
		"a1 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:15,20,40 1:15,69,103)))\r\n",
		"a1 ID (\"name\" NIL)\r\n",
		"a1 FETCH 1 BINARY.SIZE[1.2]\r\n",
		"a1 UID SORT (REVERSE DATE DISPLAYFROM) UTF-8 HEADER SUBJECT x\r\n",
		"a1 UID THREAD REFS US-ASCII ALL\r\n",
		"a1 SETQUOTA \"\" (STORAGE 512 MESSAGE 100)\r\na2 GETQUOTAROOT INBOX\r\na3 GETQUOTA \"\"\r\n",
		"a1 UID REPLACE 2000 Drafts (\\Seen \\Draft) {3+}\r\nabc\r\na2 REPLACE * INBOX {1}\r\nx\r\n",
		"a1 SETMETADATA INBOX (/private/comment \"x\" /shared/vendor/a ~{3}\r\na\x00b /private/b NIL)\r\na2 GETMETADATA (MAXSIZE 1024 DEPTH infinity) \"\" (/private /shared/comment)\r\n",
		"a1 UID FETCH 1:* (PREVIEW (LAZY) FLAGS)\r\na2 FETCH 1 PREVIEW\r\n",
		"a1 FETCH 1:* (EMAILID THREADID)\r\na2 STATUS INBOX (MAILBOXID)\r\na3 UID SEARCH EMAILID M1\r\n",
		"a1 FETCH 998 (SAVEDATE)\r\na2 SEARCH SAVEDON 28-Dec-2014\r\na3 UID SEARCH SAVEDSINCE 28-Dec-2014 SAVEDATESUPPORTED\r\n",
		"a1 NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange)) (subtree (Lists \"A B\") (MessageNew MessageExpunge MailboxName)) (personal NONE)\r\na2 NOTIFY NONE\r\n",
		"a1 APPEND Drafts (\\Seen) CATENATE (URL \"/Drafts;UIDVALIDITY=3/;UID=20/;section=1.MIME\" TEXT {2+}\r\nab) {1+}\r\nx\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(bufio.NewReaderSize(bytes.NewReader(in), 64), Options{MaxLineLength: 1024})
		for range 8 {
			_, err := ParseCommand(d)
			if err == nil {
				continue
			}
			if IsFatal(err) {
				return
			}
			if d.DiscardLine() != nil {
				return
			}
			if d.Err() != nil {
				t.Fatalf("error kept after DiscardLine: %v", d.Err())
			}
		}
	})
}

const benchFetch = "a1 UID FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)\r\n"

func BenchmarkDecodeUIDFetch(b *testing.B) {
	benchmarkCommand(b, benchFetch)
}

func BenchmarkDecodeSearch(b *testing.B) {
	benchmarkCommand(b, "a2 UID SEARCH RETURN (ALL) CHARSET UTF-8 OR FROM \"alice\" SUBJECT report SINCE 1-Feb-2024 UNDELETED NOT KEYWORD $Junk\r\n")
}

// benchmarkCommand parses the same command repeatedly from one stream, as
// a connection does.
func benchmarkCommand(b *testing.B, cmd string) {
	data := []byte(strings.Repeat(cmd, 1000))
	r := bytes.NewReader(data)
	br := bufio.NewReader(r)
	d := NewDecoder(br, Options{})
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			r.Reset(data)
			br.Reset(r)
		}
		if _, err := ParseCommand(d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestModSeqValues checks the bounds of RFC 7162 §7: CHANGEDSINCE takes a
// mod-sequence-value (1 to 2^63-1), UNCHANGEDSINCE and the MODSEQ search
// key a mod-sequence-valzer (0 to 2^63-1); anything else is BAD.
func TestModSeqValues(t *testing.T) {
	good := []string{
		"a1 FETCH 1 FLAGS (CHANGEDSINCE 1)",
		"a1 FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775807)",
		"a1 STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)",
		"a1 STORE 1 (UNCHANGEDSINCE 9223372036854775807) FLAGS.SILENT ()",
		"a1 SEARCH MODSEQ 0",
		`a1 SEARCH MODSEQ "/flags/\\Seen" priv 9223372036854775807`,
		`a1 SEARCH MODSEQ "/flags/$Junk" shared 5`,
	}
	bad := []string{
		"a1 FETCH 1 FLAGS (CHANGEDSINCE 0)",
		"a1 FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)",
		"a1 FETCH 1 FLAGS (CHANGEDSINCE 18446744073709551616)",
		"a1 FETCH 1 FLAGS (CHANGEDSINCE)",
		"a1 STORE 1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\\Seen)",
		"a1 STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)",
		"a1 SEARCH MODSEQ 9223372036854775808",
		`a1 SEARCH MODSEQ "/flags/" all 1`,
		`a1 SEARCH MODSEQ "/x/\\Seen" all 1`,
		`a1 SEARCH MODSEQ "/flags/\\Seen" bogus 1`,
	}
	for _, in := range good {
		if _, err := ParseCommand(newDecoder(in+"\r\n", Options{})); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	for _, in := range bad {
		_, err := ParseCommand(newDecoder(in+"\r\n", Options{}))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a syntax error", in, err)
		}
	}
}
