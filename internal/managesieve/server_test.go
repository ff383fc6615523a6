package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
)

type fixture struct {
	t    testing.TB
	st   *sqlite.Store
	opts Options
	addr string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hasher := &auth.Hasher{Argon2: auth.CheapArgon2Params(), SCRAMIterations: auth.MinSCRAMIterations}
	u, err := hasher.Credentials("secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAccount(context.Background(), "alice", u); err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.Options{Store: st, Hasher: hasher, Throttle: auth.ThrottleOptions{Off: true}})
	return &fixture{t: t, st: st, opts: Options{Store: st, Auth: a, MaxScriptSize: 200, MaxScripts: 2}}
}

// start serves on loopback; remote makes the client look non-loopback.
func (f *fixture) start(remote bool) {
	f.t.Helper()
	srv, err := New(f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	var serveLn net.Listener = ln
	if remote {
		serveLn = remoteListener{ln}
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(context.Background(), serveLn) }()
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
}

type remoteListener struct{ net.Listener }

func (l remoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return remoteConn{c}, err
}

type remoteConn struct{ net.Conn }

func (remoteConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000} }

// run plays a transcript: "C: " lines are sent with CRLF, "S: " lines
// must arrive exactly, in order.
func (f *fixture) run(transcript string) {
	f.t.Helper()
	nc, err := net.Dial("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	for i, line := range strings.Split(strings.TrimSpace(transcript), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "C: "):
			if _, err := nc.Write([]byte(line[3:] + "\r\n")); err != nil {
				f.t.Fatalf("line %d: write: %v", i+1, err)
			}
		case strings.HasPrefix(line, "S: "):
			got, err := br.ReadString('\n')
			if err != nil {
				f.t.Fatalf("line %d: want %q, read error %v", i+1, line[3:], err)
			}
			if got != line[3:]+"\r\n" {
				f.t.Fatalf("line %d:\n got %q\nwant %q", i+1, got, line[3:]+"\r\n")
			}
		case line == "":
		default:
			f.t.Fatalf("line %d: bad transcript line %q", i+1, line)
		}
	}
}

const greeting = `S: "IMPLEMENTATION" "Postern"
S: "SASL" "SCRAM-SHA-256 PLAIN"
S: "SIEVE" "body comparator-i;ascii-numeric copy date envelope ereject fileinto imap4flags include reject relational subaddress vacation variables"
S: "MAXREDIRECTS" "4"
S: "VERSION" "1.0"
S: OK "Postern ManageSieve ready."`

const login = `C: AUTHENTICATE "PLAIN" "AGFsaWNlAHNlY3JldA=="
S: OK "Logged in."`

// TestScripts: the RFC 5804 commands over one session, byte for byte.
func TestScripts(t *testing.T) {
	f := newFixture(t)
	f.start(false)
	f.run(greeting + `
C: LISTSCRIPTS
S: NO "Authenticate first."
` + login + `
C: CAPABILITY
S: "IMPLEMENTATION" "Postern"
S: "SASL" ""
S: "SIEVE" "body comparator-i;ascii-numeric copy date envelope ereject fileinto imap4flags include reject relational subaddress vacation variables"
S: "MAXREDIRECTS" "4"
S: "OWNER" "alice"
S: "VERSION" "1.0"
S: OK "Capability completed."
C: PUTSCRIPT "bad" {17+}
C: if true {
C:  keep;
S: NO "line 2: expected '}' or a command, found end of script"
C: CHECKSCRIPT "require \"fileinto\"; fileinto \"x\";"
S: OK "Script is valid."
C: CHECKSCRIPT "fileinto \"x\";"
S: NO "line 1: fileinto needs require \"fileinto\""
C: PUTSCRIPT "main" {26+}
C: require "fileinto";
C: keep;
S: OK "Script stored."
C: PUTSCRIPT "other" "discard;"
S: OK "Script stored."
C: HAVESPACE "third" 10
S: NO (QUOTA/MAXSCRIPTS) "You may have at most 2 scripts."
C: HAVESPACE "main" 201
S: NO (QUOTA/MAXSIZE) "Scripts may be at most 200 octets."
C: HAVESPACE "main" 200
S: OK "Putscript would succeed."
C: SETACTIVE "main"
S: OK "Setactive completed."
C: LISTSCRIPTS
S: "main" ACTIVE
S: "other"
S: OK "Listscripts completed."
C: GETSCRIPT "main"
S: {26}
S: require "fileinto";
S: keep;
S: OK "Getscript completed."
C: DELETESCRIPT "main"
S: NO (ACTIVE) "You may not delete the active script."
C: RENAMESCRIPT "main" "other"
S: NO (ALREADYEXISTS) "A script by that name exists already."
C: RENAMESCRIPT "main" "renamed"
S: OK "Renamescript completed."
C: GETSCRIPT "main"
S: NO (NONEXISTENT) "There is no script by that name."
C: SETACTIVE ""
S: OK "Setactive completed."
C: DELETESCRIPT "renamed"
S: OK "Deletescript completed."
C: NOOP "tag1"
S: OK (TAG "tag1") "Done"
C: LOGOUT
S: OK "Logout completed."
`)
	if _, _, err := f.st.ActiveSieveScript(context.Background(), 1); err == nil {
		t.Error("a script is still active")
	}
}

// TestOversizedLiteral: a literal over the size limit is read and
// dropped (it cannot be refused before it arrives) and the session goes on.
func TestOversizedLiteral(t *testing.T) {
	f := newFixture(t)
	f.start(false)
	big := strings.Repeat("#", 300)
	f.run(greeting + "\n" + login + `
C: PUTSCRIPT "big" {300+}
C: ` + big + `
S: NO (QUOTA/MAXSIZE) "Scripts may be at most 200 octets."
C: PUTSCRIPT "bad` + "\t" + `name" "keep;"
S: NO "Invalid script name."
C: NOOP
S: OK "Done"
`)
	list, _ := f.st.SieveScripts(context.Background(), 1)
	if len(list) != 0 {
		t.Errorf("stored %v", list)
	}
}

// TestPlaintextRule: off loopback and without TLS, PLAIN is neither
// offered nor accepted (the IMAP rule); STARTTLS is offered.
func TestPlaintextRule(t *testing.T) {
	f := newFixture(t)
	f.opts.TLS = &tls.Config{}
	f.start(true)
	f.run(`S: "IMPLEMENTATION" "Postern"
S: "SASL" "SCRAM-SHA-256"
S: "SIEVE" "body comparator-i;ascii-numeric copy date envelope ereject fileinto imap4flags include reject relational subaddress vacation variables"
S: "STARTTLS"
S: "MAXREDIRECTS" "4"
S: "VERSION" "1.0"
S: OK "Postern ManageSieve ready."
C: AUTHENTICATE "PLAIN" "AGFsaWNlAHNlY3JldA=="
S: NO (ENCRYPT-NEEDED) "Use STARTTLS before sending a password."
C: bogus
S: NO "Unknown command."
C: "quoted-command"
S: NO "syntax error: unexpected '\"'"
C: LOGOUT
S: OK "Logout completed."
`)
}

// TestAuthFailures: a wrong password is refused; the third ends the session.
func TestAuthFailures(t *testing.T) {
	f := newFixture(t)
	f.start(false)
	wrong := `C: AUTHENTICATE "PLAIN" "AGFsaWNlAHdyb25n"` // \0alice\0wrong
	f.run(greeting + "\n" + wrong + `
S: NO "Authentication failed."
C: AUTHENTICATE "PLAIN"
S: ""
C: "*"
S: NO "Authentication cancelled."
` + wrong + `
S: NO "Authentication failed."
` + wrong + `
S: BYE "Too many authentication failures."
`)
}

var _ store.SieveKeeper = (*sqlite.Store)(nil)
