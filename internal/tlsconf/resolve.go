package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
)

// Default file names and types, the analogues of the original's SERVER.CRT
// and SERVER.KEY.
const (
	DefaultCertName = "server.crt"
	DefaultKeyName  = "server.key"
	certExt         = ".crt"
	keyExt          = ".key"
)

// Files holds the TLS options as the administrator wrote them. Each value may
// be empty, a directory, a file name, or a full path; see [Resolve].
type Files struct {
	Certificate       string // Certificate-File (alias Cert-File)
	Key               string // Key-File
	KeyPassphraseFile string // Key-Passphrase-File; empty means the key must not be encrypted
}

// Resolve fills in the parts of f.Certificate and f.Key that were left out,
// from defaultDir (normally <Data-Directory>/tls/) and the default names
// server.crt and server.key, the way the original completed partial file
// specifications (§19.5.4). The package documentation lists the cases.
// Resolve does not read the files; it only looks whether a value that
// contains a "/" names an existing directory.
func Resolve(f Files, defaultDir string) (certPath, keyPath string) {
	certPath = resolveOne(f.Certificate, defaultDir, DefaultCertName, certExt)
	keyPath = resolveOne(f.Key, defaultDir, DefaultKeyName, keyExt)
	return certPath, keyPath
}

// Paths returns every file Load reads for f: the certificate, the key and,
// when f has one, the passphrase file.
func Paths(f Files, defaultDir string) []string {
	certPath, keyPath := Resolve(f, defaultDir)
	out := []string{certPath, keyPath}
	if p := passphrasePath(f, defaultDir); p != "" {
		out = append(out, p)
	}
	return out
}

// passphrasePath is the path of f's passphrase file ("" for none): a name
// without "/" is looked for in defaultDir.
func passphrasePath(f Files, defaultDir string) string {
	p := f.KeyPassphraseFile
	if p != "" && !strings.Contains(p, "/") {
		p = filepath.Join(defaultDir, p)
	}
	return p
}

// resolveOne completes one partial file specification.
func resolveOne(value, defaultDir, defName, ext string) string {
	switch {
	case value == "":
		return filepath.Join(defaultDir, defName)
	case value == "." || value == "..":
		return filepath.Join(value, defName)
	case strings.HasSuffix(value, "/"):
		return filepath.Join(value, defName)
	case !strings.Contains(value, "/"):
		return filepath.Join(defaultDir, withType(value, ext))
	}
	if fi, err := os.Stat(value); err == nil && fi.IsDir() {
		return filepath.Join(value, defName)
	}
	dir, name := filepath.Split(value)
	return filepath.Join(dir, withType(name, ext))
}

// withType appends the default file type to a name that has none. A
// trailing dot means "explicitly no type" (OpenVMS "SSL." syntax) and is
// removed.
func withType(name, ext string) string {
	if trimmed := strings.TrimSuffix(name, "."); trimmed != name && strings.Trim(trimmed, ".") != "" {
		return trimmed
	}
	if strings.Contains(name, ".") {
		return name
	}
	return name + ext
}
