package tlsconf

import "errors"

// Option names as they appear in the configuration file and in messages.
const (
	OptCertificate = "Certificate-File"
	OptKey         = "Key-File"
	OptPassphrase  = "Key-Passphrase-File"
)

// Sentinel errors, for errors.Is on the *Error that Load and Reload return.
// A missing file wraps fs.ErrNotExist instead.
var (
	ErrInsecureFile       = errors.New("file is readable by other users")
	ErrPassphraseRequired = errors.New("key is encrypted and no passphrase is configured")
	ErrBadPassphrase      = errors.New("passphrase does not decrypt the key")
	ErrKeyMismatch        = errors.New("certificate and key do not match")
	ErrNoCertificate      = errors.New("no certificate found")
	ErrNoKey              = errors.New("no private key found")
)

// Error is a problem with one TLS file. Its text starts with the option name
// (with the section when LoadOptions.Section is set) and says what to do.
type Error struct {
	Option  string // e.g. "[POP] Key-File"
	Path    string // the resolved file path
	Message string // what is wrong and how to fix it
	Err     error  // a sentinel above, fs.ErrNotExist, or the underlying error
}

func (e *Error) Error() string { return e.Option + ": " + e.Message }

// Unwrap returns the sentinel or underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Warning is a problem that does not stop the server, such as a
// group-readable key or a certificate that expires soon. The caller logs it.
type Warning struct {
	Option  string
	Path    string
	Message string
}

// String returns the warning as one line, option first.
func (w Warning) String() string { return w.Option + ": " + w.Message }
