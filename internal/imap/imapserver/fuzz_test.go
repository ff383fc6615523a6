package imapserver

import (
	"io"
	"net"
	"testing"
	"time"
)

// (not authenticated, authenticated, selected, selected with CONDSTORE,
// selected with UIDONLY and QRESYNC),
// after a seed corpus of real commands (mox imapserver/fuzz_test.go). A
// panic fails TestMain; a hang fails the read deadline.
func FuzzServer(f *testing.F) {
	seeds := []string{
		"a CAPABILITY", "a NOOP", "a LOGOUT", "a ID NIL", "a LOGIN alice secret", "a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==",
		"a SELECT INBOX", "a EXAMINE Sent", "a LIST \"\" *", "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (* %) RETURN (CHILDREN STATUS (MESSAGES SIZE))",
		"a STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE)", "a CREATE x/y (USE (\\Archive))", "a RENAME x z", "a DELETE z",
		"a APPEND INBOX (\\Seen) {5+}\r\nhello", "a APPEND INBOX {3+}\r\nabc {3+}\r\ndef",
		"a FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[1.HEADER.FIELDS (From)]<0.10> BINARY[1] BINARY.SIZE[1])",
		"a UID FETCH 1:* RFC822", "a STORE 1 +FLAGS (\\Deleted kw)", "a UID STORE 1:* -FLAGS.SILENT \\Seen",
		"a SEARCH RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 OR (FROM bob) NOT BODY x", "a UID SEARCH $", "a SEARCH ALL",
		"a UID SEARCH HEADER Subject hi SENTSINCE 1-Jan-2020 LARGER 10 UID 1:*", "a COPY 1 Trash", "a UID MOVE 1:* Junk",
		"a EXPUNGE", "a UID EXPUNGE 1", "a CLOSE", "a UNSELECT", "a ENABLE IMAP4rev2", "a IDLE\r\nDONE", "a NAMESPACE",
		"a LSUB \"\" *", "a SUBSCRIBE INBOX", "a FETCH 1 BODY[", "a {99999999}", "* BAD", "\x00\xff", "a STARTTLS",
		// CONDSTORE (RFC 7162 §3.1).
		"a ENABLE CONDSTORE", "a SELECT INBOX (CONDSTORE)", "a EXAMINE INBOX (condstore)", "a SELECT INBOX (BOGUS)",
		"a STATUS INBOX (HIGHESTMODSEQ MESSAGES)", "a LIST \"\" * RETURN (STATUS (HIGHESTMODSEQ))",
		"a FETCH 1:* (FLAGS MODSEQ)", "a FETCH 1:* (FLAGS) (CHANGEDSINCE 1)", "a UID FETCH 1:* (UID) (CHANGEDSINCE 9223372036854775807)",
		"a FETCH 1 FLAGS (CHANGEDSINCE 0)", "a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)", "a UID FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)",
		"a FETCH 1 FLAGS (CHANGEDSINCE", "a FETCH 1 (BODY[]) (CHANGEDSINCE 1)",
		"a STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)", "a UID STORE 1:* (UNCHANGEDSINCE 0) FLAGS.SILENT ()",
		"a STORE 1 (UNCHANGEDSINCE 18446744073709551616) -FLAGS \\Seen", "a STORE 1 (UNCHANGEDSINCE) +FLAGS x",
		"a SEARCH MODSEQ 1", "a UID SEARCH RETURN (MIN MAX) MODSEQ \"/flags/\\\\seen\" all 0",
		"a SEARCH OR MODSEQ 5 NOT MODSEQ 2 UNSEEN", "a SEARCH MODSEQ \"/flags/\" priv 1", "a SEARCH MODSEQ -1",
		// QRESYNC (RFC 7162 §3.2).
		"a ENABLE QRESYNC", "a ENABLE QRESYNC CONDSTORE", "a SELECT INBOX (QRESYNC (1001 1))",
		"a EXAMINE INBOX (QRESYNC (1001 2 1:4294967295 (1:3 1,5:6)))", "a SELECT INBOX (QRESYNC (1 1 1:*))",
		"a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "a UID FETCH $ (FLAGS) (VANISHED CHANGEDSINCE 1)",
		"a FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)",
		// CATENATE (RFC 4469).
		"a APPEND INBOX CATENATE (URL \"/INBOX/;UID=1/;SECTION=HEADER\" TEXT {4+}\r\nS: x URL \";UID=1/;PARTIAL=0.5\")",
		"a APPEND INBOX CATENATE (URL \"/INBOX;UIDVALIDITY=1/;UID=1\" TEXT {4+}\r\nabcd) CATENATE (URL x)",
		"a APPEND INBOX CATENATE ()", "a UID REPLACE 1 INBOX CATENATE (TEXT {4+}\r\nS: x URL \"/INBOX/;UID=1\")",
		// REPLACE (RFC 8508).
		"a REPLACE 1 Drafts (\\Seen \\Draft) {9+}\r\nS: x\r\n\r\nb", "a UID REPLACE * INBOX {9+}\r\nS: x\r\n\r\nb",
		"a REPLACE 0 INBOX {1+}\r\nx", "a REPLACE 1 INBOX {1+}\r\nx {1+}\r\ny",
		// ESORT, CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267).
		"a SORT RETURN (MIN MAX ALL COUNT SAVE) (SUBJECT) UTF-8 ALL", "a UID SORT RETURN (UPDATE PARTIAL 1:3) (DATE) UTF-8 ALL",
		"a UID SEARCH RETURN (UPDATE CONTEXT COUNT) UNSEEN", "a SEARCH RETURN (PARTIAL 5:1) ALL", "a CANCELUPDATE \"a\" \"b\"",
		// Issue 11: literal8, framing after errors, BINARY errors, names.
		"a APPEND INBOX ~{8+}\r\nS: x\n\na\x00", "a APPEND INBOX (\\Seen) ~{3+}\r\na\nb ~{2+}\r\nxy",
		"a FROB {11+}\r\nb LOGOUT\r\n", "a SELECT INBOX (X {11+}\r\nb LOGOUT\r\n)", "a LOGIN \"x{11+}\r\nb LOGOUT\r\n",
		"a FETCH 1 (UID BINARY.PEEK[1.2.3] BINARY.SIZE[9] BINARY[1]<0.1>)", "a SELECT &Jjo", "a STATUS \"&\" (MESSAGES)",
		"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (a a/b) RETURN (CHILDREN)", "a SEARCH NOT NOT NOT (NOT (OR ALL ALL))",
		// SORT and THREAD (RFC 5256, RFC 5957).
		"a SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "a UID SORT (DISPLAYFROM DISPLAYTO ARRIVAL CC SIZE TO FROM) US-ASCII HEADER SUBJECT x",
		"a SORT (BOGUS) UTF-8 ALL", "a SORT (DATE) KOI8-R ALL", "a SORT (DATE) UTF-8 MODSEQ 1",
		"a THREAD REFERENCES UTF-8 ALL", "a UID THREAD REFS US-ASCII SINCE 1-Jan-2020", "a THREAD ORDEREDSUBJECT UTF-8 $", "a THREAD X UTF-8 ALL",
		// QUOTA (RFC 9208).
		"a GETQUOTAROOT INBOX", "a GETQUOTA \"\"", "a GETQUOTA \"#user/alice\"", "a SETQUOTA \"\" (STORAGE 512 MESSAGE 10)",
		"a SETQUOTA \"\" ()", "a SETQUOTA {1+}\r\nx (FOO 1)", "a STATUS INBOX (DELETED DELETED-STORAGE)",
		// WITHIN (RFC 5032).
		"a SEARCH OLDER 1 YOUNGER 4294967295", "a UID SORT (DATE) UTF-8 NOT OLDER 60", "a SEARCH OLDER 0",
		// UNAUTHENTICATE (RFC 8437).
		"a UNAUTHENTICATE", "a UNAUTHENTICATE x",
		// NOTIFY (RFC 5465).
		"a NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[]) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))",
		// PREVIEW (RFC 8970).
		"a FETCH 1:* (PREVIEW (LAZY) UID)", "a UID FETCH 1 PREVIEW", "a FETCH 1 (PREVIEW (X))",
		// OBJECTID (RFC 8474).
		"a FETCH 1:* (EMAILID THREADID)", "a STATUS INBOX (MAILBOXID)", "a SEARCH OR EMAILID M1 THREADID M1",
		// METADATA (RFC 5464).
		"a SETMETADATA \"\" (/private/comment \"c\" /shared/x ~{1+}\r\n\x00)", "a GETMETADATA (MAXSIZE 0 DEPTH infinity) INBOX (/private /shared)",
		"a SETMETADATA INBOX (/x NIL)", "a GETMETADATA (DEPTH 1) nosuch /private/a",
		"a NOTIFY SET (subtree (INBOX x) NONE) (inboxes (MessageNew))", "a NOTIFY SET (selected-delayed (AnnotationChange))", "a NOTIFY NONE",
		// UIDONLY (RFC 9586): the refusals and the UIDFETCH answers.
		"a ENABLE UIDONLY", "a ENABLE UIDONLY QRESYNC", "a FETCH * FLAGS", "a UID SEARCH OR 1 UID 2", "a UID SORT (DATE) UTF-8 NOT 1:*",
		"a SELECT INBOX (QRESYNC (1001 1 1:* (1 1)))", "a REPLACE 1 INBOX {11+}\r\nb LOGOUT\r\n", "a UID STORE 1:* +FLAGS.SILENT \\Deleted",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fx := newFixture(f)
	if err := fx.addUser("alice", "secret"); err != nil {
		f.Fatal(err)
	}
	fx.deliver("alice", "INBOX", []byte("From: bob@example.org\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"))
	fx.opts.AppendLimit = 1 << 20
	addr := fx.start()
	prefixes := []string{
		"",
		"p1 LOGIN alice secret\r\n",
		"p1 LOGIN alice secret\r\np2 SELECT INBOX\r\n",
		"p1 LOGIN alice secret\r\np2 ENABLE CONDSTORE\r\np3 SELECT INBOX (CONDSTORE)\r\n",
		"p1 LOGIN alice secret\r\np2 ENABLE UIDONLY QRESYNC\r\np3 SELECT INBOX\r\n",
	}
	f.Fuzz(func(t *testing.T, input string) {
		for _, prefix := range prefixes {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			go func() {
				io.WriteString(nc, prefix+"x0 NOOP\r\n"+input+"\r\nz LOGOUT\r\n")
				nc.(*net.TCPConn).CloseWrite()
			}()
			if _, err := io.Copy(io.Discard, nc); err != nil {
				t.Fatalf("reading the server's answer to %q: %v", input, err)
			}
			nc.Close()
		}
	})
}
