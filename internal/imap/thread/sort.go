package thread

import (
	"slices"
	"strings"
	"time"
)

// Message is what sorting and threading need of one message. Callers fill
// it from the stored envelope (RFC 9051 §7.5.2) and index data; strings are
// raw header values, RFC 2047 encoded words included.
type Message struct {
	// InternalDate is the message's INTERNALDATE (ARRIVAL).
	InternalDate time.Time
	// Date is the Date: field, parsed; zero when the field is missing or
	// does not parse, and then the sent date is InternalDate (RFC 5256
	// §2.2).
	Date time.Time
	// Size is RFC822.SIZE.
	Size int64
	// Subject is the Subject: field's value.
	Subject string
	// From, To and Cc are the first address of each field; the zero
	// Address when the field has none.
	From, To, Cc Address
	// MessageID, InReplyTo and References are the field values (only
	// THREAD=REFERENCES and REFS read them).
	MessageID, InReplyTo, References string
}

// Address is the first address of an address field, as the ENVELOPE has
// it (RFC 9051 §7.5.2): for a group, Mailbox is the group's name and Host
// is empty.
type Address struct {
	Name    string // display-name, raw (RFC 2047 words kept)
	Mailbox string // local-part: addr-mailbox
	Host    string // domain: addr-host
}

// sentDate is RFC 5256 §2.2's sent date in whole seconds, in UTC: the Date
// field, or the INTERNALDATE when there is none. Whole seconds because that
// is all either date carries on the wire.
func (m *Message) sentDate() int64 {
	if !m.Date.IsZero() {
		return m.Date.Unix()
	}
	return m.InternalDate.Unix()
}

// Key is a sort key of RFC 5256 §3 or RFC 5957 §2.
type Key uint8

// The sort keys.
const (
	KeyArrival     Key = iota + 1 // INTERNALDATE
	KeyCc                         // addr-mailbox of the first Cc address
	KeyDate                       // sent date (RFC 5256 §2.2)
	KeyFrom                       // addr-mailbox of the first From address
	KeySize                       // RFC822.SIZE
	KeySubject                    // base subject (RFC 5256 §2.1)
	KeyTo                         // addr-mailbox of the first To address
	KeyDisplayFrom                // RFC 5957: display name of the first From address
	KeyDisplayTo                  // RFC 5957: display name of the first To address
)

// Criterion is one sort-criterion: a key, in descending order when
// Reverse (RFC 5256 §3: "REVERSE" applies to the key after it only).
type Criterion struct {
	Key     Key
	Reverse bool
}

// Sort returns the order of msgs under the criteria, as indexes into msgs.
// Messages equal under every criterion keep their order in msgs, which
// the caller gives in sequence-number order: RFC 5256 §3, "sorted
// according to the order in which they appear in the mailbox (that is,
// by sequence number)". String keys compare with i;unicode-casemap (RFC
// 5256 §7, RFC 5051); a missing field sorts as the empty string.
func Sort(msgs []Message, crit []Criterion) []int {
	cols := make([]column, len(crit))
	for i, c := range crit {
		cols[i] = newColumn(msgs, c)
	}
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		for i := range cols {
			if c := cols[i].compare(a, b); c != 0 {
				return c
			}
		}
		return 0
	})
	return order
}

// column holds one criterion's key for every message, computed once.
type column struct {
	reverse bool
	nums    []int64  // ARRIVAL, DATE, SIZE
	strs    []string // the string keys, in Casemap form
}

func newColumn(msgs []Message, c Criterion) column {
	col := column{reverse: c.Reverse}
	switch c.Key {
	case KeyArrival, KeyDate, KeySize:
		col.nums = make([]int64, len(msgs))
		for i := range msgs {
			col.nums[i] = numKey(&msgs[i], c.Key)
		}
	default:
		col.strs = make([]string, len(msgs))
		for i := range msgs {
			col.strs[i] = StringKey(&msgs[i], c.Key)
		}
	}
	return col
}

func (col *column) compare(a, b int) int {
	var c int
	if col.nums != nil {
		c = cmpInt(col.nums[a], col.nums[b])
	} else {
		c = strings.Compare(col.strs[a], col.strs[b])
	}
	if col.reverse {
		return -c
	}
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// numKey is the value of a numeric key: ARRIVAL and DATE in seconds, in UTC
// (RFC 5256 §3: "the time zone is taken into account"), SIZE in octets.
func numKey(m *Message, k Key) int64 {
	switch k {
	case KeyArrival:
		return m.InternalDate.Unix()
	case KeyDate:
		return m.sentDate()
	}
	return m.Size
}

// StringKey is the value of a string key of m in i;unicode-casemap form,
// the form in which it is compared: the base subject for SUBJECT, the
// addr-mailbox of the first address for CC, FROM and TO (RFC 5256 §3), the
// display name for DISPLAYFROM and DISPLAYTO (RFC 5957 §2: the decoded
// display-name when there is one and it is not empty, else the address
// itself, mailbox@host). A missing field gives "".
func StringKey(m *Message, k Key) string {
	switch k {
	case KeySubject:
		s, _ := BaseSubject(m.Subject)
		return s
	case KeyCc:
		return Casemap(m.Cc.Mailbox)
	case KeyFrom:
		return Casemap(m.From.Mailbox)
	case KeyTo:
		return Casemap(m.To.Mailbox)
	case KeyDisplayFrom:
		return Casemap(displayName(m.From))
	case KeyDisplayTo:
		return Casemap(displayName(m.To))
	}
	return ""
}

// displayName is RFC 5957 §2's display string of an address.
func displayName(a Address) string {
	if name := decodeWords(a.Name); strings.TrimSpace(name) != "" {
		return name
	}
	if a.Host != "" {
		return a.Mailbox + "@" + a.Host
	}
	return a.Mailbox
}
