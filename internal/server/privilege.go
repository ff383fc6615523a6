package server

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
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

// HandOver gives dirs (recursively) to the account name when the process
// runs as root and will drop to that account, so that the server can still
// write its store and logs afterwards. Directories already owned by the
// account are left alone, so a large store is walked only once, on the
// first start with a new Run-As-User.
func HandOver(name string, dirs ...string) error {
	if name == "" || syscall.Getuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("Run-As-User %q: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, dir := range dirs {
		var st syscall.Stat_t
		if err := syscall.Stat(dir, &st); err != nil {
			return fmt.Errorf("hand %s over to %s: %w", dir, name, err)
		}
		if int(st.Uid) == uid {
			continue
		}
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
		if err != nil {
			return fmt.Errorf("hand %s over to %s: %w", dir, name, err)
		}
	}
	return nil
}
