package imapwire

import (
	"testing"
	"unicode/utf8"
)

func TestMUTF7(t *testing.T) {
	tests := []struct {
		name    string
		decoded string
		encoded string
	}{
		{"ascii", "INBOX/Sent", "INBOX/Sent"},
		{"ampersand", "Tom & Jerry", "Tom &- Jerry"},
		{"rfc3501 example", "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"latin", "Entwürfe", "Entw&APw-rfe"},
		{"astral", "\U0001F600", "&2D3eAA-"},
		{"one unit pads", "é", "&AOk-"},
		{"empty", "", ""},
		{"tab encoded", "a\tb", "a&AAk-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeMUTF7(tt.decoded); got != tt.encoded {
				t.Errorf("encode: got %q, want %q", got, tt.encoded)
			}
			got, err := DecodeMUTF7(tt.encoded)
			if err != nil || got != tt.decoded {
				t.Errorf("decode: got %q, %v; want %q", got, err, tt.decoded)
			}
		})
	}
}

func TestMUTF7Strict(t *testing.T) {
	bad := map[string]string{
		"unterminated":        "&AOk",
		"bare ampersand end":  "a&",
		"empty shift":         "&-x&", // "&-" is fine, the trailing "&" is not
		"non-base64":          "&A*k-",
		"encoded ascii":       "&AGE-",
		"encoded ampersand":   "&ACY-",
		"padding bits":        "&AOl-",
		"extra char":          "&AOkA-",
		"adjacent shifts":     "&AOk-&AOk-",
		"8-bit byte":          "caf\xc3\xa9",
		"control byte":        "a\tb",
		"lone high surrogate": "&2D0-",
		"lone low surrogate":  "&3gA-",
		"reversed surrogates": "&3gDYPQ-",
		"slash not comma":     "&U/BTFw-",
	}
	for name, in := range bad {
		if got, err := DecodeMUTF7(in); err == nil {
			t.Errorf("%s: %q decoded to %q", name, in, got)
		}
	}
}

func FuzzMUTF7(f *testing.F) {
	for _, s := range []string{"INBOX", "&-", "&ZeVnLIqe-", "Entw&APw-rfe", "&2D3eAA-", "a&AOk-b&-c", "日本語", "\x00\t&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Decoding is strict: whatever decodes re-encodes to the same bytes.
		if dec, err := DecodeMUTF7(s); err == nil {
			if enc := EncodeMUTF7(dec); enc != s {
				t.Fatalf("%q decodes to %q which encodes to %q", s, dec, enc)
			}
		}
		// Encoding round-trips every valid UTF-8 string.
		if utf8.ValidString(s) {
			enc := EncodeMUTF7(s)
			dec, err := DecodeMUTF7(enc)
			if err != nil || dec != s {
				t.Fatalf("%q encodes to %q which decodes to %q, %v", s, enc, dec, err)
			}
		}
	})
}
