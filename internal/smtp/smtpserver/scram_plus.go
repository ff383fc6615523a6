package smtpserver

import (
	"github.com/postern/postern/internal/auth"
)

// connInfo describes the connection to the authenticator, with its
// tls-exporter channel binding data for AUTH SCRAM-SHA-256-PLUS (RFC
// 9266; nil unless TLS 1.3, auth.TLSExporter).
func (ss *session) connInfo() auth.ConnInfo {
	ci := auth.ConnInfo{Remote: ss.info.remote, Proto: "smtp", TLS: ss.isTLS(), Log: ss.log}
	if cs, ok := ss.conn.TLSConnectionState(); ok {
		ci.TLSExporter = auth.TLSExporter(cs)
	}
	return ci
}
