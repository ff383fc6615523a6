package srs

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var day0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	r := &Rewriter{Domain: "fwd.example.org", Secrets: [][]byte{[]byte("new"), []byte("old")}}
	for _, sender := range []string{"alice@example.com", "a.b+c@sub.example.net", "x=y@example.com"} {
		srs, err := r.Forward(sender, day0)
		if err != nil {
			t.Fatal(err)
		}
		local, dom, _ := strings.Cut(srs, "@")
		if dom != "fwd.example.org" || !strings.HasPrefix(local, "SRS0=") {
			t.Errorf("Forward(%q) = %q", sender, srs)
		}
		for _, l := range []string{local, strings.ToLower(local), strings.ToUpper(local[:9]) + local[9:]} {
			got, err := r.Reverse(l, day0.Add(20*24*time.Hour))
			if err != nil || got != sender && !strings.EqualFold(got, sender) {
				t.Errorf("Reverse(%q) = %q, %v; want %q", l, got, err, sender)
			}
		}
		if _, err := r.Reverse(local, day0.Add(23*24*time.Hour)); !errors.Is(err, ErrTooOld) {
			t.Errorf("Reverse after 23 days: %v, want ErrTooOld", err)
		}
		if _, err := r.Reverse(local, day0.Add(-48*time.Hour)); !errors.Is(err, ErrTooOld) {
			t.Errorf("Reverse of a stamp from the future: %v, want ErrTooOld", err)
		}
	}
}

func TestRotation(t *testing.T) {
	old := &Rewriter{Domain: "fwd.example.org", Secrets: [][]byte{[]byte("old")}}
	srs, _ := old.Forward("alice@example.com", day0)
	local, _, _ := strings.Cut(srs, "@")
	rotated := &Rewriter{Domain: "fwd.example.org", Secrets: [][]byte{[]byte("new"), []byte("old")}}
	if got, err := rotated.Reverse(local, day0); err != nil || got != "alice@example.com" {
		t.Errorf("after rotation: %q, %v", got, err)
	}
	dropped := &Rewriter{Domain: "fwd.example.org", Secrets: [][]byte{[]byte("new")}}
	if _, err := dropped.Reverse(local, day0); !errors.Is(err, ErrBadHash) {
		t.Errorf("with the old secret dropped: %v, want ErrBadHash", err)
	}
}

func TestReverseRefuses(t *testing.T) {
	r := &Rewriter{Domain: "fwd.example.org", Secrets: [][]byte{[]byte("k")}}
	srs, _ := r.Forward("alice@example.com", day0)
	local, _, _ := strings.Cut(srs, "@")
	tampered := strings.Replace(local, "=example.com=alice", "=example.com=mallory", 1)
	for _, tc := range []struct {
		local string
		want  error
	}{
		{"alice", ErrNotSRS},
		{"SRS0=", ErrNotSRS},
		{"SRS0=abcd=zz=example.com", ErrNotSRS},
		{"SRS0=abc=aa=example.com=alice", ErrNotSRS},
		{"SRS0=abcd=a1=example.com=alice", ErrNotSRS},
		{"SRS0=abcd==example.com=alice", ErrNotSRS},
		{tampered, ErrBadHash},
	} {
		if _, err := r.Reverse(tc.local, day0); !errors.Is(err, tc.want) {
			t.Errorf("Reverse(%q): %v, want %v", tc.local, err, tc.want)
		}
	}
	if _, err := (&Rewriter{}).Forward("a@b", day0); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Forward without a secret: %v", err)
	}
	for _, s := range []string{"", "nodomain", "@example.com", "alice@"} {
		if _, err := r.Forward(s, day0); err == nil {
			t.Errorf("Forward(%q) succeeded", s)
		}
	}
}

// FuzzReverse: Reverse never panics, and whatever it accepts is the
// sender Forward would have rewritten to that very local part.
func FuzzReverse(f *testing.F) {
	r := &Rewriter{Domain: "fwd.example.org", Secrets: [][]byte{[]byte("k")}}
	srs, _ := r.Forward("alice@example.com", day0)
	local, _, _ := strings.Cut(srs, "@")
	for _, s := range []string{local, "SRS0=====", "srs0=abcd=aa=x=y", "SRS0=abcd=aa=example.com=a=b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := r.Reverse(s, day0)
		if err != nil {
			return
		}
		again, ferr := r.Forward(got, day0)
		if ferr != nil {
			t.Fatalf("Reverse(%q) = %q, which Forward refuses: %v", s, got, ferr)
		}
		if l, _, _ := strings.Cut(again, "@"); !strings.EqualFold(l, s) {
			t.Fatalf("Reverse(%q) = %q, but Forward gives %q", s, got, l)
		}
	})
}

// TestLoadSecrets: a missing file is created with one private secret that
// a second load reads back; a rotated file signs with its first line.
func TestLoadSecrets(t *testing.T) {
	path := t.TempDir() + "/srs.key"
	a, err := LoadSecrets(path)
	if err != nil || len(a) != 1 || len(a[0]) != 64 {
		t.Fatalf("LoadSecrets of a new file = %q, %v", a, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode: %v, %v", fi, err)
	}
	b, err := LoadSecrets(path)
	if err != nil || len(b) != 1 || string(b[0]) != string(a[0]) {
		t.Errorf("second LoadSecrets = %q, %v; want %q", b, err, a)
	}
	os.WriteFile(path, []byte("# rotated\nnew\n\n"+string(a[0])+"\n"), 0o600)
	c, err := LoadSecrets(path)
	if err != nil || len(c) != 2 || string(c[0]) != "new" {
		t.Errorf("rotated LoadSecrets = %q, %v", c, err)
	}
	os.WriteFile(path, []byte("# nothing\n"), 0o600)
	if _, err := LoadSecrets(path); err == nil {
		t.Error("a file without a secret was accepted")
	}
}
