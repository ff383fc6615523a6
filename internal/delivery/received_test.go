package delivery

import (
	"net/netip"
	"testing"
	"time"
)

func TestReceived(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ri   ReceivedInfo
		want string
	}{
		{"lmtp socket", ReceivedInfo{Helo: "mta.example", By: "mx.example.org", With: "LMTP", ID: "abc", For: "a@b.org", Time: at},
			"Received: from mta.example\r\n\tby mx.example.org (Postern) with LMTP id abc\r\n\tfor <a@b.org>;\r\n\tWed, 25 Nov 2026 12:00:00 +0000\r\n"},
		{"ipv6 tls", ReceivedInfo{Helo: "c", Remote: netip.MustParseAddr("2001:db8::1"), By: "mx", With: "ESMTPSA", TLS: "TLS 1.3 X", Time: at},
			"Received: from c ([IPv6:2001:db8::1])\r\n\tby mx (Postern) with ESMTPSA\r\n\t(TLS 1.3 X);\r\n\tWed, 25 Nov 2026 12:00:00 +0000\r\n"},
		{"hostile helo", ReceivedInfo{Helo: "x)\r\nBcc: all@example.org (", Remote: netip.MustParseAddr("::ffff:192.0.2.1"), By: "mx", With: "ESMTP", Time: at},
			"Received: from xBcc:all@example.org ([192.0.2.1])\r\n\tby mx (Postern) with ESMTP;\r\n\tWed, 25 Nov 2026 12:00:00 +0000\r\n"},
	}
	for _, tt := range tests {
		if got := Received(tt.ri); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
