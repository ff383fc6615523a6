package managesieve

import (
	"io"
	"net"
	"testing"
	"time"
)

// FuzzServer feeds arbitrary input to a connection, before and after
// login: the server must answer or close, never panic or hang.
func FuzzServer(f *testing.F) {
	for _, s := range []string{
		"CAPABILITY\r\nLOGOUT\r\n",
		"AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHNlY3JldA==\"\r\nPUTSCRIPT \"a\" {5+}\r\nkeep;\r\nSETACTIVE \"a\"\r\nLISTSCRIPTS\r\n",
		"AUTHENTICATE \"PLAIN\"\r\n\"*\"\r\n",
		"AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHNlY3JldA==\"\r\nGETSCRIPT \"x\"\r\nHAVESPACE \"a\" 99999999999999999999\r\n",
		"STARTTLS\r\n", "NOOP {3+}\r\nabc\r\n", "\"\r\n\x00\xff",
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	fx.start(false)
	f.Fuzz(func(t *testing.T, in string) {
		nc, err := net.Dial("tcp", fx.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		go func() { nc.Write([]byte(in)); nc.Write([]byte("\r\nLOGOUT\r\n")) }()
		if _, err := io.Copy(io.Discard, nc); err != nil {
			t.Fatalf("server did not close within 5 s: %v", err)
		}
	})
}
