package tlsconf

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// maxFileSize bounds what is read from a certificate, key or
	// passphrase file; real ones are a few kilobytes.
	maxFileSize = 1 << 20
	// expiryWarning is how long before NotAfter a warning is given.
	expiryWarning = 30 * 24 * time.Hour
)

// modernCipherSuites are the TLS 1.2 suites offered: forward secret AEADs
// only. TLS 1.3 suites are not configurable in Go and are all modern.
var modernCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// LoadOptions tune Load. The zero value is ready to use.
type LoadOptions struct {
	// Section, when set, prefixes option names in messages: "POP" gives
	// "[POP] Key-File: …", so the administrator knows which section to edit.
	Section string
	// Now returns the current time for expiry warnings; nil means time.Now.
	Now func() time.Time
	// ReadFile, when set, reads a file and returns its contents and mode
	// instead of opening it: a server that dropped its privileges reads
	// root-only files through it (server.FileReader). Errors should keep
	// fs.ErrNotExist for errors.Is.
	ReadFile func(path string) ([]byte, fs.FileMode, error)
}

// Material is the loaded certificate chain and key of one listener (or of
// all listeners sharing the same files). It is safe for concurrent use.
type Material struct {
	files    Files
	certPath string
	keyPath  string
	passPath string
	opts     LoadOptions

	kdf kdfLimits // zero means defaultKDFLimits; the fuzz test lowers it

	reloadMu sync.Mutex // serialises Reload
	cur      atomic.Pointer[tls.Certificate]
}

// Load resolves f against defaultDir (see Resolve), reads and checks the
// files and returns the material. Warnings are problems the server can run
// with; the caller should log them. The error, if any, is an *Error.
func Load(f Files, defaultDir string, opts LoadOptions) (*Material, []Warning, error) {
	m := &Material{files: f, opts: opts}
	m.certPath, m.keyPath = Resolve(f, defaultDir)
	m.passPath = passphrasePath(f, defaultDir)
	cert, warns, err := m.load()
	if err != nil {
		return nil, warns, err
	}
	m.cur.Store(cert)
	return m, warns, nil
}

// Reload reads the files again, with the same checks as Load, and on success
// makes new handshakes use the new certificate. On failure the certificate
// in use stays. Connections already established are not affected.
func (m *Material) Reload() ([]Warning, error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	cert, warns, err := m.load()
	if err != nil {
		return warns, err
	}
	m.cur.Store(cert)
	return warns, nil
}

// TLSConfig returns a new server configuration: TLS 1.2 or later, forward
// secret AEAD suites only, and the current certificate through
// GetCertificate so that Reload takes effect on the next handshake. Each
// call returns a fresh *tls.Config the caller may adjust (NextProtos, …).
func (m *Material) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: modernCipherSuites,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return m.cur.Load(), nil
		},
	}
}

// Certificate returns the certificate in use.
func (m *Material) Certificate() *tls.Certificate { return m.cur.Load() }

// CertPath returns the resolved certificate file path.
func (m *Material) CertPath() string { return m.certPath }

// KeyPath returns the resolved key file path.
func (m *Material) KeyPath() string { return m.keyPath }

// NotAfter returns the expiry time of the leaf certificate in use.
func (m *Material) NotAfter() time.Time { return m.cur.Load().Leaf.NotAfter }

// option returns an option name as shown in messages.
func (m *Material) option(name string) string {
	if m.opts.Section == "" {
		return name
	}
	return "[" + m.opts.Section + "] " + name
}

func (m *Material) now() time.Time {
	if m.opts.Now != nil {
		return m.opts.Now()
	}
	return time.Now()
}

// load reads, decrypts and checks the files.
func (m *Material) load() (*tls.Certificate, []Warning, error) {
	var warns []Warning
	certPEM, err := m.readFile(OptCertificate, m.files.Certificate, m.certPath, "certificate", nil)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := m.readFile(OptKey, m.files.Key, m.keyPath, "key", &warns)
	if err != nil {
		return nil, warns, err
	}
	var pass []byte
	if m.passPath != "" {
		pass, err = m.readFile(OptPassphrase, m.files.KeyPassphraseFile, m.passPath, "passphrase", &warns)
		if err != nil {
			return nil, warns, err
		}
		pass = bytes.TrimRight(pass, "\r\n")
	}
	chain, leaf, err := m.parseChain(certPEM)
	if err != nil {
		return nil, warns, err
	}
	key, encrypted, err := m.parseKey(keyPEM, pass)
	if err != nil {
		return nil, warns, err
	}
	if m.passPath != "" && !encrypted {
		warns = append(warns, Warning{Option: m.option(OptPassphrase), Path: m.passPath,
			Message: fmt.Sprintf("key file %s is not encrypted; the passphrase file is not needed", m.keyPath)})
	}
	if !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return nil, warns, &Error{Option: m.option(OptKey), Path: m.keyPath, Err: ErrKeyMismatch,
			Message: fmt.Sprintf("key file %s does not match certificate file %s (%s): they are not a pair", m.keyPath, m.certPath, OptCertificate)}
	}
	warns = append(warns, m.expiryWarnings(leaf)...)
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, warns, nil
}

// readFile reads one file. For protected files (warns != nil) it refuses a
// file readable by other users and warns about a group-readable one; the
// mode is taken from the open descriptor, so the check and the read see
// the same file.
func (m *Material) readFile(opt, value, path, what string, warns *[]Warning) ([]byte, error) {
	read := m.opts.ReadFile
	if read == nil {
		read = readFileMode
	}
	data, mode, err := read(path)
	if err != nil {
		msg := fmt.Sprintf("cannot read %s file %s: %v", what, path, unwrapPath(err))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			msg = fmt.Sprintf("%s file %s does not exist (%s)", what, path, describeValue(opt, value))
		case errors.Is(err, errNotRegular):
			msg = fmt.Sprintf("%s file %s is not a regular file", what, path)
			err = fs.ErrInvalid
		}
		return nil, &Error{Option: m.option(opt), Path: path, Message: msg, Err: err}
	}
	if !mode.IsRegular() {
		return nil, &Error{Option: m.option(opt), Path: path, Err: fs.ErrInvalid,
			Message: fmt.Sprintf("%s file %s is not a regular file", what, path)}
	}
	if warns != nil {
		perm := mode.Perm()
		if perm&0o004 != 0 {
			return nil, &Error{Option: m.option(opt), Path: path, Err: ErrInsecureFile,
				Message: fmt.Sprintf("%s file %s is readable by other users (mode %04o); run: chmod 600 %s", what, path, perm, path)}
		}
		if perm&0o040 != 0 {
			*warns = append(*warns, Warning{Option: m.option(opt), Path: path,
				Message: fmt.Sprintf("%s file %s is readable by group %s (mode %04o); make sure only services that need it are members, or run: chmod 600 %s", what, path, groupOf(path), perm, path)})
		}
	}
	return data, nil
}

// errNotRegular reports a path that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// readFileMode reads a regular file of at most maxFileSize bytes and
// returns its mode as seen on the open descriptor.
func readFileMode(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi.Mode(), errNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err == nil && len(data) > maxFileSize {
		err = fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, fi.Mode(), err
}

// unwrapPath drops the "open PATH: " prefix the message repeats anyway.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// describeValue says where a resolved path came from, for "does not exist"
// messages.
func describeValue(opt, value string) string {
	if value == "" {
		return "the default; set " + opt + " to the file's path or directory"
	}
	return "resolved from " + opt + " " + strconv.Quote(value)
}

// groupOf returns the name (or number) of the file's group.
func groupOf(path string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "(unknown)"
	}
	gid := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(gid); err == nil {
		return strconv.Quote(g.Name)
	}
	return gid
}

// parseChain returns the DER certificates of the PEM "CERTIFICATE" blocks,
// leaf first, and the parsed leaf. Other blocks (a key in a combined file)
// are skipped.
func (m *Material) parseChain(data []byte) ([][]byte, *x509.Certificate, error) {
	var chain [][]byte
	var leaf *x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, &Error{Option: m.option(OptCertificate), Path: m.certPath, Err: err,
				Message: fmt.Sprintf("certificate %d in %s is invalid: %v", len(chain)+1, m.certPath, err)}
		}
		if leaf == nil {
			leaf = c
		}
		chain = append(chain, block.Bytes)
	}
	if leaf == nil {
		return nil, nil, &Error{Option: m.option(OptCertificate), Path: m.certPath, Err: ErrNoCertificate,
			Message: fmt.Sprintf("no certificate found in %s (expected PEM \"CERTIFICATE\" blocks, the server's first)", m.certPath)}
	}
	return chain, leaf, nil
}

// parseKey finds the first private key block and decrypts it if needed. It
// reports whether the key was encrypted.
func (m *Material) parseKey(data, pass []byte) (crypto.Signer, bool, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return m.decodeKeyBlock(block, pass)
		}
	}
	return nil, false, &Error{Option: m.option(OptKey), Path: m.keyPath, Err: ErrNoKey,
		Message: fmt.Sprintf("no private key found in %s (expected a PEM block \"PRIVATE KEY\", \"RSA PRIVATE KEY\", \"EC PRIVATE KEY\" or \"ENCRYPTED PRIVATE KEY\")", m.keyPath)}
}

// decodeKeyBlock decrypts (when encrypted) and parses one key block.
func (m *Material) decodeKeyBlock(block *pem.Block, pass []byte) (crypto.Signer, bool, error) {
	der, typ := block.Bytes, block.Type
	//lint:ignore SA1019 legacy PEM encryption is insecure as a format, but reading existing keys in it is what admins need; we never write it.
	legacy := x509.IsEncryptedPEMBlock(block)
	encrypted := legacy || typ == "ENCRYPTED PRIVATE KEY"
	if encrypted && m.passPath == "" {
		return nil, true, &Error{Option: m.option(OptKey), Path: m.keyPath, Err: ErrPassphraseRequired,
			Message: fmt.Sprintf("key file %s is encrypted with a passphrase; set %s to a file (mode 0600) holding the passphrase, or remove the encryption with: openssl pkey -in %s -out NEWFILE", m.keyPath, OptPassphrase, m.keyPath)}
	}
	var err error
	switch {
	case legacy:
		//lint:ignore SA1019 see above; DecryptPEMBlock is the only stdlib reader of RFC 1423 keys.
		der, err = x509.DecryptPEMBlock(block, pass)
	case encrypted:
		lim := m.kdf
		if lim == (kdfLimits{}) {
			lim = defaultKDFLimits
		}
		der, err = decryptPKCS8(der, pass, lim)
		typ = "PRIVATE KEY"
	}
	if err != nil {
		return nil, true, m.decryptError(err)
	}
	key, err := parseKeyDER(typ, der)
	if err != nil {
		if encrypted {
			// Garbage that happened to have valid padding: a wrong passphrase.
			return nil, true, m.decryptError(errDecrypt)
		}
		return nil, false, &Error{Option: m.option(OptKey), Path: m.keyPath, Err: err,
			Message: fmt.Sprintf("key in %s is invalid: %v", m.keyPath, err)}
	}
	return key, encrypted, nil
}

// decryptError turns a decryption failure into an *Error: a wrong
// passphrase or an unsupported format.
func (m *Material) decryptError(err error) error {
	if errors.Is(err, errDecrypt) || errors.Is(err, x509.IncorrectPasswordError) {
		return &Error{Option: m.option(OptPassphrase), Path: m.passPath, Err: ErrBadPassphrase,
			Message: fmt.Sprintf("the passphrase in %s does not decrypt key file %s (wrong passphrase?)", m.passPath, m.keyPath)}
	}
	return &Error{Option: m.option(OptKey), Path: m.keyPath, Err: err,
		Message: fmt.Sprintf("cannot decrypt key file %s: %v", m.keyPath, err)}
}

// parseKeyDER parses an unencrypted key of the given PEM type.
func parseKeyDER(typ string, der []byte) (crypto.Signer, error) {
	var key any
	var err error
	switch typ {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		key, err = x509.ParsePKCS8PrivateKey(der)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return signer, nil
}

// publicKeysEqual reports whether two public keys are the same.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// expiryWarnings warns about a certificate that is not yet valid, expired,
// or close to expiry.
func (m *Material) expiryWarnings(leaf *x509.Certificate) []Warning {
	now := m.now()
	w := Warning{Option: m.option(OptCertificate), Path: m.certPath}
	switch {
	case now.After(leaf.NotAfter):
		w.Message = fmt.Sprintf("certificate %s expired on %s; clients will refuse it", m.certPath, leaf.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(leaf.NotBefore):
		w.Message = fmt.Sprintf("certificate %s is not valid before %s; check the clock", m.certPath, leaf.NotBefore.UTC().Format(time.RFC3339))
	case leaf.NotAfter.Sub(now) < expiryWarning:
		w.Message = fmt.Sprintf("certificate %s expires on %s", m.certPath, leaf.NotAfter.UTC().Format(time.DateOnly))
	default:
		return nil
	}
	return []Warning{w}
}
