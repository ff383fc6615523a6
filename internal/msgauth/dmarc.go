package msgauth

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// DMARCOutcome is the DMARC evaluation of a message (RFC 7489 §6.6).
type DMARCOutcome struct {
	Result string // pass, fail, none, temperror, permerror
	From   string // the RFC5322.From domain
	// Policy is the policy that applies to the From domain (p=, or sp=
	// for a subdomain when the record is the organizational domain's),
	// after pct= sampling; "" without a record.
	Policy dmarc.Policy
	Reason string
}

// checkDMARC looks the From domain's policy up (§6.6.3: the domain's
// record, else its organizational domain's) and decides whether an
// aligned SPF or DKIM pass authenticates the message (§3.1, §4.2).
func (c *Checker) checkDMARC(ctx context.Context, r *net.Resolver, msg io.Reader, res Results) DMARCOutcome {
	from, err := fromDomain(msg)
	if err != nil {
		return DMARCOutcome{Result: ResultPermError, Reason: err.Error()}
	}
	out := DMARCOutcome{From: from}
	rec, recDomain, err := lookupDMARC(ctx, r, from)
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		out.Result = ResultNone
		return out
	case err != nil && dmarc.IsTempFail(err):
		out.Result, out.Reason = ResultTempError, err.Error()
		return out
	case err != nil:
		out.Result, out.Reason = ResultPermError, err.Error()
		return out
	}
	out.Policy = rec.Policy
	if recDomain != from && rec.SubdomainPolicy != "" {
		out.Policy = rec.SubdomainPolicy // §6.3 sp=
	}
	if rec.Percent != nil && *rec.Percent < 100 && rand.IntN(100) >= *rec.Percent {
		out.Policy = downgrade(out.Policy) // §6.6.4: the next policy down
	}
	out.Result, out.Reason = alignedResult(rec, from, res)
	return out
}

// alignedResult is pass when SPF or a DKIM signature passed for a domain
// aligned with from, temperror when none passed and a check could not
// finish (the message might have passed), fail otherwise.
func alignedResult(rec *dmarc.Record, from string, res Results) (string, string) {
	temp := false
	// §4.1: SPF's identity is MAIL FROM's domain, HELO's for the null
	// reverse path (Results.SPFDomain).
	if res.SPF == ResultPass && aligned(res.SPFDomain, from, rec.SPFAlignment) {
		return ResultPass, ""
	}
	if res.SPF == ResultTempError {
		temp = true
	}
	for _, d := range res.DKIM {
		if d.Result == ResultPass && aligned(d.Domain, from, rec.DKIMAlignment) {
			return ResultPass, ""
		}
		if d.Result == ResultTempError {
			temp = true
		}
	}
	if temp {
		return ResultTempError, "a check could not finish"
	}
	return ResultFail, "no aligned SPF or DKIM pass"
}

// aligned compares two domains as §3.1.1 and §3.1.2 say: equal in strict
// mode, with the same organizational domain in relaxed mode (the default).
func aligned(d, from string, mode dmarc.AlignmentMode) bool {
	d, from = strings.ToLower(strings.TrimSuffix(d, ".")), strings.ToLower(from)
	if d == "" {
		return false
	}
	if d == from {
		return true
	}
	return mode != dmarc.AlignmentStrict && orgDomain(d) == orgDomain(from)
}

// orgDomain is the organizational domain (§3.2): the public suffix plus
// one label, from the Public Suffix List compiled into x/net.
func orgDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// lookupDMARC finds the record for from: at _dmarc.<from>, else at the
// organizational domain (§6.6.3). It returns the domain it was found at.
func lookupDMARC(ctx context.Context, r *net.Resolver, from string) (*dmarc.Record, string, error) {
	opts := &dmarc.LookupOptions{LookupTXT: txtLookup(ctx, r)}
	rec, err := dmarc.LookupWithOptions(from, opts)
	if !errors.Is(err, dmarc.ErrNoPolicy) {
		return rec, from, err
	}
	org := orgDomain(from)
	if org == from {
		return nil, "", err
	}
	rec, err = dmarc.LookupWithOptions(org, opts)
	return rec, org, err
}

func downgrade(p dmarc.Policy) dmarc.Policy {
	switch p {
	case dmarc.PolicyReject:
		return dmarc.PolicyQuarantine
	case dmarc.PolicyQuarantine:
		return dmarc.PolicyNone
	}
	return p
}
