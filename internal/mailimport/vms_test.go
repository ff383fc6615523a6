package mailimport

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

func local(y int, m time.Month, d, hh, mm, ss, cs int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, cs*int(10*time.Millisecond), time.Local)
}

func TestVMSFixture(t *testing.T) {
	const path = "testdata/extract.txt"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key := func(prefix string) string {
		return "vms:" + strconv.Itoa(strings.Index(string(b), prefix))
	}
	want := []msg{
		{Key: key("From:\tORDERS"), Line: 2, Date: local(1999, 4, 6, 6, 2, 31, 15),
			Content: "\r\nBody line 1\nBody line 2\n",
			VMS: &store.VMSEnvelope{From: "ORDERS::J_SMITH", PersonalName: "John Smith", To: "BROWN,SMITH",
				Subject: "Quarterly report", Date: local(1999, 4, 6, 6, 2, 31, 15)}},
		{Key: key("From:\tSMTP"), Line: 10, Date: local(2001, 5, 12, 23, 59, 59, 99),
			Content: "\r\nshort\n",
			VMS: &store.VMSEnvelope{From: `SMTP%"jones@x.org"`, To: "SMITH", Subject: "no cc here",
				Date: local(2001, 5, 12, 23, 59, 59, 99)}},
		{Key: key("From:\tNODE"), Line: 15, Date: local(2000, 1, 1, 0, 0, 0, 0),
			Content: "\r\na page\n\f\nbreak kept\n",
			VMS: &store.VMSEnvelope{From: `NODE::"user name@host.example"`, PersonalName: `O"Brien`,
				To: "A,B, C,D", CC: "E", Subject: "lower case names", Date: local(2000, 1, 1, 0, 0, 0, 0)}},
		{Key: key("From:   JONES"), Line: 26, Date: local(1999, 12, 31, 12, 0, 0, 0),
			Content: "Received: from x by y; Fri, 31 Dec 1999 12:00:00 +0000\nFrom: Jones <jones@x.org>\n" +
				"Subject: real\n header\n\nReal body.\n",
			VMS: &store.VMSEnvelope{From: "JONES", To: "ME", Subject: "TOP_HEADERS",
				Date: local(1999, 12, 31, 12, 0, 0, 0), OwnHeader: true}},
	}
	src, err := Open(path, FormatVMS)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := collect(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		checkMsg(t, i, got[i], want[i])
	}
	if done, total := src.Progress(); done != int64(len(b)) || total != int64(len(b)) {
		t.Errorf("Progress = %d, %d; want %d", done, total, len(b))
	}
}

func TestVMSEdgeCases(t *testing.T) {
	const from = "From:\tA::B  1-JAN-2000 10:00:00.00\n"
	tests := []struct {
		name    string
		in      string
		want    []string // contents
		own     []bool   // OwnHeader per message, when checked
		subject string   // Subject of the first message, when checked
		errLine int
	}{
		{name: "empty file", in: ""},
		{name: "only form feeds", in: "\f\n\f\n\n"},
		{name: "no blank line after the header", in: from + "To:\tC\nbody starts\n", want: []string{"\r\nbody starts\n"}},
		{name: "From line only", in: from, want: []string{"\r\n"}},
		{name: "CRLF extract", in: "From:\tA  1-JAN-2000 10:00:00.00\r\nTo:\tB\r\nSubj:\tC\r\n\r\nbody\r\n\f\r\n" + from + "\nx\n",
			want: []string{"\r\nbody\r\n", "\r\nx\n"}, subject: "C"},
		{name: "form feed inside a line", in: from + "\na\fb\n", want: []string{"\r\na\fb\n"}},
		{name: "form feed before a From line without date", in: from + "\na\n\fFrom:\tX\nb\n\f\nFrom: Y\n",
			want: []string{"\r\na\n\fFrom:\tX\nb\n\f\nFrom: Y\n"}},
		{name: "several form feeds", in: from + "\na\n\f\f\n\n\f\n" + from + "\nb\n\f", want: []string{"\r\na\n", "\r\nb\n"}},
		{name: "form feed glued to the From line", in: from + "\na\n\f" + from + "\nb\n", want: []string{"\r\na\n", "\r\nb\n"}},
		{name: "subject continuation", in: from + "Subj:\tlong\n  subject\n\nb\n", want: []string{"\r\nb\n"}, subject: "long subject"},
		{name: "white-space line ends the header", in: from + "To:\tX\n \t\nbody\n", want: []string{"\r\nbody\n"}},
		{name: "header block without blank line is body", in: from + "\nFrom: x@y\nSubject: z\n",
			want: []string{"\r\nFrom: x@y\nSubject: z\n"}, own: []bool{false}},
		{name: "a colon line is not a header", in: from + "\nNote: moved\n\nSee you\n",
			want: []string{"\r\nNote: moved\n\nSee you\n"}, own: []bool{false}},
		{name: "top headers", in: from + "\nDate: 1 Jan 2000 10:00 +0000\n\nhi\n",
			want: []string{"Date: 1 Jan 2000 10:00 +0000\n\nhi\n"}, own: []bool{true}},
		{name: "top headers end at the separator", in: from + "\nDate: x\n\f\n" + from + "\nb\n",
			want: []string{"\r\nDate: x\n", "\r\nb\n"}, own: []bool{false, false}},
		{name: "garbage first line", in: "\n\nHello there\n", errLine: 3},
		{name: "From line without date", in: "From:\tA::B\nTo:\tC\n", errLine: 1},
		{name: "indented line right after From: is body", in: from + " stray\n", want: []string{"\r\n stray\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(writeTemp(t, "x.txt", tt.in), FormatVMS)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got, err := collect(t, src)
			if tt.errLine > 0 {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Line != tt.errLine {
					t.Fatalf("err = %v, want a SyntaxError on line %d", err, tt.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var contents []string
			var own []bool
			for _, m := range got {
				contents = append(contents, m.Content)
				own = append(own, m.VMS.OwnHeader)
			}
			if !reflect.DeepEqual(contents, tt.want) {
				t.Errorf("contents\n%q\nwant\n%q", contents, tt.want)
			}
			if tt.own != nil && !reflect.DeepEqual(own, tt.own) {
				t.Errorf("OwnHeader %v, want %v", own, tt.own)
			}
			if tt.subject != "" && got[0].VMS.Subject != tt.subject {
				t.Errorf("Subject %q, want %q", got[0].VMS.Subject, tt.subject)
			}
		})
	}
}

func TestParseVMSFrom(t *testing.T) {
	tests := []struct {
		line       string
		addr, name string
		date       time.Time // zero: not a From line
	}{
		{"From:\tORDERS::J_SMITH      \"John Smith\"  6-APR-1999 06:02:31.15\n", "ORDERS::J_SMITH", "John Smith", local(1999, 4, 6, 6, 2, 31, 15)},
		{"FROM: SMTP%\"jones@x.org\" 16-apr-1999 6:02:31", `SMTP%"jones@x.org"`, "", local(1999, 4, 16, 6, 2, 31, 0)},
		{"from:\tSMITH  1-JAN-2000 10:00", "SMITH", "", local(2000, 1, 1, 10, 0, 0, 0)},
		{"From:\tNODE::\"a b@c\" \"P \"\"Q\"\" R\"  1-JAN-2000 10:00:00.5", `NODE::"a b@c"`, `P "Q" R`, local(2000, 1, 1, 10, 0, 0, 50)},
		{"From:\tMX%\"x@y\" unquoted name  1-JAN-2000 10:00:00", `MX%"x@y"`, "unquoted name", local(2000, 1, 1, 10, 0, 0, 0)},
		{"From:\tA::B  29-FEB-2000 23:59:59.99\r\n", "A::B", "", local(2000, 2, 29, 23, 59, 59, 99)},
		{"From:\tA::B  29-FEB-1999 10:00:00", "", "", time.Time{}},
		{"From:\tA::B  1-JAN-99 10:00:00", "", "", time.Time{}},
		{"From:\tA::B  1-XYZ-1999 10:00:00", "", "", time.Time{}},
		{"From:\tA::B  1-JAN-1999 10:00:00.123", "", "", time.Time{}},
		{"From:\tA::B", "", "", time.Time{}},
		{"From:\t1-JAN-1999 10:00:00", "", "", time.Time{}},
		{"From:\tSMTP%\"open  1-JAN-1999 10:00:00", "", "", time.Time{}},
		{"From:\tA \"open  1-JAN-1999 10:00:00", "", "", time.Time{}},
		{"To:\tA::B  1-JAN-1999 10:00:00", "", "", time.Time{}},
		{"From a@b Mon Jan  2 15:04:05 2006", "", "", time.Time{}},
	}
	for _, tt := range tests {
		f, ok := parseVMSFrom([]byte(tt.line))
		if tt.date.IsZero() {
			if ok {
				t.Errorf("parseVMSFrom(%q) = %+v, want not a From line", tt.line, f)
			}
			continue
		}
		if !ok || f.addr != tt.addr || f.name != tt.name || !f.date.Equal(tt.date) {
			t.Errorf("parseVMSFrom(%q) = %+v, %v; want %q %q %v", tt.line, f, ok, tt.addr, tt.name, tt.date)
		}
	}
}

// TestVMSForeign: an extract message whose body (without a header of its
// own) holds a control character text never has is foreign; text with
// tabs, form feeds, backspaces and escape sequences is not, nor is a
// message with its own header.
func TestVMSForeign(t *testing.T) {
	const from = "From:\tA::B  1-JAN-2000 10:00:00.00\n"
	in := from + "\n%PDF-1.4\n\x01\x02\x03 stream\n\f\n" +
		from + "\nplain\ttext\bwith \x1b[1mbold\x1b[0m\n\f\n" +
		from + "\nDate: 1 Jan 2000 10:00 +0000\nSubject: own\n\nbinary \x01 after a header\n\f\n" +
		from + "\n\x00\x00\x00 saveset\n"
	src, err := Open(writeTemp(t, "x.txt", in), FormatVMS)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var got []bool
	for {
		it, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it.Foreign)
	}
	if want := []bool{true, false, false, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("Foreign %v, want %v", got, want)
	}
}
