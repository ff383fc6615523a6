package smtpserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTranscripts runs testdata/transcripts/*.txtar in the format of
// STYLE.md B10: "Cn: line" sends, "Sn: glob" expects a line, "Sn.." skips
// lines up to the next expected one, "Cn< file" sends a file as DATA
// (dot-stuffed, CRLF, terminated). A "-- setup --" section configures the
// server (see parseSetup).
//
// QUIRK: this is a local runner until internal/prototest lands; the files
// use prototest's syntax so they move over unchanged.
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/transcripts/*.txtar")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			t.Parallel()
			runTranscript(t, f)
		})
	}
}

// parseTxtar splits a txtar archive into its comment and named files.
func parseTxtar(data string) (string, map[string]string) {
	files := map[string]string{}
	var comment strings.Builder
	name := ""
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			if cur != nil {
				files[name] = cur.String()
			}
			name = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			cur = &strings.Builder{}
			continue
		}
		if cur == nil {
			comment.WriteString(line)
		} else {
			cur.WriteString(line)
		}
	}
	if cur != nil {
		files[name] = cur.String()
	}
	return comment.String(), files
}

func runTranscript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, files := parseTxtar(string(data))
	e := newTestEnv(t, parseSetup(t, files["setup"]))
	conns := map[string]*tconn{}
	conn := func(n string) *tconn {
		if conns[n] == nil {
			conns[n] = e.dial()
		}
		return conns[n]
	}
	lines := strings.Split(files["transcript"], "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < 3 || (line[0] != 'C' && line[0] != 'S') {
			t.Fatalf("%s:%d: bad line %q", path, i+1, line)
		}
		j := 1
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		n, op, rest := line[1:j], line[j:], ""
		if len(op) > 2 {
			op, rest = op[:2], strings.TrimPrefix(op[2:], " ")
		}
		c := conn(n)
		switch {
		case line[0] == 'C' && op == ": ", line[0] == 'C' && op == ":":
			c.send(rest)
		case line[0] == 'C' && op == "< ":
			c.writeRaw(dataBlock(files[rest]))
		case line[0] == 'S' && (op == ": " || op == ":"):
			c.expectAt(path, i+1, rest)
		case line[0] == 'S' && op == "..":
			// skip lines until the next S line of this connection matches
			next := ""
			for k := i + 1; k < len(lines); k++ {
				if strings.HasPrefix(lines[k], "S"+n+": ") {
					next = strings.TrimPrefix(lines[k], "S"+n+": ")
					break
				}
			}
			for {
				l, err := c.readLine()
				if err != nil {
					t.Fatalf("%s:%d: skipping to %q: %v\n%s", path, i+1, next, err, c.tail())
				}
				if globMatch(next, l) {
					i++ // the next S line is consumed
					break
				}
			}
		default:
			t.Fatalf("%s:%d: bad line %q", path, i+1, line)
		}
	}
}

func (tc *tconn) expectAt(path string, lineNo int, pattern string) {
	tc.t.Helper()
	l, err := tc.readLine()
	if err != nil {
		tc.t.Fatalf("%s:%d: expected %q, got error %v\n%s", path, lineNo, pattern, err, tc.tail())
	}
	if !globMatch(pattern, l) {
		tc.t.Fatalf("%s:%d:\nexpected %q\n     got %q\n%s", path, lineNo, pattern, l, tc.tail())
	}
}
