package milter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
	gomilter "github.com/emersion/go-milter"
	"github.com/emersion/go-smtp"
)

// Timeouts: the filter must answer each step within ioTimeout; a scan of
// a large message by rspamd takes seconds, not minutes.
// The whole conversation of one message is bounded by checkTimeout.
const (
	dialTimeout  = 5 * time.Second
	ioTimeout    = 60 * time.Second
	checkTimeout = 2 * time.Minute
)

// Client asks one filter about each message.
type Client struct {
	Addr    Address
	Default DefaultAction
	// Hostname is our name, for the filter's {j} macro.
	Hostname string
	// Timeout bounds one message's conversation; 0 is two minutes.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Input is one transaction: the client and envelope, and the message
// (open returns a new reader over it each time).
type Input struct {
	Remote   net.Addr
	Helo     string
	MailFrom string
	Rcpts    []string
	Open     func() io.Reader
}

// Result is what the filter decided: header fields to prepend, fields of
// the message to drop (Drop, called once per top-level field, in order),
// or a reply refusing the message.
type Result struct {
	Prepend string
	Drop    func(name string, value []byte) bool
	Refuse  *smtp.SMTPError
}

// Replies for the filter's verdicts.
var (
	errRejected = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected by the content filter"}
	errTempfail = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Message deferred by the content filter; try again later"}
	errDown     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Content filter unavailable; try again later"}
)

// Check runs the milter conversation for one message. A filter that
// fails gives the default action.
func (c *Client) Check(ctx context.Context, in Input) Result {
	acts, act, err := c.converse(ctx, in)
	if err != nil {
		c.logger().Warn("milter unavailable; default action", "milter", c.Addr.Addr, "default", string(c.Default), "err", err)
		milterResults.WithLabelValues("unavailable").Inc()
		if c.Default == DefaultAccept {
			return Result{}
		}
		return Result{Refuse: errDown}
	}
	res := verdict(act)
	if res.Refuse != nil {
		milterResults.WithLabelValues(resultLabel(act.Code)).Inc()
		c.logger().Info("milter refused message", "milter", c.Addr.Addr, "code", res.Refuse.Code, "reply", res.Refuse.Message)
		return res
	}
	milterResults.WithLabelValues("accept").Inc()
	return applyModifications(acts)
}

// converse talks to the filter: connect, HELO, MAIL, RCPT, header, body,
// end of message.
func (c *Client) converse(ctx context.Context, in Input) ([]gomilter.ModifyAction, *gomilter.Action, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = checkTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := gomilter.NewClientWithOptions(c.Addr.Network, c.Addr.Addr, gomilter.ClientOptions{
		Dialer:      ctxDialer{ctx},
		ReadTimeout: ioTimeout, WriteTimeout: ioTimeout,
		ActionMask: gomilter.OptAddHeader | gomilter.OptChangeHeader,
	})
	s, err := cl.Session()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer s.Close()
	hdr, body, err := splitMessage(in.Open())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read message: %w", ErrUnavailable, err)
	}
	steps := []func() (*gomilter.Action, error){
		func() (*gomilter.Action, error) { return connStep(s, in.Remote) },
		func() (*gomilter.Action, error) { return s.Helo(in.Helo) },
		func() (*gomilter.Action, error) { return s.Mail("<"+in.MailFrom+">", nil) },
	}
	for _, r := range in.Rcpts {
		steps = append(steps, func() (*gomilter.Action, error) { return s.Rcpt("<"+r+">", nil) })
	}
	steps = append(steps, func() (*gomilter.Action, error) { return s.Header(hdr) })
	for _, step := range steps {
		act, err := step()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if act.Code != gomilter.ActContinue {
			return nil, act, nil // accept or a refusal, before the body
		}
	}
	acts, act, err := s.BodyReadFrom(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return acts, act, nil
}

// connStep sends the client's address (SMFIC_CONNECT).
func connStep(s *gomilter.ClientSession, remote net.Addr) (*gomilter.Action, error) {
	ta, ok := remote.(*net.TCPAddr)
	if !ok {
		return s.Conn("localhost", gomilter.FamilyUnknown, 0, "")
	}
	fam := gomilter.FamilyInet
	if ta.IP.To4() == nil {
		fam = gomilter.FamilyInet6
	}
	return s.Conn("["+ta.IP.String()+"]", fam, uint16(ta.Port), ta.IP.String())
}

// splitMessage reads the header and returns it with a reader over the
// body.
func splitMessage(r io.Reader) (textproto.Header, io.Reader, error) {
	br := bufio.NewReader(r)
	h, err := textproto.ReadHeader(br)
	if err != nil && !errors.Is(err, io.EOF) {
		return textproto.Header{}, nil, err
	}
	return h, br, nil
}

// verdict maps the filter's final action to a refusal, or none to accept.
func verdict(act *gomilter.Action) Result {
	switch act.Code {
	case gomilter.ActAccept, gomilter.ActContinue, gomilter.ActSkip:
		return Result{}
	case gomilter.ActTempFail:
		return Result{Refuse: errTempfail}
	case gomilter.ActReplyCode:
		return Result{Refuse: replyCode(act)}
	}
	return Result{Refuse: errRejected} // reject, and discard (never silent)
}

// replyCode takes the filter's own reply (SMFIR_REPLYCODE) when it is a
// 4xx or 5xx; its text may carry an enhanced code ("5.7.1 Spam").
func replyCode(act *gomilter.Action) *smtp.SMTPError {
	if act.SMTPCode < 400 || act.SMTPCode > 599 {
		return errRejected
	}
	text := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(act.SMTPText, "\r", " "), "\n", " "))
	e := &smtp.SMTPError{Code: act.SMTPCode, EnhancedCode: smtp.EnhancedCode{act.SMTPCode / 100, 7, 1}, Message: text}
	if code, rest, ok := strings.Cut(text, " "); ok {
		if ec, ok := parseEnhanced(code); ok && ec[0] == act.SMTPCode/100 {
			e.EnhancedCode, e.Message = ec, rest
		}
	}
	if e.Message == "" {
		e.Message = "Message refused by the content filter"
	}
	return e
}

func parseEnhanced(s string) (smtp.EnhancedCode, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return smtp.EnhancedCode{}, false
	}
	var ec smtp.EnhancedCode
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return smtp.EnhancedCode{}, false
		}
		ec[i] = n
	}
	return ec, true
}

func resultLabel(code gomilter.ActionCode) string {
	switch code {
	case gomilter.ActTempFail:
		return "tempfail"
	case gomilter.ActReplyCode:
		return "reply"
	case gomilter.ActDiscard:
		return "discard"
	}
	return "reject"
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// ctxDialer dials under ctx and closes the connection when ctx ends, so
// that the whole conversation is bounded (go-milter bounds each read and
// write only).
type ctxDialer struct{ ctx context.Context }

func (d ctxDialer) Dial(network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: dialTimeout}
	conn, err := nd.DialContext(d.ctx, network, addr)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(d.ctx, func() { conn.Close() })
	return conn, nil
}
