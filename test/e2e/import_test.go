package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	var mbox strings.Builder
	for i := range 50 {
		fmt.Fprintf(&mbox, "From sender@example.org Mon Jan  2 15:04:05 2006\nFrom: sender@example.org\nSubject: m%d\nStatus: RO\n\nbody %d\n>From the mbox escaping\n\n", i, i)
	}
	path := filepath.Join(e.dir, "old.mbox")
	os.WriteFile(path, []byte(mbox.String()), 0o600)

	r := e.run("", "import", "alice", path).must(t, 0)
	if !strings.Contains(r.stdout, "imported 50 message(s)") {
		t.Errorf("first import: %q", r.stdout)
	}
	r = e.run("", "import", "alice", path, "--format", "mbox").must(t, 0)
	if !strings.Contains(r.stdout, "imported 0 message(s)") || !strings.Contains(r.stdout, "50 already there") {
		t.Errorf("second import: %q", r.stdout)
	}
	if n := mailboxCounts(t, e.data, "alice")["INBOX"]; n != 50 {
		t.Errorf("INBOX holds %d messages, want 50", n)
	}
	e.run("", "import", "alice", path, "--mailbox", "Archive/2006").must(t, 0)
	if n := mailboxCounts(t, e.data, "alice")["Archive/2006"]; n != 50 {
		t.Errorf("Archive/2006 holds %d messages, want 50", n)
	}
}

func TestImportVMSExtract(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	extract := "\fFrom:\tORDERS::J_SMITH      \"John Smith\"  6-APR-1999 06:02:31.15\nTo:\tALICE\nCC:\t\nSubj:\tQuarterly report\n\nThe figures are in.\n" +
		"\fFrom:\tSMTP%\"jones@example.org\"  7-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tRe: report\n\nThanks.\n"
	path := filepath.Join(e.dir, "mail.txt")
	os.WriteFile(path, []byte(extract), 0o600)
	r := e.run("", "import", "alice", path, "--format", "vms", "--mailbox", "Mail").must(t, 0)
	if !strings.Contains(r.stdout, "imported 2 message(s)") {
		t.Errorf("vms import: %q", r.stdout)
	}
}

func TestImportBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	garbage := filepath.Join(e.dir, "garbage")
	os.WriteFile(garbage, []byte("\x00\x01\x02 not a mailbox at all\n"), 0o600)
	r := e.run("", "import", "alice", garbage)
	if r.code == 0 || !strings.Contains(r.stderr, "--format") {
		t.Errorf("undetectable format: exit %d, %q", r.code, r.stderr)
	}
	r = e.run("", "import", "alice", filepath.Join(e.dir, "missing.mbox"), "--format", "mbox")
	if r.code == 0 || !strings.Contains(r.stderr, "missing.mbox") {
		t.Errorf("missing file: exit %d, %q", r.code, r.stderr)
	}
	r = e.run("", "import", "nobody", garbage, "--format", "mbox")
	if r.code == 0 {
		t.Errorf("unknown user: exit 0")
	}
}
