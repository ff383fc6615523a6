package mailimport

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// keyAt returns the mbox key of the From_ line that starts with prefix.
func keyAt(t *testing.T, path, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), prefix)
	if i < 0 {
		t.Fatalf("%s: no %q", path, prefix)
	}
	return "mbox:" + strconv.Itoa(i)
}

func utc(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
}

func TestMboxFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []msg // Key is the prefix of the From_ line; Date compared with Equal
	}{
		{"basic.mbox", []msg{
			{Key: "From alice", Line: 1, Date: utc(2006, 1, 2, 15, 4, 5),
				Flags:   []string{store.FlagSeen, store.FlagAnswered, store.FlagFlagged},
				Content: "Status: RO\nX-Status: AF\nFrom: Alice <alice@example.org>\nSubject: one\n\nHello.\n"},
			{Key: "From bob", Line: 9, Date: utc(2009, 2, 3, 10, 0, 0),
				Content: "Status: O\nSubject: two\nDate: Wed, 4 Feb 2009 11:00:00 +0100\n\nSecond body.\n"},
		}},
		{"mboxrd.mbox", []msg{
			{Key: "From a@x", Line: 1, Date: utc(1996, 1, 3, 1, 5, 34),
				Content: "Subject: rd\n\nFrom the start\n>From two\n>>From three\n> From not escaped\n>Fromage\n" +
					"From here on, a body line after a non-blank line\nplain\n\n" +
					"From the desk of the editor: after a blank line, no date\n"},
			{Key: "From b@x", Line: 14, Date: utc(1996, 1, 3, 1, 5, 35), Content: "Subject: next\n\nbody\n"},
		}},
		{"crlf.mbox", []msg{
			{Key: "From a@x", Line: 1, Date: utc(1996, 1, 3, 1, 5, 34),
				Flags:   []string{store.FlagSeen, store.FlagAnswered},
				Content: "Subject: crlf\r\nX-Mozilla-Status: 0003\r\n\r\nline\r\n"},
			{Key: "From b@x", Line: 7, Date: utc(1996, 1, 3, 1, 5, 35), Content: "Subject: two\r\n\r\nend\r\n"},
		}},
		{"noblank.mbox", []msg{
			{Key: "From a@x", Line: 1, Date: utc(1996, 1, 3, 1, 5, 34), Content: "Subject: one\n\nno blank line follows\n"},
			{Key: "From b@x", Line: 5, Date: utc(1996, 1, 2, 23, 5, 35), Content: "Subject: two\n\nno trailing newline"},
		}},
		{"blanks.mbox", []msg{
			{Key: "From a@x", Line: 1, Date: utc(1996, 1, 3, 1, 5, 34), Content: "Subject: keep\n\nbody\n\n\n"},
			{Key: "From - ", Line: 8, Date: utc(2024, 3, 14, 9, 26, 53), Content: "Subject: thunderbird-style\n\nx\n"},
		}},
		{"nodate.mbox", []msg{
			{Key: "From MAILER", Line: 1, Date: utc(2002, 3, 1, 10, 0, 0),
				Content: "Subject: no date\nDate: Fri, 1 Mar 2002 10:00:00 +0000\n\nbody\n"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/" + tt.file
			got, err := openAll(t, path, FormatMbox)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				w.Key = keyAt(t, path, w.Key)
				checkMsg(t, i, got[i], w)
			}
		})
	}
}

func checkMsg(t *testing.T, i int, got, want msg) {
	t.Helper()
	if got.Key != want.Key || got.Line != want.Line {
		t.Errorf("message %d: key %q line %d, want %q line %d", i, got.Key, got.Line, want.Key, want.Line)
	}
	if got.Content != want.Content {
		t.Errorf("message %d: content\n%q\nwant\n%q", i, got.Content, want.Content)
	}
	if !got.Date.Equal(want.Date) {
		t.Errorf("message %d: date %v, want %v", i, got.Date, want.Date)
	}
	if len(got.Flags) != 0 || len(want.Flags) != 0 {
		if !reflect.DeepEqual(got.Flags, want.Flags) {
			t.Errorf("message %d: flags %q, want %q", i, got.Flags, want.Flags)
		}
	}
	if want.VMS != nil && !reflect.DeepEqual(got.VMS, want.VMS) {
		t.Errorf("message %d: VMS\n%+v\nwant\n%+v", i, got.VMS, want.VMS)
	}
}

// Inputs that are odd or broken: each gives the messages listed, or an
// error on a line.
func TestMboxEdgeCases(t *testing.T) {
	const from = "From a@x Sat Jan  3 01:05:34 1996\n"
	long := strings.Repeat("x", 200<<10)
	tests := []struct {
		name    string
		in      string
		want    []string // contents
		errLine int      // > 0: a *SyntaxError on this line
		errText string
	}{
		{name: "empty file", in: ""},
		{name: "not an mbox", in: "Subject: x\n\nbody\n", errLine: 1, errText: `does not start with "From "`},
		{name: "leading blank line", in: "\n" + from, errLine: 1},
		{name: "CR-only line endings", in: "From a@x Sat Jan  3 01:05:34 1996\rSubject: x\r\rbody\r", errLine: 1, errText: "CR-only"},
		{name: "From_ line only", in: from, want: []string{""}},
		{name: "From_ line without newline", in: strings.TrimSuffix(from, "\n"), want: []string{""}},
		{name: "two From_ lines in a row", in: from + from + "x\n", want: []string{"", "x\n"}},
		{name: "NUL bytes pass through", in: from + "S: x\n\nbo\x00dy\n", want: []string{"S: x\n\nbo\x00dy\n"}},
		{name: "bare CR in a later line passes through", in: from + "S: x\n\na\rb\n", want: []string{"S: x\n\na\rb\n"}},
		{name: "truncated last message", in: from + "S: x\n\nbody\n\n" + from + "Subject: trun", want: []string{"S: x\n\nbody\n", "Subject: trun"}},
		{name: "garbage between messages belongs to the first", in: from + "S: 1\n\nbody\n\n%%garbage%%\n\n" + from + "S: 2\n",
			want: []string{"S: 1\n\nbody\n\n%%garbage%%\n", "S: 2\n"}},
		{name: "From_ with named zone after a non-blank line", in: from + "S: 1\n\nbody\nFrom x Mon Jan  2 15:04:05 MST 2006\nS: 2\n",
			want: []string{"S: 1\n\nbody\n", "S: 2\n"}},
		{name: "From_ line without year still splits", in: from + "S: 1\n\nFrom x Mon Jan  2 15:04\nS: 2\n",
			want: []string{"S: 1\n", "S: 2\n"}},
		{name: "only the From_ line's blank is dropped", in: from + "S: 1\n\n\n" + from + "S: 2\n\n",
			want: []string{"S: 1\n\n", "S: 2\n"}},
		{name: "line longer than the buffer", in: from + "S: 1\n\n" + long + "\n\n" + from,
			want: []string{"S: 1\n\n" + long + "\n", ""}},
		{name: ">From on a long line", in: from + "S: 1\n\n>>From " + long + "\n",
			want: []string{"S: 1\n\n>From " + long + "\n"}},
		{name: "From line longer than the buffer is body", in: from + "S: 1\n\nFrom a@x Sat Jan  3 01:05:34 1996 " + long + "\n",
			want: []string{"S: 1\n\nFrom a@x Sat Jan  3 01:05:34 1996 " + long + "\n"}},
		{name: "header longer than the read-ahead", in: from + "X: " + strings.Repeat("y", maxHeaderScan) + "\nStatus: R\n\nb\n",
			want: []string{"X: " + strings.Repeat("y", maxHeaderScan) + "\nStatus: R\n\nb\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openAll(t, writeTemp(t, "in.mbox", tt.in), FormatMbox)
			if tt.errLine > 0 {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Line != tt.errLine || !strings.Contains(se.Error(), tt.errText) {
					t.Fatalf("err = %v, want a SyntaxError on line %d with %q", err, tt.errLine, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var contents []string
			for _, m := range got {
				contents = append(contents, m.Content)
			}
			if !reflect.DeepEqual(contents, tt.want) {
				t.Errorf("contents\n%.300q\nwant\n%.300q", contents, tt.want)
			}
		})
	}
}

func TestParseFromLine(t *testing.T) {
	good := func(line string, want time.Time, hasYear bool) {
		t.Helper()
		fd, ok := parseFromLine([]byte(line))
		if !ok || fd.hasYear != hasYear || hasYear && !fd.t.Equal(want) {
			t.Errorf("parseFromLine(%q) = %v, %v, %v; want %v, %v", line, fd.t, fd.hasYear, ok, want, hasYear)
		}
	}
	bad := func(line string) {
		t.Helper()
		if fd, ok := parseFromLine([]byte(line)); ok {
			t.Errorf("parseFromLine(%q) = %v, want not a From_ line", line, fd.t)
		}
	}
	good("From a@b Mon Jan  2 15:04:05 2006\n", utc(2006, 1, 2, 15, 4, 5), true)
	good("From a@b Mon Jan 2 15:04:05 2006\r\n", utc(2006, 1, 2, 15, 4, 5), true)
	good("From a@b Mon Jan 02 15:04:05 2006", utc(2006, 1, 2, 15, 4, 5), true)
	good("From a@b Jan  2 15:04:05 2006", utc(2006, 1, 2, 15, 4, 5), true)
	good("From a@b Mon Jan  2 15:04 2006", utc(2006, 1, 2, 15, 4, 0), true)
	good("From a@b Mon Jan  2 15:04:05 -0700 2006", utc(2006, 1, 2, 22, 4, 5), true)
	good("From a@b Mon Jan  2 15:04:05 2006 +0100", utc(2006, 1, 2, 14, 4, 5), true)
	good("From a@b Mon Jan  2 15:04:05 CET DST 2006", utc(2006, 1, 2, 15, 4, 5), true)
	good("From a@b Mon Jan  2 15:04:05 MST 2006 remote from x", utc(2006, 1, 2, 15, 4, 5), true)
	good("From a@b Fri Jun 23 02:56:55 00", utc(2000, 6, 23, 2, 56, 55), true)
	good("From a@b Fri Jun 23 02:56:55 99", utc(1999, 6, 23, 2, 56, 55), true)
	good("From \"a b\"@c Mon Jan  2 15:04:05 2006", utc(2006, 1, 2, 15, 4, 5), true)
	good("From MAILER-DAEMON Mon Jan  2 15:04:05", time.Time{}, false)
	good("From - mon JAN  2 15:04:05 2006", utc(2006, 1, 2, 15, 4, 5), true)
	bad("From the desk of the editor")
	bad("From here on, it is over")
	bad("From a@b")
	bad("From a@b Mon Jan 32 15:04:05 2006")
	bad("From a@b Mon Feb 30 15:04:05 2006")
	bad("From a@b Mon Jan  2 25:04:05 2006")
	bad("From a@b Mon Foo  2 15:04:05 2006")
	bad("From a@b Mon Jan  2 15:+4:05 2006")
	// No sender (qmail's bounce example): the weekday is taken for one.
	good("From Sat Jan  3 01:05:34 1996", utc(1996, 1, 3, 1, 5, 34), true)
	bad("from a@b Mon Jan  2 15:04:05 2006")
	bad(">From a@b Mon Jan  2 15:04:05 2006")
}
