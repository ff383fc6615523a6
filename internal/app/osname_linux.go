package app

import "syscall"

// osRelease names the operating system and its release for the POP3
// greeting, as the original named OpenVMS and its version: uname's
// sysname and release ("Linux 6.1.0-18-amd64").
func osRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "Linux"
	}
	return utsString(u.Sysname[:]) + " " + utsString(u.Release[:])
}

// utsString converts a NUL-terminated utsname field (int8 or uint8 by
// architecture) to a string.
func utsString[T int8 | uint8](f []T) string {
	b := make([]byte, 0, len(f))
	for _, c := range f {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
