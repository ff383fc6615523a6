package message

// An Envelope holds the fields of an IMAP ENVELOPE (RFC 9051 §7.5.2). A
// nil list is sent as NIL, and so is an empty string unless Empty says the
// field is present in the header but empty: then it is "" (§7.5.2).
//
// Sender and Reply-To are defaulted here, at delivery, not at FETCH time:
// when the header field is absent or yields no address, they are a copy of
// From, as RFC 9051 §7.5.2 requires. ENVELOPE is then a plain rendering of
// this struct.
type Envelope struct {
	// Date and Subject are the raw values (unfolded, trimmed). Subject
	// keeps its RFC 2047 encoded words: ENVELOPE sends it raw.
	Date, Subject string

	From, Sender, ReplyTo, To, Cc, Bcc []Address

	// InReplyTo and MessageID are the raw values (unfolded, trimmed).
	InReplyTo, MessageID string

	// Empty marks the string fields whose header field is present but
	// empty.
	Empty EmptyFields
}

// EmptyFields is a set of the string fields of an Envelope.
type EmptyFields uint8

// The members of EmptyFields.
const (
	EmptyDate EmptyFields = 1 << iota
	EmptySubject
	EmptyInReplyTo
	EmptyMessageID

	emptyAll = EmptyDate | EmptySubject | EmptyInReplyTo | EmptyMessageID
)

// newEnvelope builds the envelope of a message from its header. The first
// occurrence of each field is used.
func newEnvelope(h Header) *Envelope {
	e := &Envelope{
		Date:      h.Get("Date"),
		Subject:   h.Get("Subject"),
		From:      parseAddressList(h.Get("From")),
		Sender:    parseAddressList(h.Get("Sender")),
		ReplyTo:   parseAddressList(h.Get("Reply-To")),
		To:        parseAddressList(h.Get("To")),
		Cc:        parseAddressList(h.Get("Cc")),
		Bcc:       parseAddressList(h.Get("Bcc")),
		InReplyTo: h.Get("In-Reply-To"),
		MessageID: h.Get("Message-ID"),
	}
	// RFC 9051 §7.5.2: "If the Date, Subject, In-Reply-To, and Message-ID
	// header lines are absent in the [RFC5322] header, the corresponding
	// member of the envelope is NIL; if these header lines are present but
	// empty, the corresponding member of the envelope is the empty string."
	for _, f := range []struct {
		name string
		val  string
		bit  EmptyFields
	}{{"Date", e.Date, EmptyDate}, {"Subject", e.Subject, EmptySubject},
		{"In-Reply-To", e.InReplyTo, EmptyInReplyTo}, {"Message-ID", e.MessageID, EmptyMessageID}} {
		if f.val == "" && h.Has(f.name) {
			e.Empty |= f.bit
		}
	}
	// RFC 9051 §7.5.2: "If the Sender or Reply-To header lines are absent
	// in the [RFC5322] header, or are present but empty, the server sets
	// the corresponding member of the envelope to be the same value as the
	// from member."
	if len(e.Sender) == 0 {
		e.Sender = append([]Address(nil), e.From...)
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = append([]Address(nil), e.From...)
	}
	return e
}
