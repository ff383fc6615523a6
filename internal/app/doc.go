// Package app wires Postern together: it turns a validated configuration
// into a store, TLS material, logs, the control socket and the protocol
// servers, and runs the process lifecycle (start, reload on SIGHUP,
// graceful stop). It is the only package that knows every other one; the
// protocol servers receive plain Options structs built here and never read
// configuration types themselves.
package app
