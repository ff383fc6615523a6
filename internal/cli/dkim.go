package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/postern/postern/internal/msgauth"
	"github.com/postern/postern/internal/store"
)

func dkimCommands() []*command {
	return []*command{
		{
			name: "new", args: "DOMAIN [--selector S] [--algorithm rsa|ed25519]", minArgs: 1, maxArgs: 1,
			summary: "create a DKIM signing key and print its DNS TXT record",
			help: `The key is kept in the store (every backup has it) and signs, from now on,
every message submitted with a From address of DOMAIN or of a subdomain
without keys of its own. Publish the printed record before sending mail.
The selector defaults to pYYYYMM (the month); rsa keys are 2048 bits.
Rotation: add a key under a new selector (both sign meanwhile), publish
its record, wait a few days, then "postern dkim del DOMAIN OLD" and remove
the old record (docs/mail-auth.md).`,
			flags: dkimNewFlags, run: runDKIMNew,
		},
		{
			name: "list", args: "[DOMAIN]", maxArgs: 1,
			summary: "list the DKIM keys",
			flags:   configFlag, run: runDKIMList,
		},
		{
			name: "show", args: "DOMAIN SELECTOR", minArgs: 2, maxArgs: 2,
			summary: "print a key's DNS TXT record again",
			flags:   configFlag, run: runDKIMShow,
		},
		{
			name: "del", args: "DOMAIN SELECTOR", minArgs: 2, maxArgs: 2,
			summary: "delete a DKIM key (mail is no longer signed with it)",
			flags:   configFlag, run: runDKIMDel,
		},
	}
}

func dkimNewFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("selector", "", "the selector `S` (default pYYYYMM)")
	fs.String("algorithm", msgauth.AlgorithmRSA, "the key `ALGORITHM`: rsa (2048 bits) or ed25519 (RFC 8463)")
	return nil
}

// dkimKeys is the store's DKIM key keeper.
func dkimKeys(st store.Store) (store.DKIMKeyKeeper, error) {
	kk, ok := st.(store.DKIMKeyKeeper)
	if !ok {
		return nil, errors.New("this store does not keep DKIM keys")
	}
	return kk, nil
}

func runDKIMNew(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	selector := fs.Lookup("selector").Value.String()
	if selector == "" {
		selector = "p" + time.Now().UTC().Format("200601")
	}
	alg := strings.ToLower(fs.Lookup("algorithm").Value.String())
	if alg != msgauth.AlgorithmRSA && alg != msgauth.AlgorithmEd25519 {
		return usagef("--algorithm must be rsa or ed25519, not %q", alg)
	}
	key, err := msgauth.NewKey(args[0], selector, alg, time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	line, err := msgauth.ZoneLine(key)
	if err != nil {
		return err
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		kk, err := dkimKeys(st)
		if err != nil {
			return err
		}
		if err := kk.AddDKIMKey(ctx, key); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "added DKIM key %s (%s); publish this TXT record:\n", msgauth.RecordName(key), alg)
		fmt.Fprintln(env.Stdout, line)
		return nil
	})
}

func runDKIMList(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	domain := ""
	if len(args) == 1 {
		domain = args[0]
	}
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		kk, err := dkimKeys(st)
		if err != nil {
			return err
		}
		keys, err := kk.DKIMKeys(ctx, domain)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tSELECTOR\tALGORITHM\tCREATED\tRECORD")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Domain, k.Selector, k.Algorithm,
				k.Created.UTC().Format(time.DateOnly), msgauth.RecordName(k))
		}
		return tw.Flush()
	})
}

// findDKIMKey returns the domain's key under selector.
func findDKIMKey(ctx context.Context, kk store.DKIMKeyKeeper, domain, selector string) (store.DKIMKey, error) {
	keys, err := kk.DKIMKeys(ctx, domain)
	if err != nil {
		return store.DKIMKey{}, err
	}
	for _, k := range keys {
		if strings.EqualFold(k.Selector, selector) {
			return k, nil
		}
	}
	return store.DKIMKey{}, fmt.Errorf("DKIM key %s._domainkey.%s: %w", selector, domain, store.ErrNoSuchDKIMKey)
}

func runDKIMShow(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		kk, err := dkimKeys(st)
		if err != nil {
			return err
		}
		k, err := findDKIMKey(ctx, kk, args[0], args[1])
		if err != nil {
			return err
		}
		line, err := msgauth.ZoneLine(k)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, line)
		return nil
	})
}

func runDKIMDel(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		kk, err := dkimKeys(st)
		if err != nil {
			return err
		}
		if err := kk.DeleteDKIMKey(ctx, args[0], args[1]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted DKIM key %s._domainkey.%s\n", strings.ToLower(args[1]), strings.ToLower(args[0]))
		return nil
	})
}
