package imapwire

import (
	"io"
	"strings"
)

// A CommandSpec describes the grammar of one command: what follows its
// name. The server's dispatch table can take its names from here and use
// Parse for commands whose arguments it does not stream.
type CommandSpec struct {
	// Name is the verb in upper case; UID commands are "UID FETCH" etc.
	Name string
	// Parse decodes the arguments up to, not including, CRLF, and returns
	// them: one of the …Args types, a SeqSet, a []IDParam, a string (APPEND's
	// mailbox) or nil for a command without arguments.
	Parse func(dec *Decoder) any
	// Literal marks APPEND and REPLACE: after Parse, the caller decodes
	// the messages (REPLACE: one) with ParseAppendMessage and streams each
	// literal itself.
	Literal bool
}

// noArgs parses the arguments of a command that takes none.
func noArgs(*Decoder) any { return nil }

// commandSpecs is the grammar of every command of RFC 9051 and RFC 3501
// plus the extensions of issue 4.
var commandSpecs = func() map[string]CommandSpec {
	list := []CommandSpec{
		{Name: "CAPABILITY", Parse: noArgs},
		{Name: "NOOP", Parse: noArgs},
		{Name: "LOGOUT", Parse: noArgs},
		{Name: "STARTTLS", Parse: noArgs},
		{Name: "AUTHENTICATE", Parse: func(d *Decoder) any { return ParseAuthenticateArgs(d) }},
		{Name: "LOGIN", Parse: func(d *Decoder) any { return ParseLoginArgs(d) }},
		{Name: "ENABLE", Parse: func(d *Decoder) any { return ParseEnableArgs(d) }},
		{Name: "ID", Parse: func(d *Decoder) any { return ParseIDArgs(d) }},
		{Name: "SELECT", Parse: func(d *Decoder) any { return ParseSelectArgs(d) }},
		{Name: "EXAMINE", Parse: func(d *Decoder) any { return ParseSelectArgs(d) }},
		{Name: "CREATE", Parse: func(d *Decoder) any { return ParseCreateArgs(d) }},
		{Name: "DELETE", Parse: func(d *Decoder) any { return ParseMailboxArgs(d) }},
		{Name: "RENAME", Parse: func(d *Decoder) any { return ParseRenameArgs(d) }},
		{Name: "SUBSCRIBE", Parse: func(d *Decoder) any { return ParseMailboxArgs(d) }},
		{Name: "UNSUBSCRIBE", Parse: func(d *Decoder) any { return ParseMailboxArgs(d) }},
		{Name: "LIST", Parse: func(d *Decoder) any { return ParseListArgs(d) }},
		{Name: "LSUB", Parse: func(d *Decoder) any { return ParseLSubArgs(d) }},
		{Name: "NAMESPACE", Parse: noArgs},
		{Name: "STATUS", Parse: func(d *Decoder) any { return ParseStatusArgs(d) }},
		{Name: "APPEND", Parse: func(d *Decoder) any { return ParseAppendMailbox(d) }, Literal: true},
		{Name: "IDLE", Parse: noArgs},
		{Name: "CANCELUPDATE", Parse: func(d *Decoder) any { return ParseCancelUpdateArgs(d) }},
		{Name: "CHECK", Parse: noArgs},
		{Name: "CLOSE", Parse: noArgs},
		{Name: "UNSELECT", Parse: noArgs},
		{Name: "EXPUNGE", Parse: noArgs},
		{Name: "UID EXPUNGE", Parse: func(d *Decoder) any { return ParseSeqSetArgs(d) }},
		{Name: "SEARCH", Parse: func(d *Decoder) any { return ParseSearchArgs(d) }},
		{Name: "UID SEARCH", Parse: func(d *Decoder) any { return ParseSearchArgs(d) }},
		{Name: "SORT", Parse: func(d *Decoder) any { return ParseSortArgs(d) }},
		{Name: "UID SORT", Parse: func(d *Decoder) any { return ParseSortArgs(d) }},
		{Name: "THREAD", Parse: func(d *Decoder) any { return ParseThreadArgs(d) }},
		{Name: "UID THREAD", Parse: func(d *Decoder) any { return ParseThreadArgs(d) }},
		{Name: "FETCH", Parse: func(d *Decoder) any { return ParseFetchArgs(d) }},
		{Name: "UID FETCH", Parse: func(d *Decoder) any { return ParseFetchArgs(d) }},
		{Name: "STORE", Parse: func(d *Decoder) any { return ParseStoreArgs(d) }},
		{Name: "UID STORE", Parse: func(d *Decoder) any { return ParseStoreArgs(d) }},
		{Name: "COPY", Parse: func(d *Decoder) any { return ParseCopyArgs(d) }},
		{Name: "UID COPY", Parse: func(d *Decoder) any { return ParseCopyArgs(d) }},
		{Name: "MOVE", Parse: func(d *Decoder) any { return ParseCopyArgs(d) }},
		{Name: "UID MOVE", Parse: func(d *Decoder) any { return ParseCopyArgs(d) }},
		{Name: "REPLACE", Parse: func(d *Decoder) any { return ParseReplaceArgs(d) }, Literal: true},
		{Name: "UID REPLACE", Parse: func(d *Decoder) any { return ParseReplaceArgs(d) }, Literal: true},
		{Name: "COMPRESS", Parse: func(d *Decoder) any { return ParseCompressArgs(d) }},
		{Name: "UNAUTHENTICATE", Parse: noArgs}, // RFC 8437 §3
		{Name: "GETQUOTA", Parse: func(d *Decoder) any { return ParseGetQuotaArgs(d) }},
		{Name: "GETQUOTAROOT", Parse: func(d *Decoder) any { return ParseGetQuotaRootArgs(d) }},
		{Name: "SETQUOTA", Parse: func(d *Decoder) any { return ParseSetQuotaArgs(d) }},
		{Name: "NOTIFY", Parse: func(d *Decoder) any { return ParseNotifyArgs(d) }},           // RFC 5465 §8
		{Name: "GETMETADATA", Parse: func(d *Decoder) any { return ParseGetMetadataArgs(d) }}, // RFC 5464 §5
		{Name: "SETMETADATA", Parse: func(d *Decoder) any { return ParseSetMetadataArgs(d) }},
	}
	m := make(map[string]CommandSpec, len(list))
	for _, c := range list {
		m[c.Name] = c
	}
	return m
}()

// LookupCommand returns the grammar of the command called name (upper
// case, "UID FETCH" for UID commands).
func LookupCommand(name string) (CommandSpec, bool) {
	c, ok := commandSpecs[name]
	return c, ok
}

// CommandNames returns the names of every command the package parses.
func CommandNames() []string {
	names := make([]string, 0, len(commandSpecs))
	for n := range commandSpecs {
		names = append(names, n)
	}
	return names
}

// ParseCommandName decodes the start of a command: tag SP name, where name
// is upper-cased and a UID command becomes "UID FETCH" etc. It does not
// check that the command exists.
func ParseCommandName(dec *Decoder) (tag, name string) {
	if !dec.ExpectTag(&tag) || !dec.ExpectSP() || !dec.ExpectAtom(&name) {
		return tag, ""
	}
	name = strings.ToUpper(name)
	if name == "UID" {
		var sub string
		if dec.ExpectSP() && dec.ExpectAtom(&sub) {
			name += " " + strings.ToUpper(sub)
		}
	}
	return tag, name
}

// A Command is a whole parsed command, as ParseCommand returns it.
type Command struct {
	Tag  string
	Name string
	Args any // see CommandSpec.Parse; for APPEND an AppendCommand, for REPLACE a ReplaceCommand
}

// ReplaceCommand is the Args of a REPLACE or UID REPLACE parsed by
// ParseCommand, which reads and drops the message data.
type ReplaceCommand struct {
	ReplaceArgs
	Message AppendMessage
}

// AppendCommand is the Args of an APPEND parsed by ParseCommand, which
// reads and drops the message data. The server streams it instead.
type AppendCommand struct {
	Mailbox  string
	Messages []AppendMessage
}

// ParseCommand decodes one whole command, CRLF included, with the grammar
// of LookupCommand. String literals go through Options.OnLiteral as usual,
// but APPEND data is read and dropped without asking, so ParseCommand
// suits tests, fuzzing and tools; a server drives APPEND itself (see
// CommandSpec.Literal). An unknown command is a *SyntaxError.
func ParseCommand(dec *Decoder) (Command, error) {
	var cmd Command
	cmd.Tag, cmd.Name = ParseCommandName(dec)
	if dec.Err() != nil {
		return cmd, dec.Err()
	}
	spec, ok := LookupCommand(cmd.Name)
	if !ok {
		dec.Fail("unknown command " + cmd.Name)
		return cmd, dec.Err()
	}
	cmd.Args = spec.Parse(dec)
	if spec.Literal {
		msgs := parseDroppedMessages(dec)
		switch a := cmd.Args.(type) {
		case string:
			cmd.Args = AppendCommand{Mailbox: a, Messages: msgs}
		case ReplaceArgs:
			rc := ReplaceCommand{ReplaceArgs: a}
			if len(msgs) > 1 {
				dec.Fail("REPLACE takes one message") // RFC 8508 §4.7
			} else if len(msgs) == 1 {
				rc.Message = msgs[0]
			}
			cmd.Args = rc
		}
	}
	dec.ExpectCRLF()
	return cmd, dec.Err()
}

// parseDroppedMessages decodes the messages of an APPEND or REPLACE,
// reading and dropping their data.
func parseDroppedMessages(dec *Decoder) []AppendMessage {
	var msgs []AppendMessage
	for dec.Err() == nil {
		m := ParseAppendMessage(dec)
		if dec.Err() != nil {
			break
		}
		if m.Catenate {
			m.Parts = parseDroppedParts(dec)
		} else if _, err := io.Copy(io.Discard, dec.LiteralReader(m.Literal)); err != nil {
			break
		}
		if dec.Err() != nil {
			break
		}
		msgs = append(msgs, m)
		if !dec.Peek(' ') {
			break
		}
	}
	return msgs
}

// parseDroppedParts decodes the parts of a CATENATE, reading and dropping
// the data of its TEXT literals.
func parseDroppedParts(dec *Decoder) []CatPart {
	var parts []CatPart
	for {
		p := ParseCatPart(dec)
		if dec.Err() != nil {
			return parts
		}
		if p.Text {
			if _, err := io.Copy(io.Discard, dec.LiteralReader(p.Literal)); err != nil {
				return parts
			}
		}
		parts = append(parts, p)
		if !CatPartEnd(dec) {
			return parts
		}
	}
}
