// Package server holds the process-level machinery every protocol shares:
// binding listeners on the configured addresses, dropping privileges after
// binding, and the control socket that `postern ctl` talks to.
//
// It knows nothing of the protocols themselves; internal/app wires the
// protocol servers onto the listeners made here.
package server
