package imapserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// METADATA (RFC 5464) over the session's store.MetadataKeeper: server
// entries (mailbox "") and mailbox entries, private and shared.

// The limits of RFC 5464 §4.3, stated in docs/imap.md.
const (
	// metadataMaxSize bounds one value: a larger one is NO [METADATA
	// MAXSIZE n]. It is well below the command line limit, so every
	// value over it is read and refused rather than cut off.
	metadataMaxSize = 16 * 1024
	// metadataMaxEntries bounds the entries of the server or of one
	// mailbox: NO [METADATA TOOMANY] beyond it.
	metadataMaxEntries = 256
)

// metadataKeeper returns the session's MetadataKeeper; the capability is
// advertised only when there is one.
func (c *conn) metadataKeeper() (store.MetadataKeeper, error) {
	mk, ok := c.sess.(store.MetadataKeeper)
	if !ok {
		return nil, nof("", "METADATA is not available")
	}
	return mk, nil
}

// metadataMailbox resolves GETMETADATA's and SETMETADATA's mailbox: ""
// is the server (0).
func (c *conn) metadataMailbox(ctx context.Context, name string) (store.MailboxID, error) {
	if name == "" {
		return 0, nil
	}
	sn, err := c.storeName(name)
	if err != nil {
		return 0, err
	}
	mb, err := c.sess.Mailbox(ctx, sn)
	if err != nil {
		return 0, err
	}
	return mb.ID, nil
}

// cmdGetMetadata: RFC 5464 §4.2. A requested entry that does not exist is
// NIL with DEPTH 0 (as Dovecot answers) and left out otherwise; entries
// over MAXSIZE are left out and the longest is reported in [METADATA
// LONGENTRIES n] (§4.2.1).
func (c *conn) cmdGetMetadata(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseGetMetadataArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	mk, err := c.metadataKeeper()
	if err != nil {
		return err
	}
	id, err := c.metadataMailbox(ctx, args.Mailbox)
	if err != nil {
		return err
	}
	entries, err := mk.Metadata(ctx, id, args.Entries, args.Depth)
	if err != nil {
		return err
	}
	out, longest := selectMetadata(args, entries)
	if len(out) > 0 {
		if err := c.enc.Metadata(args.Mailbox, out); err != nil {
			return err
		}
	}
	if longest > 0 {
		c.resp.code = fmt.Sprintf("METADATA LONGENTRIES %d", longest)
	}
	return nil
}

// selectMetadata orders the answer by requested entry, each followed by
// what lies below it, once each, and applies MAXSIZE.
func selectMetadata(args imapwire.GetMetadataArgs, entries []store.MetadataEntry) (out []imapwire.MetadataEntry, longest int) {
	seen := map[string]bool{}
	for _, name := range args.Entries {
		for _, e := range entries {
			if seen[e.Name] || !store.MetadataUnder(e.Name, name, args.Depth) {
				continue
			}
			seen[e.Name] = true
			if args.MaxSize >= 0 && int64(len(e.Value)) > args.MaxSize {
				longest = max(longest, len(e.Value))
				continue
			}
			out = append(out, imapwire.MetadataEntry{Name: e.Name, Value: e.Value})
		}
		if args.Depth == 0 && !seen[name] {
			seen[name] = true
			out = append(out, imapwire.MetadataEntry{Name: name})
		}
	}
	return out, longest
}

// cmdSetMetadata: RFC 5464 §4.3, all entries in one transaction: a value
// over metadataMaxSize is NO [METADATA MAXSIZE n], more entries than
// metadataMaxEntries NO [METADATA TOOMANY]; NIL removes an entry.
// Private entries are always kept, so [METADATA NOPRIVATE] is never sent.
func (c *conn) cmdSetMetadata(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseSetMetadataArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	mk, err := c.metadataKeeper()
	if err != nil {
		return err
	}
	id, err := c.metadataMailbox(ctx, args.Mailbox)
	if err != nil {
		return err
	}
	entries := make([]store.MetadataEntry, len(args.Entries))
	for i, e := range args.Entries {
		entries[i].Name = e.Name
		if e.Nil {
			continue
		}
		if len(e.Value) > metadataMaxSize {
			return nof(fmt.Sprintf("METADATA MAXSIZE %d", metadataMaxSize), "Metadata value too large")
		}
		entries[i].Value = append([]byte{}, e.Value...)
	}
	err = mk.SetMetadata(ctx, id, entries, metadataMaxEntries)
	if errors.Is(err, store.ErrMetadataTooMany) {
		return nof("METADATA TOOMANY", "Too many metadata entries")
	}
	return err
}
