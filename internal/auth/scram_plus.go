package auth

import (
	"crypto/tls"
	"fmt"
	"net"
)

// SCRAM-SHA-256-PLUS: SCRAM with channel binding (RFC 5802 §6), of the
// one type Postern supports, tls-exporter (RFC 9266). The binding data is
// the connection's keying material exported with the label
// "EXPORTER-Channel-Binding" and no context, 32 octets (RFC 9266 §2); the
// client repeats it in client-final's "c=" after the GS2 header
// "p=tls-exporter,…", so a man in the middle who terminates TLS cannot
// relay the exchange. tls-exporter is defined for TLS 1.3, and for TLS
// 1.2 only with the extended master secret (RFC 9266 §3); Postern offers
// the mechanism on TLS 1.3 connections alone, so no TLS 1.2 session
// ever depends on how it was negotiated.

// MechSCRAMSHA256Plus is SCRAM-SHA-256 with channel binding (RFC 7677,
// RFC 5802 §6).
const MechSCRAMSHA256Plus = "SCRAM-SHA-256-PLUS"

// cbTLSExporter is the channel binding type name of RFC 9266 §2.
const cbTLSExporter = "tls-exporter"

// tlsExporterLabel and tlsExporterLen are RFC 9266 §2's.
const (
	tlsExporterLabel = "EXPORTER-Channel-Binding"
	tlsExporterLen   = 32
)

// TLSExporter returns the tls-exporter channel binding data of a TLS
// connection (RFC 9266 §2) for [ConnInfo.TLSExporter]: nil unless the
// handshake is complete and negotiated TLS 1.3.
func TLSExporter(cs tls.ConnectionState) []byte {
	if !cs.HandshakeComplete || cs.Version != tls.VersionTLS13 {
		return nil
	}
	b, err := cs.ExportKeyingMaterial(tlsExporterLabel, nil, tlsExporterLen)
	if err != nil {
		return nil
	}
	return b
}

// ConnTLSExporter is [TLSExporter] of a connection: nil unless nc is a
// TLS connection (IMAP and POP3 hand over their net.Conn).
func ConnTLSExporter(nc net.Conn) []byte {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil
	}
	return TLSExporter(tc.ConnectionState())
}

// ChannelBindingAvailable reports whether the connection has tls-exporter
// data.
func (c ConnInfo) ChannelBindingAvailable() bool { return len(c.TLSExporter) == tlsExporterLen }

// ChannelBinding reports whether SCRAM-SHA-256-PLUS is offered on a
// connection: Options.ChannelBinding is on (SCRAM-Channel-Binding) and
// the connection has tls-exporter data. Protocols advertise the mechanism
// when it holds; NewMechanism refuses it otherwise.
func (a *Authenticator) ChannelBinding(c ConnInfo) bool {
	return a.binding && c.ChannelBindingAvailable()
}

// checkChannelBinding applies RFC 5802 §6 to the GS2 channel binding
// flag of a client-first message: with SCRAM-SHA-256-PLUS the client must
// ask for binding ("p=") of type tls-exporter; with SCRAM-SHA-256 it must
// not ("p=" is refused), and "y" (the client could bind but believes the
// server cannot) fails when the server can bind on this connection,
// since only a downgrade makes a client think so.
func (m *scramMech) checkChannelBinding(cf scramClientFirst) error {
	switch {
	case m.plus && cf.cbFlag != 'p':
		return fmt.Errorf("%w: %s without channel binding (GS2 flag %q)", ErrChannelBinding, MechSCRAMSHA256Plus, cf.cbFlag)
	case m.plus && cf.cbName != cbTLSExporter:
		return fmt.Errorf("%w: channel binding type %q; only %s is supported", ErrChannelBinding, cf.cbName, cbTLSExporter)
	case !m.plus && cf.cbFlag == 'p':
		return fmt.Errorf("%w: client requires channel binding %q with %s; use %s", ErrChannelBinding, cf.cbName, MechSCRAMSHA256, MechSCRAMSHA256Plus)
	case !m.plus && cf.cbFlag == 'y' && m.a.ChannelBinding(m.conn):
		return fmt.Errorf("%w: client supports channel binding but did not use %s, which this server offers (a downgrade?)", ErrChannelBinding, MechSCRAMSHA256Plus)
	}
	return nil
}

// cbindInput is what client-final's "c=" must hold (RFC 5802 §7:
// cbind-input = gs2-header [ cbind-data ]): the GS2 header, followed by
// the tls-exporter data when binding.
func (m *scramMech) cbindInput() []byte {
	b := []byte(m.first.gs2Header)
	if m.plus {
		b = append(b, m.conn.TLSExporter...)
	}
	return b
}

// mechName is the mechanism's registered name, for attempts and logs.
func (m *scramMech) mechName() string {
	if m.plus {
		return MechSCRAMSHA256Plus
	}
	return MechSCRAMSHA256
}
