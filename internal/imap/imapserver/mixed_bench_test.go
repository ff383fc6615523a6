package imapserver

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/store"
)

// Mixed load (issue 15): mixedClients logged-in clients, each looping
// APPEND, SELECT, FETCH 1:* (UID FLAGS), STORE ±FLAGS, SEARCH UNSEEN and
// EXPUNGE on a mailbox of its own holding mixedMessages messages. One
// b.N iteration is one loop of every client; run it with -cpuprofile and
// -memprofile to find the per-command costs (bench/RESULTS.md).
const (
	mixedClients  = 10
	mixedMessages = 300
)

func BenchmarkMixedLoad(b *testing.B) {
	f := newFixture(b)
	level := new(slog.LevelVar) // production's level: no debug lines
	level.Set(slog.LevelInfo)
	f.opts.Logger = observe.NewLogger(f.logs, level, observe.FormatText)
	if err := f.addUser("alice", "pw"); err != nil {
		b.Fatal(err)
	}
	err := f.withSession("alice", func(s store.Session) error {
		ctx := context.Background()
		for c := range mixedClients {
			mb, err := s.CreateMailbox(ctx, fmt.Sprintf("box%d", c), "")
			if err != nil {
				return err
			}
			reqs := make([]store.AppendRequest, mixedMessages)
			for i := range reqs {
				reqs[i] = store.AppendRequest{Content: strings.NewReader(mixedMessage(c, i))}
			}
			if _, err := s.Append(ctx, mb.ID, reqs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	addr := f.start()
	clients := make([]*mixedClient, mixedClients)
	for c := range clients {
		if clients[c], err = dialMixed(addr, c); err != nil {
			b.Fatal(err)
		}
		defer clients[c].nc.Close()
	}
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		errs := make([]error, len(clients))
		for c, mc := range clients {
			wg.Go(func() { errs[c] = mc.loop(i) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*mixedClients*len(mixedLoop))/b.Elapsed().Seconds(), "cmds/s")
}

func mixedMessage(c, i int) string {
	return fmt.Sprintf("From: Sender %d <s%d@example.org>\r\nTo: alice@example.org\r\nSubject: mixed %d/%d\r\n"+
		"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%d.%d@example.org>\r\n\r\n%s\r\n",
		i, i, c, i, c, i, strings.Repeat("body text ", 200))
}

// mixedLoop is one client's loop; BOX is its mailbox, LAST the sequence
// number of the message it appended (expunged again at the end), MSG the
// literal of that message.
var mixedLoop = []string{
	"APPEND BOX MSG",
	"SELECT BOX",
	"FETCH 1:* (UID FLAGS)",
	"STORE 1:10 +FLAGS.SILENT (\\Seen)",
	"STORE 1:10 -FLAGS (\\Seen)",
	"SEARCH UNSEEN",
	"STORE LAST +FLAGS.SILENT (\\Deleted)",
	"EXPUNGE",
}

type mixedClient struct {
	nc  net.Conn
	br  *bufio.Reader
	box string
	c   int
}

func dialMixed(addr string, c int) (*mixedClient, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	mc := &mixedClient{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), box: fmt.Sprintf("box%d", c), c: c}
	mc.br.ReadString('\n')
	fmt.Fprintf(nc, "l LOGIN alice pw\r\n")
	return mc, readTagged(mc.br, "l")
}

func (mc *mixedClient) loop(i int) error {
	msg := mixedMessage(mc.c, mixedMessages+i)
	for j, cmd := range mixedLoop {
		tag := fmt.Sprintf("m%d", j)
		r := strings.NewReplacer("BOX", mc.box, "LAST", fmt.Sprint(mixedMessages+1),
			"MSG", fmt.Sprintf("{%d+}\r\n%s", len(msg), msg))
		if _, err := fmt.Fprintf(mc.nc, "%s %s\r\n", tag, r.Replace(cmd)); err != nil {
			return err
		}
		if err := readTagged(mc.br, tag); err != nil {
			return fmt.Errorf("client %d: %s: %w", mc.c, strings.Fields(cmd)[0], err)
		}
	}
	return nil
}
