package managesieve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/postern/postern/internal/sieve"
	"github.com/postern/postern/internal/store"
)

// maxNameLength bounds a script name in octets.
const maxNameLength = 255

// sieveExtensions is the SIEVE capability: what the interpreter accepts.
func sieveExtensions() []string { return sieve.Extensions }

// maxRedirects is the MAXREDIRECTS capability: the interpreter's budget.
func maxRedirects() int { return sieve.DefaultMaxRedirects }

// checkName applies RFC 5804 §1.6: a name is non-empty UTF-8 without
// control characters (0000-001F, 007F-009F), U+2028 or U+2029.
func checkName(name string) bool {
	if name == "" || len(name) > maxNameLength || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// storeErr answers the store's refusals with their response codes
// (RFC 5804 §1.3); other errors go to the epilogue.
func (c *conn) storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNoSuchScript):
		c.no("NONEXISTENT", "There is no script by that name.")
	case errors.Is(err, store.ErrScriptActive):
		c.no("ACTIVE", "You may not delete the active script.")
	case errors.Is(err, store.ErrScriptExists):
		c.no("ALREADYEXISTS", "A script by that name exists already.")
	default:
		return err
	}
	return nil
}

// quota checks that a script of size octets named name fits: size
// against MaxScriptSize, and a new name against MaxScripts.
func (c *conn) quota(ctx context.Context, name string, size int64) (bool, error) {
	if size > c.s.opts.MaxScriptSize {
		c.no("QUOTA/MAXSIZE", fmt.Sprintf("Scripts may be at most %d octets.", c.s.opts.MaxScriptSize))
		return false, nil
	}
	list, err := c.s.keep.SieveScripts(ctx, c.account.ID)
	if err != nil {
		return false, err
	}
	for _, s := range list {
		if s.Name == name {
			return true, nil
		}
	}
	if len(list) >= c.s.opts.MaxScripts {
		c.no("QUOTA/MAXSCRIPTS", fmt.Sprintf("You may have at most %d scripts.", c.s.opts.MaxScripts))
		return false, nil
	}
	return true, nil
}

// cmdHavespace: RFC 5804 §2.5.
func (c *conn) cmdHavespace(ctx context.Context, args []arg) error {
	size, err := strconv.ParseInt(args[1].s, 10, 64)
	if err != nil || size < 0 || !args[1].atom {
		c.bad("The size must be a number.")
		return nil
	}
	if !checkName(args[0].s) {
		c.no("", "Invalid script name.")
		return nil
	}
	if ok, err := c.quota(ctx, args[0].s, size); !ok {
		return err
	}
	c.ok("", "Putscript would succeed.")
	return nil
}

// compile checks a script's text; on failure it answers NO with the
// error and its line (RFC 5804 §2.6).
func (c *conn) compile(text string) bool {
	if !utf8.ValidString(text) {
		c.no("", "The script is not valid UTF-8.")
		return false
	}
	if _, err := sieve.ParseAndCompile(text); err != nil {
		c.no("", err.Error())
		return false
	}
	return true
}

// cmdPutscript: RFC 5804 §2.6; the script is stored only if it compiles.
func (c *conn) cmdPutscript(ctx context.Context, args []arg) error {
	name, script := args[0], args[1]
	if !checkName(name.s) || name.tooBig {
		c.no("", "Invalid script name.")
		return nil
	}
	if script.tooBig {
		c.no("QUOTA/MAXSIZE", fmt.Sprintf("Scripts may be at most %d octets.", c.s.opts.MaxScriptSize))
		return nil
	}
	if ok, err := c.quota(ctx, name.s, int64(len(script.s))); !ok {
		return err
	}
	if !c.compile(script.s) {
		return nil
	}
	if err := c.s.keep.PutSieveScript(ctx, c.account.ID, name.s, script.s); err != nil {
		return err
	}
	c.log.Info("managesieve script stored", "script", name.s, "size", len(script.s))
	c.ok("", "Script stored.")
	return nil
}

// cmdCheckscript: RFC 5804 §2.12.
func (c *conn) cmdCheckscript(_ context.Context, args []arg) error {
	if args[0].tooBig {
		c.no("QUOTA/MAXSIZE", fmt.Sprintf("Scripts may be at most %d octets.", c.s.opts.MaxScriptSize))
		return nil
	}
	if c.compile(args[0].s) {
		c.ok("", "Script is valid.")
	}
	return nil
}

// cmdListscripts: RFC 5804 §2.7.
func (c *conn) cmdListscripts(ctx context.Context, _ []arg) error {
	list, err := c.s.keep.SieveScripts(ctx, c.account.ID)
	if err != nil {
		return err
	}
	for _, s := range list {
		c.bw.WriteString(quote(s.Name))
		if s.Active {
			c.bw.WriteString(" ACTIVE")
		}
		c.bw.WriteString("\r\n")
	}
	c.ok("", "Listscripts completed.")
	return nil
}

// cmdSetactive: RFC 5804 §2.8; "" deactivates.
func (c *conn) cmdSetactive(ctx context.Context, args []arg) error {
	if err := c.s.keep.SetActiveSieveScript(ctx, c.account.ID, args[0].s); err != nil {
		return c.storeErr(err)
	}
	c.ok("", "Setactive completed.")
	return nil
}

// cmdGetscript: RFC 5804 §2.9, the script as a literal.
func (c *conn) cmdGetscript(ctx context.Context, args []arg) error {
	text, _, err := c.s.keep.SieveScript(ctx, c.account.ID, args[0].s)
	if err != nil {
		return c.storeErr(err)
	}
	c.bw.WriteString("{" + strconv.Itoa(len(text)) + "}\r\n" + text + "\r\n")
	c.ok("", "Getscript completed.")
	return nil
}

// cmdDeletescript: RFC 5804 §2.10.
func (c *conn) cmdDeletescript(ctx context.Context, args []arg) error {
	if err := c.s.keep.DeleteSieveScript(ctx, c.account.ID, args[0].s); err != nil {
		return c.storeErr(err)
	}
	c.ok("", "Deletescript completed.")
	return nil
}

// cmdRenamescript: RFC 5804 §2.11.
func (c *conn) cmdRenamescript(ctx context.Context, args []arg) error {
	if !checkName(args[1].s) {
		c.no("", "Invalid script name.")
		return nil
	}
	if err := c.s.keep.RenameSieveScript(ctx, c.account.ID, args[0].s, args[1].s); err != nil {
		return c.storeErr(err)
	}
	c.ok("", "Renamescript completed.")
	return nil
}
