package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
)

// TestDeliverSurvivesSIGKILL kills `postern deliver` with SIGKILL at random
// moments, many times, and then checks the two halves of the durability
// promise: every delivery that exited 0 is in the mailbox, complete; and
// nothing else is visible but complete messages (no half-written one).
func TestDeliverSurvivesSIGKILL(t *testing.T) {
	e := newEnv(t, "")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	runs := 60
	if testing.Short() {
		runs = 15
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	sent := make(map[string]string) // marker → full message
	var acked []string

	// Calibrate: the kill moments spread over 1.5 times a whole delivery,
	// so that some land in start-up, some in the spool, the fsync and the
	// commit, and some after the exit.
	start := time.Now()
	sent["crash-calibrate"] = crashMessage("crash-calibrate", 150)
	if !deliverAndMaybeKill(t, e, sent["crash-calibrate"], time.Minute) {
		t.Fatal("calibration delivery was killed")
	}
	acked = append(acked, "crash-calibrate")
	span := time.Since(start) * 3 / 2
	for i := range runs {
		marker := fmt.Sprintf("crash-%03d", i)
		msg := crashMessage(marker, 1+rng.IntN(300))
		sent[marker] = msg
		if deliverAndMaybeKill(t, e, msg, time.Duration(rng.Int64N(int64(span)))) {
			acked = append(acked, marker)
		}
	}
	t.Logf("%d runs over %v, %d acknowledged before the kill", runs, span, len(acked))
	if len(acked) == 1 || len(acked) == runs+1 {
		t.Logf("note: every kill landed on the same side of the exit; the spread was %v", span)
	}

	seen := storedMarkers(t, e.data, sent)
	for _, m := range acked {
		if !seen[m] {
			t.Errorf("delivery %s exited 0 but is not in the mailbox", m)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(e.data, "tmp")); len(left) != 0 {
		t.Errorf("%d spool files left in tmp/ after the store reopened", len(left))
	}
}

func crashMessage(marker string, kib int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: crash@example.org\nSubject: %s\nMessage-ID: <%s@example.org>\n\n", marker, marker)
	line := strings.Repeat("x", 63) + "\n"
	for range kib * 16 {
		b.WriteString(line)
	}
	b.WriteString("end " + marker + "\n")
	return b.String()
}

// deliverAndMaybeKill runs one delivery, feeding msg, and sends SIGKILL
// after delay. It reports whether the delivery exited 0 first.
func deliverAndMaybeKill(t *testing.T, e *env, msg string, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(binary, "deliver", "alice")
	cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+e.conf)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		io.WriteString(stdin, msg)
		stdin.Close()
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("delivery failed without a kill: %v", err)
		}
		return true
	case <-time.After(delay):
		cmd.Process.Signal(syscall.SIGKILL)
		err := <-done
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Exited() {
			return false // killed
		}
		if err != nil {
			t.Fatalf("delivery failed: %v", err)
		}
		return true // finished just before the kill
	}
}

// storedMarkers opens the store (which runs crash recovery), checks that
// every stored message is one of those sent, complete, and returns the
// markers found.
func storedMarkers(t *testing.T, dataDir string, sent map[string]string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dataDir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	inbox, err := sess.Mailbox(ctx, store.MailboxInbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sess.Messages(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, m := range msgs {
		c, err := sess.OpenContent(ctx, inbox.ID, m.UID)
		if err != nil {
			t.Fatalf("uid %d: %v", m.UID, err)
		}
		got, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		marker := markerOf(string(got))
		want, ok := sent[marker]
		if !ok || string(got) != strings.ReplaceAll(want, "\n", "\r\n") {
			t.Errorf("uid %d (%q): stored content is not a complete sent message (%d octets)", m.UID, marker, len(got))
		}
		if seen[marker] {
			t.Errorf("message %s stored twice", marker)
		}
		seen[marker] = true
	}
	return seen
}

func markerOf(msg string) string {
	_, rest, ok := strings.Cut(msg, "Subject: ")
	if !ok {
		return ""
	}
	m, _, _ := strings.Cut(rest, "\r\n")
	return m
}
