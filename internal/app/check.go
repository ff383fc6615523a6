package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/observe"
	"github.com/postern/postern/internal/server"
)

// Preflight checks, without changing anything, what `postern serve` with
// cfg will need from the system, with the functions serve itself uses
// where it can: that Run-As-User exists and can be switched to, that the
// data and log directories can be created and written, that every
// certificate and key loads, and that every port can be bound. Ports held
// by a server already running with this configuration (it answers on its
// control socket) count as free. `postern check` prints what it returns.
//
// In quickstart mode the certificate is not checked: serve makes it.
func Preflight(ctx context.Context, cfg *config.Config, quickstart bool) []error {
	var errs []error
	errs = append(errs, checkRunAsUser(cfg)...)
	errs = append(errs, checkDirs(cfg)...)
	if !quickstart {
		if _, err := loadTLS(cfg, observe.Discard(), nil); err != nil {
			errs = append(errs, tlsProblem(cfg, err))
		}
	}
	errs = append(errs, checkPorts(ctx, cfg)...)
	errs = append(errs, checkMagic(cfg)...)
	errs = append(errs, checkAccountSources(cfg)...)
	return errs
}

// checkMagic: the [IMAP] Magic-File reads and each of its lines is a
// valid record; every bad line is one problem, FILE:LINE: message.
func checkMagic(cfg *config.Config) []error {
	if !cfg.IMAP.Enable || cfg.IMAP.MagicFile == "" {
		return nil
	}
	_, err := loadMagic(cfg)
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// checkRunAsUser: the account exists, and the server will be able to
// become it (it starts as root, or already runs as that account).
func checkRunAsUser(cfg *config.Config) []error {
	name := cfg.RunAsUser
	if name == "" {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return []error{cfg.Problem("", "Run-As-User", fmt.Sprintf("no account %q on this system; create it: "+
			"useradd --system --home-dir %s --shell /usr/sbin/nologin %s", name, cfg.DataDirectory, name))}
	}
	if uid := strconv.Itoa(os.Geteuid()); uid != "0" && uid != u.Uid {
		return []error{cfg.Problem("", "Run-As-User", fmt.Sprintf("serve must start as root to switch to %q "+
			"(this check runs as uid %s)", name, uid))}
	}
	return nil
}

// checkDirs: each directory serve creates or writes exists as a directory
// and is writable, or its nearest existing parent is (serve creates it).
func checkDirs(cfg *config.Config) []error {
	var errs []error
	dirs := []struct{ field, path string }{
		{"Data-Directory", cfg.DataDirectory},
		{"Log-Directory", cfg.LogDirectory},
		{"Control-Socket", filepath.Dir(cfg.ControlSocket)},
	}
	for _, d := range dirs {
		if msg := dirProblem(d.path); msg != "" {
			errs = append(errs, cfg.Problem("", d.field, msg))
		}
	}
	if cfg.LMTP.Enable && cfg.LMTP.Socket != "" {
		if msg := dirProblem(filepath.Dir(cfg.LMTP.Socket)); msg != "" {
			errs = append(errs, cfg.Problem(config.SectionLMTP, "Socket", msg))
		}
	}
	return errs
}

// dirProblem describes why path cannot be used as a writable directory, or
// returns "".
func dirProblem(path string) string {
	p := path
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Sprintf("%s is not a directory", p)
			}
			if err := syscall.Access(p, 2 /* W_OK */); err != nil {
				verb := "write in"
				if p != path {
					verb = "create " + path + " in"
				}
				return fmt.Sprintf("cannot %s %s: %v", verb, p, err)
			}
			return ""
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Sprintf("%s: %v", p, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return ""
		}
		p = parent
	}
}

// tlsProblem places a certificate or key problem on the option it names.
func tlsProblem(cfg *config.Config, err error) error {
	msg := err.Error()
	for _, sec := range []string{config.SectionIMAP, config.SectionPOP, config.SectionSMTP} {
		prefix := "TLS for " + sec + ": "
		if !strings.HasPrefix(msg, prefix) {
			continue
		}
		rest := strings.TrimPrefix(msg, prefix)
		for _, field := range []string{"Certificate-File", "Key-File", "Key-Passphrase-File"} {
			if strings.HasPrefix(rest, "["+sec+"] "+field+": ") || strings.HasPrefix(rest, field+": ") {
				fe := cfg.Problem(sec, field, "")
				if fe.Line == 0 && fe.Env == "" {
					fe = cfg.Problem("", field, "") // inherited from the global option
				}
				fe.Msg = rest
				return fe
			}
		}
		return cfg.Problem(sec, "Certificate-File", rest)
	}
	return cfg.Problem("", "Certificate-File", msg)
}

// checkPorts binds and releases every listener serve binds. A port in use
// is no problem when the server running with this configuration holds it.
func checkPorts(ctx context.Context, cfg *config.Config) []error {
	held := runningListeners(ctx, cfg)
	var errs []error
	for _, p := range protocols() {
		if !p.enabled(cfg) || p.build == nil {
			continue
		}
		for _, spec := range p.specs(cfg) {
			if spec.port == 0 {
				continue
			}
			if msg := portProblem(ctx, cfg, spec.port, held); msg != "" {
				section, field := specOption(p.name, spec.label)
				errs = append(errs, cfg.Problem(section, field, msg))
			}
		}
	}
	return errs
}

func portProblem(ctx context.Context, cfg *config.Config, port int, held map[string]bool) string {
	addrs := cfg.ListenAddress
	if len(addrs) == 0 {
		addrs = []string{""}
	}
	for _, a := range addrs {
		hp := net.JoinHostPort(a, strconv.Itoa(port))
		lns, err := server.Listen(ctx, []string{a}, port)
		if err == nil {
			for _, ln := range lns {
				ln.Close()
			}
			continue
		}
		switch {
		case held[hp]:
			continue // the running server of this configuration has it
		case errors.Is(err, syscall.EADDRINUSE):
			return fmt.Sprintf("port %s is in use by another program (ss -ltnp 'sport = :%d' shows which)", hp, port)
		case errors.Is(err, syscall.EACCES) && port < 1024:
			return fmt.Sprintf("port %s is below 1024: serve must start as root (it binds, then switches to Run-As-User)", hp)
		default:
			return fmt.Sprintf("cannot listen on %s: %v", hp, err)
		}
	}
	return ""
}

// specOption names the option of a listener, for messages.
func specOption(proto, label string) (section, field string) {
	switch label {
	case "IMAP", "POP3", "SMTP", "LMTP":
		field = "Server-Port"
	case "IMAPS", "POP3S":
		field = "Secure-Port"
	case "Submission":
		field = "Submission-Port"
	case "Submissions":
		field = "Submissions-Port"
	}
	section = map[string]string{"imap": config.SectionIMAP, "pop3": config.SectionPOP,
		"smtp": config.SectionSMTP, "lmtp": config.SectionLMTP}[proto]
	return section, field
}

// runningListeners asks a server running with this configuration, over its
// control socket, which addresses it listens on; none when no server
// answers.
func runningListeners(ctx context.Context, cfg *config.Config) map[string]bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := server.CtlRequest(ctx, cfg.ControlSocket, "listeners", &out); err != nil {
		return nil
	}
	held := map[string]bool{}
	for _, l := range strings.Fields(out.String()) {
		held[l] = true
	}
	return held
}

// ctlListeners prints the address of every TCP listener, one a line, as
// configured (host:port with the Listen-Address as written, [::]:port
// style for all addresses), for `postern check`.
func (in *instance) ctlListeners(_ context.Context, _ []string, w io.Writer) error {
	cfg := in.config()
	for _, p := range protocols() {
		if !p.enabled(cfg) || p.build == nil {
			continue
		}
		for _, spec := range p.specs(cfg) {
			if spec.port == 0 {
				continue
			}
			addrs := cfg.ListenAddress
			if len(addrs) == 0 {
				addrs = []string{""}
			}
			for _, a := range addrs {
				fmt.Fprintln(w, net.JoinHostPort(a, strconv.Itoa(spec.port)))
			}
		}
	}
	return nil
}
