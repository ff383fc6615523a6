package sieve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Envelope is the SMTP envelope of the message being delivered
// (RFC 5228 §5.4).
type Envelope struct {
	// From is the reverse path without brackets; "" for the null sender.
	From string
	// To is the recipient address this delivery is for.
	To string
}

// Input is what a script sees of a message.
type Input struct {
	Header   Header
	Size     int64
	Envelope Envelope
	// Include loads the scripts include names (RFC 6609); nil makes an
	// include a runtime error.
	Include IncludeFunc
	// Addresses are the recipient's own addresses besides Envelope.To,
	// for vacation (RFC 5230 §4.5).
	Addresses []string
	// Now is the time of delivery, in the server's zone, for currentdate
	// and the default zone of date (RFC 5260); zero: currentdate is false.
	Now time.Time
	// Message returns the whole message from its start, for the body
	// test (RFC 5173); nil: body tests are false.
	Message func() io.Reader
}

// Budget bounds one run. Zero fields take the defaults below.
type Budget struct {
	// Timeout bounds the run's wall time (default DefaultTimeout).
	Timeout time.Duration
	// MaxActions bounds the actions a run may take (default 32).
	MaxActions int
	// MaxRedirects bounds the redirects among them (default 4).
	MaxRedirects int
}

// Defaults of a Budget.
const (
	DefaultTimeout      = time.Second
	DefaultMaxActions   = 32
	DefaultMaxRedirects = 4
)

// ActionKind names what an action does.
type ActionKind string

// Action kinds.
const (
	ActKeep     ActionKind = "keep"     // store in INBOX (or the delivery's default mailbox)
	ActFileInto ActionKind = "fileinto" // store in Mailbox
	ActRedirect ActionKind = "redirect" // resend to Address
	ActReject   ActionKind = "reject"   // refuse with Reason
	ActVacation ActionKind = "vacation" // answer with Vacation
)

// Action is one thing the delivery must do. A run that yields no keep,
// fileinto or reject means the message is discarded.
type Action struct {
	Kind     ActionKind
	Mailbox  string   // fileinto
	Flags    []string // keep, fileinto: IMAP flags to set (RFC 5232)
	Address  string   // redirect
	Reason   string   // reject
	Extended bool     // reject: it was ereject (refuse at the protocol level)
	Vacation *Reply   // vacation
}

// Result is the outcome of a run.
type Result struct {
	Actions []Action
	// ImplicitKeep reports that the keep in Actions is the implicit one
	// (RFC 5228 §2.10.2), not asked for by the script.
	ImplicitKeep bool
}

// RuntimeError is a failure while running a script: the budget exceeded
// or conflicting actions. The caller keeps the message (RFC 5228 §2.10.6).
type RuntimeError struct{ Msg string }

func (e *RuntimeError) Error() string { return "sieve runtime error: " + e.Msg }

var errStop = errors.New("stop")

// run is the state of one Run.
type run struct {
	ctx       context.Context
	in        Input
	budget    Budget
	res       Result
	keepDone  bool // keep, fileinto (no :copy), redirect (no :copy), discard, reject cancel the implicit keep
	flags     []string
	redirects int
	steps     int

	// The running script's variables (RFC 5229); include gives each
	// script its own (RFC 6609 §3.4).
	scope
	globals map[string]string // the variables declared global

	// include (RFC 6609).
	depth, includes int
	included        map[string]bool
}

// scope is what belongs to the script running now.
type scope struct {
	vars        bool // it requires variables: its strings are expanded
	variables   map[string]string
	globalNames map[string]bool
	matchVars   []string
}

// Run interprets the program against in, within budget.
func (p *Program) Run(ctx context.Context, in Input, budget Budget) (*Result, error) {
	if budget.Timeout <= 0 {
		budget.Timeout = DefaultTimeout
	}
	if budget.MaxActions <= 0 {
		budget.MaxActions = DefaultMaxActions
	}
	if budget.MaxRedirects <= 0 {
		budget.MaxRedirects = DefaultMaxRedirects
	}
	ctx, cancel := context.WithTimeout(ctx, budget.Timeout)
	defer cancel()
	r := &run{ctx: ctx, in: in, budget: budget, scope: scope{vars: p.vars}}
	if err := r.block(p.cmds); err != nil && !errors.Is(err, errStop) && !errors.Is(err, errReturn) {
		return nil, err
	}
	if !r.keepDone {
		r.res.ImplicitKeep = true
		r.res.Actions = append(r.res.Actions, Action{Kind: ActKeep, Flags: r.flags})
	}
	if err := r.checkConflicts(); err != nil {
		return nil, err
	}
	return &r.res, nil
}

func (r *run) block(nodes []node) error {
	for _, n := range nodes {
		r.steps++
		if r.steps%64 == 0 {
			if err := r.ctx.Err(); err != nil {
				return &RuntimeError{Msg: "time budget exceeded"}
			}
		}
		if err := r.exec(n); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) exec(n node) error {
	switch n := n.(type) {
	case ifNode:
		for i, cond := range n.conds {
			if r.eval(cond) {
				return r.block(n.blocks[i])
			}
		}
		return r.block(n.els)
	case stopNode:
		return errStop
	case keepNode:
		r.keepDone = true
		return r.add(Action{Kind: ActKeep, Flags: r.flagsFor(n.flags)})
	case discardNode:
		r.keepDone = true
		return nil
	case fileintoNode:
		r.keepDone = r.keepDone || !n.copy
		return r.add(Action{Kind: ActFileInto, Mailbox: r.x(n.mailbox), Flags: r.flagsFor(n.flags)})
	case redirectNode:
		r.keepDone = r.keepDone || !n.copy
		addr := r.x(n.addr)
		if _, _, ok := splitAddress(addr); !ok {
			return &RuntimeError{Msg: "redirect to an invalid address " + strconvQuote(addr)}
		}
		return r.redirect(addr)
	case rejectNode:
		r.keepDone = true
		return r.add(Action{Kind: ActReject, Reason: r.x(n.reason), Extended: n.extended})
	case flagNode:
		return r.flagOp(n)
	case setNode:
		return r.set(n)
	case includeNode:
		return r.runInclude(n)
	case returnNode:
		return errReturn
	case globalNode:
		if r.globalNames == nil {
			r.globalNames = map[string]bool{}
		}
		for _, name := range n.names {
			r.globalNames[name] = true
		}
		return nil
	case vacationNode:
		return r.vacation(vacation(n))
	}
	return fmt.Errorf("sieve: unknown node %T", n)
}

// add records an action; a second identical keep, fileinto or redirect
// is the same action (RFC 5228 §2.10.3), but the flags of the last one
// win (RFC 5232 §5).
func (r *run) add(a Action) error {
	for i, old := range r.res.Actions {
		if old.Kind == a.Kind && old.Mailbox == a.Mailbox && strings.EqualFold(old.Address, a.Address) &&
			(a.Kind == ActKeep || a.Kind == ActFileInto || a.Kind == ActRedirect) {
			r.res.Actions[i] = a
			return nil
		}
	}
	if len(r.res.Actions) >= r.budget.MaxActions {
		return &RuntimeError{Msg: fmt.Sprintf("more than %d actions", r.budget.MaxActions)}
	}
	r.res.Actions = append(r.res.Actions, a)
	return nil
}

func (r *run) redirect(addr string) error {
	for _, a := range r.res.Actions {
		if a.Kind == ActRedirect && strings.EqualFold(a.Address, addr) {
			return nil
		}
	}
	if r.redirects >= r.budget.MaxRedirects {
		return &RuntimeError{Msg: fmt.Sprintf("more than %d redirects", r.budget.MaxRedirects)}
	}
	r.redirects++
	return r.add(Action{Kind: ActRedirect, Address: addr})
}

// checkConflicts refuses reject together with an action that delivers
// or answers the message (RFC 5429 §2.1, §2.2: reject and vacation are
// incompatible; keep, fileinto and redirect are too, as in Pigeonhole).
func (r *run) checkConflicts() error {
	rejected := false
	for _, a := range r.res.Actions {
		if a.Kind == ActReject {
			rejected = true
		}
	}
	if !rejected {
		return nil
	}
	for _, a := range r.res.Actions {
		switch a.Kind {
		case ActKeep, ActFileInto, ActRedirect, ActVacation:
			if a.Kind == ActKeep && r.res.ImplicitKeep {
				continue
			}
			return &RuntimeError{Msg: fmt.Sprintf("reject cannot be combined with %s", a.Kind)}
		}
	}
	if r.res.ImplicitKeep {
		r.res.Actions = r.res.Actions[:len(r.res.Actions)-1]
		r.res.ImplicitKeep = false
	}
	return nil
}

func (r *run) flagsFor(explicit *[]string) []string {
	if explicit != nil {
		return applyFlags(nil, "setflag", r.xs(*explicit))
	}
	return append([]string(nil), r.flags...)
}

// flagOp runs setflag, addflag or removeflag on the internal variable or,
// with variables, on a named one (RFC 5232 §3).
func (r *run) flagOp(n flagNode) error {
	flags := r.xs(n.flags)
	if n.variable == "" {
		r.flags = applyFlags(r.flags, n.op, flags)
		return nil
	}
	cur := strings.Fields(r.getVar(n.variable))
	return r.setVar(n.variable, strings.Join(applyFlags(cur, n.op, flags), " "))
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }
