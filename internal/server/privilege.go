package server

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// DropPrivileges switches the process to the named account, after the
// listeners on privileged ports are bound (the analogue of the original's
// TCPIP$POP and TCPIP$IMAP accounts). An empty name does nothing. Go's
// syscall.Setuid applies to every thread of the process (Go 1.16 and later).
func DropPrivileges(name string) error {
	if name == "" {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("Run-As-User %q: %w", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("Run-As-User %q: non-numeric uid/gid", name)
	}
	if syscall.Getuid() == uid {
		return nil
	}
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("Run-As-User %q: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("Run-As-User %q: setgid: %w", name, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("Run-As-User %q: setuid: %w", name, err)
	}
	return nil
}
