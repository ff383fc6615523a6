package auth

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// linkPair returns the two ends of a Unix socketpair (STYLE B10: not
// net.Pipe, which is synchronous).
func linkPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "link")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}

// sharedVerifier is a supervisor's LocalVerifier served to n workers.
type sharedVerifier struct {
	v       *LocalVerifier
	clients []*VerifierClient
	servers []net.Conn
}

func newSharedVerifier(t *testing.T, n int) *sharedVerifier {
	t.Helper()
	s := &sharedVerifier{v: NewLocalVerifier(newTestHasher(), NewCache(CacheOptions{TTL: time.Minute}), nil)}
	for range n {
		ours, theirs := linkPair(t)
		go ServeVerifier(ours, s.v)
		c := NewVerifierClient(theirs)
		t.Cleanup(func() { c.Close(); ours.Close() })
		s.clients = append(s.clients, c)
		s.servers = append(s.servers, ours)
	}
	return s
}

// worker returns an Authenticator of worker i over accounts, as app builds
// one in a worker process.
func (s *sharedVerifier) worker(t *testing.T, accounts *testEnv, i int) *testEnv {
	return newTestEnv(t, func(o *Options) {
		o.Store = accounts.accounts
		o.Verifier = s.clients[i]
	})
}

// TestVerifierSharedAcrossWorkers: a password verified through one worker
// is a cache hit through another (one argon2id run in the supervisor, none
// in the workers), and a password with bytes that are not UTF-8 crosses
// the link intact.
func TestVerifierSharedAcrossWorkers(t *testing.T) {
	s := newSharedVerifier(t, 2)
	accounts := newTestEnv(t)
	pw := "p\xff\xfe-secret"
	accounts.addUser(t, "alice", pw)
	w1, w2 := s.worker(t, accounts, 0), s.worker(t, accounts, 1)
	ctx := context.Background()

	if _, err := w1.auth.Login(ctx, "alice", pw, ConnInfo{Remote: addrA}); err != nil {
		t.Fatalf("login through worker 1: %v", err)
	}
	if n := s.v.Computations(); n != 1 {
		t.Fatalf("after the first login: %d argon2id runs in the supervisor, want 1", n)
	}
	if _, err := w2.auth.Login(ctx, "alice", pw, ConnInfo{Remote: addrA}); err != nil {
		t.Fatalf("login through worker 2: %v", err)
	}
	if n := s.v.Computations(); n != 1 {
		t.Errorf("worker 2's login ran argon2id again: %d runs, want 1 (a cache hit)", n)
	}
	if n := w1.hasher.computations() + w2.hasher.computations(); n != 0 {
		t.Errorf("the workers ran argon2id themselves %d times", n)
	}
	// A wrong password is verified in full and fails; an unknown user
	// costs a dummy run, in the supervisor too.
	if _, err := w2.auth.Login(ctx, "alice", "wrong", ConnInfo{Remote: addrA}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := w1.auth.Login(ctx, "nobody", "x", ConnInfo{Remote: addrA}); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("unknown user: %v", err)
	}
	if n := s.v.Computations(); n < 3 {
		t.Errorf("a wrong password and an unknown user ran %d argon2id computations in the supervisor, want 2 more", n-1)
	}
	// Flush through a worker empties the shared cache.
	s.clients[0].Flush()
	before := s.v.Computations()
	if _, err := w2.auth.Login(ctx, "alice", pw, ConnInfo{Remote: addrA}); err != nil {
		t.Fatal(err)
	}
	if s.v.Computations() != before+1 {
		t.Error("a login after Flush was answered from the cache")
	}
}

// TestVerifierThrottleShared: failures through one worker hold back the
// same address and user in another.
func TestVerifierThrottleShared(t *testing.T) {
	s := newSharedVerifier(t, 2)
	accounts := newTestEnv(t)
	accounts.addUser(t, "alice", "right")
	w1, w2 := s.worker(t, accounts, 0), s.worker(t, accounts, 1)
	ctx := context.Background()
	for range defaultThrottleFree + 1 {
		if _, err := w1.auth.Login(ctx, "alice", "wrong", ConnInfo{Remote: addrA}); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, pair := s.v.Throttle.Failures(addrA, "alice"); pair != defaultThrottleFree+1 {
		t.Fatalf("the supervisor's throttle holds %d failures of the pair, want %d", pair, defaultThrottleFree+1)
	}
	if _, err := w2.auth.Login(ctx, "alice", "right", ConnInfo{Remote: addrA}); !errors.Is(err, ErrThrottled) {
		t.Fatalf("another worker let the throttled pair try: %v", err)
	}
	if w1.auth.Throttle() != nil {
		t.Error("a worker's Authenticator has a throttle of its own")
	}
}

// TestVerifierUnreachable: once the supervisor's end is gone, logins fail
// as a temporary error (ErrUnavailable), never as a success or as wrong
// credentials, and no attempt passes the throttle unchecked.
func TestVerifierUnreachable(t *testing.T) {
	s := newSharedVerifier(t, 1)
	accounts := newTestEnv(t)
	accounts.addUser(t, "alice", "right")
	w := s.worker(t, accounts, 0)
	ctx := context.Background()
	if _, err := w.auth.Login(ctx, "alice", "right", ConnInfo{Remote: addrA}); err != nil {
		t.Fatal(err)
	}
	s.servers[0].Close()
	for range 2 {
		_, err := w.auth.Login(ctx, "alice", "right", ConnInfo{Remote: addrA})
		if !errors.Is(err, ErrUnavailable) || Result(err) != ResultError {
			t.Fatalf("login with the supervisor gone: %v (result %s), want ErrUnavailable", err, Result(err))
		}
	}
	if err := w.auth.CheckName(ctx, "alice", ConnInfo{Remote: addrA}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("CheckName with the supervisor gone: %v", err)
	}
}

// TestVerifierCancel: a client that stops waiting (its connection went
// away) frees its place; the link keeps serving.
func TestVerifierCancel(t *testing.T) {
	s := newSharedVerifier(t, 1)
	s.v.Hasher.MaxConcurrent = 1
	release, err := s.v.Hasher.acquire(context.Background()) // the only slot
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.clients[0].Verify(ctx, PasswordCheck{Account: "a", ByHash: true, Hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Password: "x"}, nil)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled verification: %v", err)
	}
	release()
	if d, err := s.clients[0].Check(context.Background(), addrA, "alice"); err != nil || d != 0 {
		t.Fatalf("Check after a cancel: %v, %v", d, err)
	}
}

// TestVerifierMetrics: the supervisor's auth metrics reach a worker.
func TestVerifierMetrics(t *testing.T) {
	s := newSharedVerifier(t, 1)
	accounts := newTestEnv(t)
	accounts.addUser(t, "alice", "right")
	w := s.worker(t, accounts, 0)
	if _, err := w.auth.Login(context.Background(), "alice", "right", ConnInfo{Remote: addrA}); err != nil {
		t.Fatal(err)
	}
	mfs, err := s.clients[0].Metrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if !isShared(mf.GetName()) {
			t.Errorf("metric %s is not a shared one", mf.GetName())
		}
		if mf.GetName() != "postern_auth_password_hashes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == hashOpVerify && m.GetCounter().GetValue() >= 1 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no postern_auth_password_hashes_total{op=\"verify\"} of at least 1 among %d families", len(mfs))
	}
}
