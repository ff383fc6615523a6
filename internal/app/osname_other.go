//go:build !linux

package app

import "runtime"

// osRelease names the operating system for the POP3 greeting; only Linux
// reports its release (osname_linux.go).
func osRelease() string { return runtime.GOOS }
