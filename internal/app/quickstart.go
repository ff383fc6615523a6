package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/tlsconf"
)

// QuickstartDir is the data directory of quickstart mode, relative to the
// working directory.
const QuickstartDir = "postern-data"

// demoUser is the account quickstart mode creates.
const demoUser = "demo"

// demoAddress is the demo user's mail address: localhost is a local domain
// in quickstart mode (config.Quickstart), so it sends and receives there.
const demoAddress = demoUser + "@localhost"

// demoPasswordFile keeps the demo password, mode 0600, in the data directory.
const demoPasswordFile = "demo-password"

// prepareQuickstartTLS creates a self-signed certificate for localhost and
// the host name, unless one is already there.
func prepareQuickstartTLS(cfg *config.Config) error {
	_, _, err := tlsconf.GenerateSelfSigned(tlsDir(cfg), cfg.Hostname, nil)
	if err != nil {
		return fmt.Errorf("quickstart certificate: %w", err)
	}
	return nil
}

// ensureDemoUser creates the demo account at the first start and prints its
// random password once; later starts find it and say where the password is.
func ensureDemoUser(ctx context.Context, st store.Store, cfg *config.Config, out io.Writer) error {
	pwPath := filepath.Join(cfg.DataDirectory, demoPasswordFile)
	_, err := st.Account(ctx, demoUser)
	if err == nil {
		fmt.Fprintf(out, "Quickstart user %q, address %s: password in %s\n", demoUser, demoAddress, pwPath)
		return nil
	}
	if !errors.Is(err, store.ErrNoSuchAccount) {
		return err
	}
	pw := randomPassword()
	creds, err := auth.Credentials(pw)
	if err != nil {
		return err
	}
	if err := os.WriteFile(pwPath, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("write demo password: %w", err)
	}
	if _, err := st.CreateAccount(ctx, demoUser, creds); err != nil {
		return err
	}
	fmt.Fprintf(out, "Quickstart user %q, address %s, created with password: %s\n(kept in %s, mode 0600)\n",
		demoUser, demoAddress, pw, pwPath)
	return nil
}

// randomPassword returns 26 random base32 characters (130 bits).
func randomPassword() string { return rand.Text() }

// printBanner lists what listens where.
func (in *instance) printBanner() {
	w := in.opts.Stdout
	mode := "configuration " + in.opts.ConfigPath
	if in.opts.Quickstart {
		mode = "quickstart mode (no configuration file; data in ./" + QuickstartDir + ")"
	}
	fmt.Fprintf(w, "%s running, %s\n", VersionString(), mode)
	built := make(map[string]bool)
	for _, s := range in.services {
		built[s.name] = true
	}
	for _, p := range protocols() {
		for _, spec := range p.specs(in.cfg) {
			if spec.port == 0 {
				continue
			}
			state := ""
			switch {
			case !p.enabled(in.cfg):
				state = " (disabled)"
			case !built[p.name]:
				state = " (not available in this build yet)"
			}
			fmt.Fprintf(w, "  %-12s %s%s\n", spec.label, strings.Join(listenAddrs(in.cfg, spec.port), ", "), state)
		}
	}
	if in.cfg.LMTP.Enable && in.cfg.LMTP.Socket != "" {
		state := ""
		if !built["lmtp"] {
			state = " (not available in this build yet)"
		}
		fmt.Fprintf(w, "  %-12s %s%s\n", "LMTP socket", in.cfg.LMTP.Socket, state)
	}
	for _, m := range in.tls.all {
		fmt.Fprintf(w, "  %-12s %s (SHA-256 fingerprint %s)\n", "Certificate", m.CertPath(), certFingerprint(m.Certificate()))
	}
	fmt.Fprintf(w, "  %-12s %s\n", "Control", in.cfg.ControlSocket)
	if in.cfg.MetricsAddress != "" {
		fmt.Fprintf(w, "  %-12s http://%s/metrics\n", "Metrics", in.cfg.MetricsAddress)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "Logs", in.cfg.LogDirectory)
}
