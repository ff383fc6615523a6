// Package source holds the account sources that live outside the store
// (issue 22, docs/accounts.md), behind the seam of package auth
// (auth.Source, auth.OutsideSource):
//
//   - LDAP: a directory, RFC 4511 (the protocol, over go-ldap/ldap/v3),
//     RFC 4513 (simple bind, StartTLS; §5.1.2: an empty password is an
//     unauthenticated bind and is refused before any bind) and RFC 4515
//     (the string form of filters; every value substituted into one is
//     escaped as §3 says).
//
// Invariants: a source never keeps a secret in the store (the store
// account of a user only holds its mail and the flags set with `postern
// user set`); a source that cannot answer returns an error wrapping
// auth.ErrUnavailable within its configured time, never "wrong password";
// a name another source owns in the store is never answered for
// (auth.StoreLink).
package source
