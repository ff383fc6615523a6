// Package tlsconf turns the Certificate-File, Key-File and Key-Passphrase-File
// options into TLS material for every listener: it resolves partial file
// specifications, checks the key file's protection, decrypts passphrase
// protected keys, checks that certificate and key belong together, and hands
// out a *tls.Config whose certificate can be swapped at run time (SIGHUP).
//
// # Partial file specifications
//
// The original Secure POP server took TCPIP$POP_CERT_FILE and
// TCPIP$POP_KEY_FILE as full or partial OpenVMS file specifications; the
// parts left out came from the defaults SSL$CERTS:SERVER.CRT and
// SSL$KEY:SERVER.KEY (HP TCP/IP Services Management §19.5.4). [Resolve]
// reproduces that with POSIX paths; the default directory is
// <Data-Directory>/tls/ and the default names server.crt and server.key:
//
//	value as written          Certificate-File result      Key-File result
//	""                        <dir>/server.crt             <dir>/server.key
//	"/etc/postern/tls/"       /etc/postern/tls/server.crt  /etc/postern/tls/server.key
//	"/etc/postern/tls" (dir)  /etc/postern/tls/server.crt  /etc/postern/tls/server.key
//	"pop"                     <dir>/pop.crt                <dir>/pop.key
//	"pop.pem"                 <dir>/pop.pem                <dir>/pop.pem
//	"/home/pop/ssl"           /home/pop/ssl.crt            /home/pop/ssl.key
//	"/etc/ssl/mail.pem"       /etc/ssl/mail.pem            /etc/ssl/mail.pem
//	"/etc/ssl/mail."          /etc/ssl/mail                /etc/ssl/mail
//
// A name whose last element has no dot gets ".crt" or ".key" appended, as
// the original appended .CRT and .KEY ("TCPIP$POP" → SSL$CERTS:TCPIP$POP.CRT,
// "SYS$LOGIN:SSL" → SYS$LOGIN:SSL.CRT). A trailing dot is the OpenVMS way to
// say "no file type": it is removed and nothing is appended, so a file whose
// name really has no extension can still be used. A value names a
// directory when it ends with "/" or when it contains a "/" and names an
// existing directory; a value without "/" is always a file name in the
// default directory (so the current directory never changes its meaning).
// Relative paths with a "/" are used as written (relative to the working
// directory).
//
// Certificate and key may be the same file (a PEM file holding both).
//
// # Key protection
//
// The key file, and the passphrase file if any, must not be readable by
// other users: [Load] refuses such a file and says which chmod fixes it. A
// group-readable key is accepted with a [Warning], because sharing the key
// with other TLS services through a group is the modern form of the
// original's advice to grant read access to the service accounts that need
// it (§19.5.5). The certificate is public and may be world-readable.
//
// # Encrypted keys
//
// The original refused passphrase-protected keys (§19.5.6). Postern refuses
// them too unless Key-Passphrase-File names a file holding the passphrase;
// then legacy PEM encryption ("Proc-Type: 4,ENCRYPTED") and PKCS#8
// "ENCRYPTED PRIVATE KEY" with PBES2 (PBKDF2 or scrypt, AES-CBC or
// 3DES-CBC) are decrypted, which covers what openssl genpkey -aes256,
// openssl pkcs8 -topk8 -v2 aes256 and openssl rsa -aes256 produce.
//
// # Self-signed certificates
//
// [GenerateSelfSigned] makes the quickstart certificate: ECDSA P-256, valid
// one year, renewed by the next start once fewer than 30 days remain.
//
// Invariants: the package imports no other Postern package; it keeps no
// package-level mutable state; a failed [Material.Reload] leaves the
// certificate in use unchanged.
package tlsconf
