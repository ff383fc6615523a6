package mail11

import (
	"net/mail"
	"strings"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// Decide reports whether a message is served with its own header block
// untouched (true) or with the header rebuilt by POPHeader or IMAPHeader
// (false), for both protocols (hp-system §3.1, §3.3 R7).
//
// A message without an OpenVMS envelope (env nil) is plain RFC 5322 mail
// and always keeps its own header. A message with one keeps its own header
// only when all three hold: Ignore-Mail11-Headers is on (ignoreMail11),
// the VMS From is an SMTP address (SMTP%"…" or node::SMTP%"…"), and the
// stored content really begins with a header block (env.OwnHeader: the
// original's TOP_HEADERS condition). Every other message gets the rebuilt
// header.
func Decide(env *store.VMSEnvelope, ignoreMail11 bool) (useOwnHeader bool) {
	if env == nil {
		return true
	}
	return ignoreMail11 && env.OwnHeader && Classify(env.From).Class.IsSMTP()
}

// senderFields are the header fields VMS SMTP takes the VMS From from, in
// order of preference (hp-system §3.4). [INF] From is added last, since
// the printed list leaves it out although every message has one.
var senderFields = []string{
	"Resent-Reply-To", "Resent-From", "Reply-To", "Resent-Sender", "Sender", "Return-Path", "From",
}

// DeriveEnvelope builds the OpenVMS envelope of a message that arrived by
// SMTP, LMTP or deliver, as VMS SMTP would have filled it in (hp-system
// §3.4), so that the Mail11 options treat it as the original did:
//   - From is SMTP%"addr", addr the first address found in the fields
//     Resent-Reply-To, Resent-From, Reply-To, Resent-Sender, Sender,
//     Return-Path and From, in that order; double quotes in it are stored
//     as cent signs, as VMS SMTP did, so R1 gives addr back. With no
//     address at all (a null Return-Path and no From), it is SMTP%"".
//   - PersonalName is the display name of that address, or of the From
//     address when that is the same address, RFC 2047-decoded.
//   - To and CC list the addresses of those fields as SMTP%"addr", joined
//     by ", ", so that IMAP rebuilds them to the plain addresses.
//   - Subject is the decoded Subject.
//   - Date is arrival; OwnHeader is true.
func DeriveEnvelope(hdr message.Header, arrival time.Time) *store.VMSEnvelope {
	env := &store.VMSEnvelope{
		From:      `SMTP%""`,
		To:        smtpList(hdr.Values("To")),
		CC:        smtpList(hdr.Values("Cc")),
		Subject:   message.DecodeHeaderText(hdr.Get("Subject")),
		Date:      arrival,
		OwnHeader: true,
	}
	from := firstAddress(hdr.Get("From"))
	for _, name := range senderFields {
		a := firstAddress(hdr.Get(name))
		if a.Address == "" {
			continue
		}
		env.From = smtpForm(a.Address)
		env.PersonalName = a.Name
		if env.PersonalName == "" && strings.EqualFold(a.Address, from.Address) {
			env.PersonalName = from.Name
		}
		break
	}
	env.PersonalName = clean(env.PersonalName)
	return env
}

// smtpForm stores an address the way VMS SMTP does: SMTP%"addr", with the
// double quotes inside addr as cent signs.
func smtpForm(addr string) string {
	return `SMTP%"` + hideQuotes(addr) + `"`
}

// smtpList turns address-list field values into a VMS address list.
func smtpList(values []string) string {
	var items []string
	for _, v := range values {
		for _, a := range parseAddresses(v) {
			items = append(items, smtpForm(a.Address))
		}
	}
	return strings.Join(items, ", ")
}

// firstAddress returns the first address of a field value, or the zero
// Address.
func firstAddress(v string) mailAddr {
	if as := parseAddresses(v); len(as) > 0 {
		return as[0]
	}
	return mailAddr{}
}

// mailAddr is an address of an incoming header: an addr-spec in RFC 5322
// form (local part quoted where it must be) and the decoded display name.
type mailAddr struct {
	Name, Address string
}

// parseAddresses parses an address-list field value with net/mail. When
// that fails (broken or unusual syntax, unknown charsets in display names),
// it falls back to the addr-specs in angle brackets, or, for a value with
// none, the value itself when it is an addr-spec. Empty addresses ("<>")
// are skipped.
func parseAddresses(v string) []mailAddr {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var out []mailAddr
	if list, err := mail.ParseAddressList(v); err == nil {
		for _, a := range list {
			spec := strings.Trim((&mail.Address{Address: a.Address}).String(), "<>")
			if isAddrSpec(spec) {
				out = append(out, mailAddr{Name: a.Name, Address: spec})
			}
		}
		return out
	}
	for rest := v; ; {
		i := strings.IndexByte(rest, '<')
		j := strings.IndexByte(rest[max(i, 0):], '>') + max(i, 0)
		if i < 0 || j < i {
			break
		}
		if spec := strings.TrimSpace(rest[i+1 : j]); isAddrSpec(spec) {
			name := strings.Trim(strings.TrimSpace(rest[:i]), `",`)
			out = append(out, mailAddr{Name: message.DecodeHeaderText(strings.TrimSpace(name)), Address: spec})
		}
		rest = rest[j+1:]
	}
	if len(out) == 0 && isAddrSpec(v) {
		out = append(out, mailAddr{Address: v})
	}
	return out
}
