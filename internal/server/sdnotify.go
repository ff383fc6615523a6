package server

import (
	"net"
	"os"
)

// Notify sends state to the service manager (sd_notify(3)) when it asked
// for it with NOTIFY_SOCKET: "READY=1" once serving, "MAINPID=n" when an
// upgraded supervisor takes over the service, "STOPPING=1" at a graceful
// stop. Without NOTIFY_SOCKET it does nothing. A name starting with "@" is
// an abstract socket.
func Notify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}
