package imapserver

import (
	"crypto/tls"

	"github.com/postern/postern/internal/auth"
)

// tlsExporter returns the connection's tls-exporter channel binding data
// for AUTHENTICATE SCRAM-SHA-256-PLUS (RFC 9266), nil unless the
// connection is TLS 1.3 (auth.TLSExporter).
func (c *conn) tlsExporter() []byte {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	return auth.TLSExporter(tc.ConnectionState())
}
