package app

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/server"
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
// port (STARTTLS or implicit TLS). A bad file refuses the start. read, when
// not nil, reads the files (and later reloads them) in place of the
// process (the privileged reader, see startFileReader).
func loadTLS(cfg *config.Config, logger *slog.Logger, read func(string) ([]byte, fs.FileMode, error)) (*tlsSet, error) {
	set := &tlsSet{byProto: make(map[string]*tlsconf.Material)}
	shared := make(map[tlsconf.Files]*tlsconf.Material)
	for _, p := range tlsProtocols(cfg) {
		files := tlsFiles(p)
		if m, ok := shared[files]; ok {
			set.byProto[p.name] = m
			continue
		}
		m, warns, err := tlsconf.Load(files, tlsDir(cfg), tlsconf.LoadOptions{Section: p.section, ReadFile: read})
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

func tlsFiles(p tlsProto) tlsconf.Files {
	return tlsconf.Files{Certificate: p.files.CertificateFile, Key: p.files.KeyFile, KeyPassphraseFile: p.files.KeyPassphraseFile}
}

// startFileReader starts, when the server will drop root for Run-As-User,
// the helper that keeps reading the certificate, key and passphrase files
// with root's access (server.FileReader), so that a reload after the drop
// reads root-only files as the start did. It returns nil when the process
// keeps its account, or when the helper cannot start (then a reload reads
// as Run-As-User, and the log says so).
//
// The configuration file is among the files it reads, so that a reload
// after the drop can read a file only root may read (/etc/postern, 0600).
func startFileReader(cfg *config.Config, configPath string, logger *slog.Logger) *server.FileReader {
	if cfg.RunAsUser == "" || os.Geteuid() != 0 {
		return nil
	}
	if u, err := user.Lookup(cfg.RunAsUser); err != nil || u.Uid == "0" {
		return nil
	}
	var paths []string
	for _, p := range tlsProtocols(cfg) {
		for _, path := range tlsconf.Paths(tlsFiles(p), tlsDir(cfg)) {
			if !slices.Contains(paths, path) {
				paths = append(paths, path)
			}
		}
	}
	if configPath != "" {
		if abs, err := filepath.Abs(configPath); err == nil && !slices.Contains(paths, abs) {
			paths = append(paths, abs)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	exe, err := os.Executable()
	if err == nil {
		var fr *server.FileReader
		if fr, err = server.StartFileReader(exe, paths); err == nil {
			return fr
		}
	}
	logger.Warn("no privileged reader for certificates: a reload reads them as Run-As-User", "err", err)
	return nil
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
	if cfg.ManageSieve.Enable && cfg.ManageSieve.ServerPort != 0 {
		// ManageSieve has no certificate options of its own: [IMAP]'s.
		ps = append(ps, tlsProto{"managesieve", "IMAP", cfg.IMAP.TLS})
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

// ensure loads the material of a protocol turned on by a reload, if it has
// none yet: through the privileged reader when it may read the files,
// else as the server's own account.
func (s *tlsSet) ensure(cfg *config.Config, proto string, fr *server.FileReader, logger *slog.Logger) error {
	if s.byProto[proto] != nil {
		return nil
	}
	for _, p := range tlsProtocols(cfg) {
		if p.name != proto {
			continue
		}
		var m *tlsconf.Material
		var warns []tlsconf.Warning
		var err error
		if fr != nil {
			m, warns, err = tlsconf.Load(tlsFiles(p), tlsDir(cfg), tlsconf.LoadOptions{Section: p.section, ReadFile: fr.ReadFile})
		}
		if fr == nil || err != nil {
			m, warns, err = tlsconf.Load(tlsFiles(p), tlsDir(cfg), tlsconf.LoadOptions{Section: p.section})
		}
		if err != nil {
			return fmt.Errorf("TLS for %s: %w", p.section, err)
		}
		for _, w := range warns {
			logger.Warn("tls material", "section", p.section, "warning", w.String())
		}
		s.byProto[proto] = m
		s.all = append(s.all, m)
	}
	return nil
}
