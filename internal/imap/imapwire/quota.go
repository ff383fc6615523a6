package imapwire

import "strings"

// The grammar of QUOTA (RFC 9208 §8).

// QuotaResource is one resource of a QUOTA response (quota-resource:
// name, usage and limit) or of SETQUOTA (setquota-resource: name and
// limit; Usage unused). Names are upper case: STORAGE (in units of 1024
// octets, RFC 9208 §5.1), MESSAGE (§5.2), or another atom.
type QuotaResource struct {
	Name  string
	Usage int64
	Limit int64
}

// SetQuotaArgs are the arguments of SETQUOTA.
type SetQuotaArgs struct {
	Root      string
	Resources []QuotaResource // Usage is 0; an empty list removes every limit (§4.3)
}

// ParseGetQuotaArgs decodes SP quota-root-name (an astring) for GETQUOTA.
func ParseGetQuotaArgs(dec *Decoder) string {
	var root string
	_ = dec.ExpectSP() && dec.ExpectAString(&root)
	return root
}

// ParseGetQuotaRootArgs decodes SP mailbox for GETQUOTAROOT.
func ParseGetQuotaRootArgs(dec *Decoder) string {
	var name string
	_ = dec.ExpectSP() && dec.ExpectMailbox(&name)
	return name
}

// ParseSetQuotaArgs decodes SP quota-root-name SP setquota-list, where
// setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")" and
// setquota-resource = resource-name SP resource-limit (a number64).
// Resource names are upper-cased.
func ParseSetQuotaArgs(dec *Decoder) SetQuotaArgs {
	var a SetQuotaArgs
	_ = dec.ExpectSP() && dec.ExpectAString(&a.Root) && dec.ExpectSP() && dec.ExpectList(func() bool {
		var r QuotaResource
		if !dec.ExpectAtom(&r.Name) || !dec.ExpectSP() || !dec.ExpectNumber64(&r.Limit) {
			return false
		}
		r.Name = strings.ToUpper(r.Name)
		a.Resources = append(a.Resources, r)
		return true
	})
	return a
}

// Quota writes an untagged QUOTA response (RFC 9208 §6.1):
// "* QUOTA" SP quota-root-name SP "(" quota-resource *(SP quota-resource) ")".
// The grammar needs at least one resource.
func (enc *Encoder) Quota(root string, res []QuotaResource) error {
	e := enc.Untagged().Atom("QUOTA").SP().AString(root).SP()
	e.List(len(res), func(i int) {
		e.Atom(res[i].Name).SP().Number64(res[i].Usage).SP().Number64(res[i].Limit)
	})
	return e.CRLF()
}

// QuotaRoot writes an untagged QUOTAROOT response (RFC 9208 §6.2):
// "* QUOTAROOT" SP mailbox *(SP quota-root-name).
func (enc *Encoder) QuotaRoot(mailbox string, roots []string) error {
	e := enc.Untagged().Atom("QUOTAROOT").SP().Mailbox(mailbox)
	for _, r := range roots {
		e.SP().AString(r)
	}
	return e.CRLF()
}
