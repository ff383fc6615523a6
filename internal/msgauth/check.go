package msgauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dkim"
)

// DefaultCheckTimeout bounds all the checks of one message together. RFC
// 7208 §4.6.4 asks SPF to allow at least 20 seconds; DKIM and DMARC run
// after it within the same budget.
const DefaultCheckTimeout = 30 * time.Second

// maxSignatures is how many DKIM-Signature fields are verified; the rest
// are ignored (RFC 6376 §6.1 lets a verifier limit the signatures it
// checks, against a message made to cost many lookups).
const maxSignatures = 5

// Results (RFC 8601 §2.7) as used here.
const (
	ResultPass      = "pass"
	ResultFail      = "fail"
	ResultNone      = "none"
	ResultNeutral   = "neutral"
	ResultPolicy    = "policy"
	ResultTempError = "temperror"
	ResultPermError = "permerror"
)

// Checker checks inbound mail: SPF, DKIM, DMARC.
type Checker struct {
	// Resolver does every DNS query; nil is the system's.
	Resolver *net.Resolver
	// Timeout bounds the checks of one message; 0 is DefaultCheckTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Input is what a check looks at: the SMTP client and envelope, and the
// message (open returns a new reader over it each time).
type Input struct {
	IP       net.IP
	Helo     string
	MailFrom string
	Open     func() io.Reader
}

// DKIMOutcome is the result of one signature (RFC 8601 §2.7.1).
type DKIMOutcome struct {
	Result     string
	Domain     string // d=
	Identifier string // i=
	Reason     string
}

// Results are the outcomes of the checks of one message.
type Results struct {
	SPF       string // RFC 7208 §2.6 result
	SPFDomain string // the domain SPF checked: MAIL FROM's, or HELO's for the null sender
	SPFHelo   bool   // SPFDomain is the HELO identity
	DKIM      []DKIMOutcome
	DMARC     DMARCOutcome
}

// Check runs SPF, DKIM and DMARC on one message, within the time budget.
// It never fails: a check that cannot finish gives temperror.
func (c *Checker) Check(ctx context.Context, in Input) Results {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := c.resolver()
	var res Results
	res.SPF, res.SPFDomain, res.SPFHelo = c.checkSPF(ctx, r, in)
	res.DKIM = c.checkDKIM(ctx, r, in.Open())
	res.DMARC = c.checkDMARC(ctx, r, in.Open(), res)
	return res
}

func (c *Checker) resolver() *net.Resolver {
	if c.Resolver == nil {
		return net.DefaultResolver
	}
	return c.Resolver
}

// checkSPF evaluates check_host() (RFC 7208 §4) for MAIL FROM, or for
// postmaster@HELO when the reverse path is null (§2.4).
func (c *Checker) checkSPF(ctx context.Context, r *net.Resolver, in Input) (result, domain string, helo bool) {
	domain = addressDomain(in.MailFrom)
	if domain == "" {
		domain, helo = in.Helo, true
	}
	res, err := spf.CheckHostWithSender(in.IP, in.Helo, in.MailFrom,
		spf.WithContext(ctx), spf.WithResolver(spfResolver{r}))
	if err != nil && res != spf.Pass {
		c.logger().Debug("spf", "domain", domain, "result", string(res), "err", err)
	}
	return string(res), domain, helo
}

// checkDKIM verifies the message's first maxSignatures signatures.
func (c *Checker) checkDKIM(ctx context.Context, r *net.Resolver, msg io.Reader) []DKIMOutcome {
	verifs, err := dkim.VerifyWithOptions(msg, &dkim.VerifyOptions{LookupTXT: txtLookup(ctx, r), MaxVerifications: maxSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		// The header could not be read: no signature can pass.
		return []DKIMOutcome{{Result: ResultPermError, Reason: "malformed message header"}}
	}
	var out []DKIMOutcome
	for _, v := range verifs {
		o := DKIMOutcome{Result: ResultPass, Domain: v.Domain, Identifier: v.Identifier}
		switch {
		case v.Err == nil:
		case dkim.IsTempFail(v.Err):
			o.Result, o.Reason = ResultTempError, v.Err.Error()
		case dkim.IsPermFail(v.Err):
			o.Result, o.Reason = ResultPermError, v.Err.Error()
		default:
			o.Result, o.Reason = ResultFail, v.Err.Error()
		}
		out = append(out, o)
	}
	return out
}

func (c *Checker) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// spfResolver makes SPF's names absolute, as txtLookup does.
type spfResolver struct{ r *net.Resolver }

func abs(name string) string {
	if len(name) > 0 && name[len(name)-1] != '.' {
		return name + "."
	}
	return name
}

func (s spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return s.r.LookupTXT(ctx, abs(name))
}
func (s spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return s.r.LookupMX(ctx, abs(name))
}
func (s spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return s.r.LookupIPAddr(ctx, abs(host))
}
func (s spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return s.r.LookupAddr(ctx, addr)
}
