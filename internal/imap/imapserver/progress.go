package imapserver

import (
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
)

// INPROGRESS (RFC 9585): progress notifications of long-running
// commands, "* OK [INPROGRESS ("tag" done goal)] text" (§4), never in a
// tagged response. The commands that send them are marked in the dispatch
// table (command.progress):
//   - SEARCH, SORT and THREAD (and their UID forms) count the messages
//     they have examined, GOAL being the messages of the view. SORT and
//     THREAD go over the messages twice (search, then the sort data of
//     those matched), so their GOAL is twice the view and the second pass
//     counts on from the first: PROGRESS only grows and GOAL stays put
//     (§4: "SHOULD be monotonically increasing", "SHOULD NOT change").
//   - COPY, MOVE, EXPUNGE and UID EXPUNGE are one store transaction, which
//     reports no progress: while it runs, the notification says only that
//     the command is alive, with NIL counts (§4: "If the PROGRESS is not
//     available, both PROGRESS and GOAL MUST be set to NIL").
// A notification goes out once the command has run progressFirst, then at
// most every progressEvery (decision: the first after 1 s, so that a
// user sees a long command move early; after that the 10 s cadence §4
// recommends, "every 10-15 seconds"). None goes out when PROGRESS equals
// GOAL (§4), nor for a command that ends sooner.

// progressTiming says when notifications go out.
type progressTiming struct {
	first time.Duration // a command's run time before its first notification
	// every is the least time between two notifications. While a store
	// call runs, a timer sends them; with every at zero (tests only) no
	// timer runs and only the notification due before the call goes out.
	every time.Duration
}

// defaultProgress is the production timing.
var defaultProgress = progressTiming{first: time.Second, every: 10 * time.Second}

// progress is the INPROGRESS state of the running command (conn.prog),
// nil for a command that sends none.
type progress struct {
	tag    string
	start  time.Time // when the command started, by the server's clock
	last   time.Time // the last notification; zero: none yet
	passes int       // passes over the messages: GOAL is passes * n
	pass   int       // the current pass, from 0
	n      int       // messages per pass, from the first report
}

// timing returns the server's progress timing.
func (s *Server) progressTiming() progressTiming {
	if s.opts.progress != nil {
		return *s.opts.progress
	}
	return defaultProgress
}

// due reports whether a notification may go out at now.
func (p *progress) due(now time.Time, t progressTiming) bool {
	if now.Sub(p.start) < t.first {
		return false
	}
	return p.last.IsZero() || now.Sub(p.last) >= t.every
}

// reportProgress notes that the running command has processed done of
// the n messages of its current pass, and sends a notification when one
// is due.
func (c *conn) reportProgress(done, n int) {
	p := c.prog
	if p == nil {
		return
	}
	if p.pass == 0 {
		p.n = n
	}
	goal := p.passes * p.n
	cur := p.pass*p.n + min(done, p.n)
	now := c.s.opts.Clock()
	if goal == 0 || cur >= goal || !p.due(now, c.s.progressTiming()) {
		return
	}
	c.writeProgress(imapwire.Progress{Tag: p.tag, Counting: true, Done: uint32(cur), Goal: uint32(goal)}, now)
}

// nextProgressPass starts the running command's next pass over the
// messages.
func (c *conn) nextProgressPass() {
	if p := c.prog; p != nil && p.pass+1 < p.passes {
		p.pass++
	}
}

// writeProgress sends a notification and flushes it to the client.
func (c *conn) writeProgress(pr imapwire.Progress, now time.Time) {
	c.prog.last = now
	c.enc.InProgress(pr, "Still working")
	c.flushErr() // an error is the encoder's: the command's next write fails
}

// duringStore runs fn, a store call that reports no progress, keeping
// the client informed meanwhile: the notification due now goes out
// before the call, and a timer goroutine sends the next ones while it
// runs. The goroutine owns the encoder until fn returns and it has
// stopped; fn must not write to the client.
func (c *conn) duringStore(fn func() error) error {
	p := c.prog
	if p == nil {
		return fn()
	}
	t := c.s.progressTiming()
	now := c.s.opts.Clock()
	if p.due(now, t) {
		c.writeProgress(imapwire.Progress{Tag: p.tag}, now)
	}
	if t.every <= 0 {
		return fn()
	}
	wait := t.every
	if p.last.IsZero() {
		wait = max(t.first-now.Sub(p.start), 0)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		for {
			select {
			case <-stop:
				return
			case <-timer.C:
				c.writeProgress(imapwire.Progress{Tag: p.tag}, c.s.opts.Clock())
				timer.Reset(t.every)
			}
		}
	}()
	err := fn()
	close(stop)
	<-stopped
	return err
}
