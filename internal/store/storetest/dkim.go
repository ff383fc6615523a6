package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// testDKIMKeys: keys are kept per domain and selector, compared without
// case, listed oldest first per domain, refused twice under one selector,
// and deleted one at a time.
func testDKIMKeys(t *testing.T, st store.Store) {
	ctx := t.Context()
	kk, ok := st.(store.DKIMKeyKeeper)
	if !ok {
		t.Skip("store does not implement store.DKIMKeyKeeper")
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	add := func(domain, selector, alg string, created time.Time) {
		t.Helper()
		k := store.DKIMKey{Domain: domain, Selector: selector, Algorithm: alg, PrivateKey: []byte("key-" + selector), Created: created}
		if err := kk.AddDKIMKey(ctx, k); err != nil {
			t.Fatalf("AddDKIMKey(%s, %s): %v", domain, selector, err)
		}
	}
	add("Example.ORG", "s2", "rsa", t0.Add(time.Hour))
	add("example.org", "s1", "ed25519", t0)
	add("other.example", "a", "rsa", t0)
	err := kk.AddDKIMKey(ctx, store.DKIMKey{Domain: "EXAMPLE.org", Selector: "S1", Algorithm: "rsa", PrivateKey: []byte("x"), Created: t0})
	if !errors.Is(err, store.ErrDKIMKeyExists) {
		t.Errorf("second key under s1: %v, want ErrDKIMKeyExists", err)
	}
	keys, err := kk.DKIMKeys(ctx, "EXAMPLE.ORG")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Selector != "s1" || keys[1].Selector != "s2" || keys[1].Domain != "example.org" {
		t.Fatalf("DKIMKeys(example.org) = %+v, want s1 then s2", keys)
	}
	if keys[0].Algorithm != "ed25519" || !bytes.Equal(keys[0].PrivateKey, []byte("key-s1")) || !keys[0].Created.Equal(t0) {
		t.Errorf("key s1 came back as %+v", keys[0])
	}
	if all, err := kk.DKIMKeys(ctx, ""); err != nil || len(all) != 3 || all[2].Domain != "other.example" {
		t.Errorf("DKIMKeys(\"\") = %+v, %v; want 3 keys, other.example last", all, err)
	}
	if err := kk.DeleteDKIMKey(ctx, "example.org", "S1"); err != nil {
		t.Fatal(err)
	}
	if err := kk.DeleteDKIMKey(ctx, "example.org", "s1"); !errors.Is(err, store.ErrNoSuchDKIMKey) {
		t.Errorf("deleting s1 twice: %v, want ErrNoSuchDKIMKey", err)
	}
	if keys, err := kk.DKIMKeys(ctx, "example.org"); err != nil || len(keys) != 1 || keys[0].Selector != "s2" {
		t.Errorf("after delete: %+v, %v; want s2 alone", keys, err)
	}
	if keys, err := kk.DKIMKeys(ctx, "none.example"); err != nil || len(keys) != 0 {
		t.Errorf("DKIMKeys of a domain without keys = %+v, %v", keys, err)
	}
}
