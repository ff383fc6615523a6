package app

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/tlsconf"
)

// tlsSet is the TLS material of every protocol that needs it. Protocols
// whose files resolve to the same paths share one Material.
type tlsSet struct {
	byProto map[string]*tlsconf.Material
	all     []*tlsconf.Material
}

// tlsDir is the default directory of certificate and key files.
func tlsDir(cfg *config.Config) string { return filepath.Join(cfg.DataDirectory, "tls") }

// loadTLS loads the material of each enabled protocol that listens on a
// port (STARTTLS or implicit TLS). A bad file refuses the start.
func loadTLS(cfg *config.Config, logger *slog.Logger) (*tlsSet, error) {
	set := &tlsSet{byProto: make(map[string]*tlsconf.Material)}
	shared := make(map[tlsconf.Files]*tlsconf.Material)
	for _, p := range tlsProtocols(cfg) {
		files := tlsconf.Files{Certificate: p.files.CertificateFile, Key: p.files.KeyFile, KeyPassphraseFile: p.files.KeyPassphraseFile}
		if m, ok := shared[files]; ok {
			set.byProto[p.name] = m
			continue
		}
		m, warns, err := tlsconf.Load(files, tlsDir(cfg), tlsconf.LoadOptions{Section: p.section})
		if err != nil {
			return nil, fmt.Errorf("TLS for %s: %w", p.section, err)
		}
		for _, w := range warns {
			logger.Warn("tls material", "section", p.section, "warning", w.String())
		}
		shared[files] = m
		set.byProto[p.name] = m
		set.all = append(set.all, m)
	}
	return set, nil
}

type tlsProto struct {
	name, section string
	files         config.TLSFiles
}

func tlsProtocols(cfg *config.Config) []tlsProto {
	var ps []tlsProto
	if cfg.IMAP.Enable && (cfg.IMAP.ServerPort != 0 || cfg.IMAP.SecurePort != 0) {
		ps = append(ps, tlsProto{"imap", "IMAP", cfg.IMAP.TLS})
	}
	if cfg.POP.Enable && (cfg.POP.ServerPort != 0 || cfg.POP.SecurePort != 0) {
		ps = append(ps, tlsProto{"pop3", "POP", cfg.POP.TLS})
	}
	if cfg.SMTP.Enable && (cfg.SMTP.SubmissionPort != 0 || cfg.SMTP.SubmissionsPort != 0 || cfg.SMTP.ServerPort != 0) {
		ps = append(ps, tlsProto{"smtp", "SMTP", cfg.SMTP.TLS})
	}
	return ps
}

// config returns the TLS configuration of a protocol, nil if it has none.
func (s *tlsSet) config(proto string) *tls.Config {
	if m := s.byProto[proto]; m != nil {
		return m.TLSConfig()
	}
	return nil
}

// reload re-reads every certificate and key; on any failure the old
// material stays in use.
func (s *tlsSet) reload(logger *slog.Logger) error {
	for _, m := range s.all {
		warns, err := m.Reload()
		if err != nil {
			return err
		}
		for _, w := range warns {
			logger.Warn("tls material", "warning", w.String())
		}
		logger.Info("certificate reloaded", "cert", m.CertPath(), "not_after", m.NotAfter())
	}
	return nil
}

// certFingerprint is the SHA-256 fingerprint of a certificate's leaf in the
// form `openssl x509 -noout -fingerprint -sha256` prints, so that a client's
// "do you trust this certificate?" prompt can be checked against it.
func certFingerprint(c *tls.Certificate) string {
	if c == nil || len(c.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Certificate[0])
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":")
}
