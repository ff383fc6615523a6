package mail11

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// table53 is User's Guide Table 5-3 (hp-system §6.2), plus NEWMAIL.
var table53 = []struct{ vms, imap string }{
	{"HELLO", "Hello"},
	{"Hello", "H_e_l_l_o"},
	{"HELLO-ALL", "Hello-All"},
	{"HELLO_ALL", "Hello__All"},
	{"HELLO$ALL", "Hello$$All"},
	{"NEWMAIL", "INBOX"},
	// Further cases of the same rules.
	{"MAIL", "Mail"},
	{"WASTEBASKET", "Wastebasket"},
	{"OLD MAIL", "Old Mail"},
	{"USER@HOST", "User@Host"},
	{"NOTES(1999)", "Notes(1999)"},
	{"A.B", "A.b"},
	{"2024_Q1", "2024__Q1"},
	{"_X", "__X"},
	{"$", "$$"},
	{"INBOX", "$Inbox"}, // QUIRK: a VMS folder really named INBOX
	{"inbox", "_i_n_b_o_x"},
	{"NEWMAIL2", "Newmail2"},
	{"ÉTÉ", "ÉtÉ"}, // only ASCII letters change
}

func TestFolderTable(t *testing.T) {
	for _, tc := range table53 {
		if got := EncodeFolder(tc.vms); got != tc.imap {
			t.Errorf("EncodeFolder(%q) = %q, want %q", tc.vms, got, tc.imap)
		}
		if got, err := DecodeFolder(tc.imap); err != nil || got != tc.vms {
			t.Errorf("DecodeFolder(%q) = %q, %v, want %q", tc.imap, got, err, tc.vms)
		}
	}
}

func TestDecodeFolderCase(t *testing.T) {
	good := map[string]string{
		"hello":      "HELLO",
		"HELLO":      "HELLO",
		"h_E_l_L_o":  "Hello",
		"inbox":      "NEWMAIL",
		"InBoX":      "NEWMAIL",
		"$INBOX":     "INBOX",
		"hello$$all": "HELLO$ALL",
	}
	for in, want := range good {
		if got, err := DecodeFolder(in); err != nil || got != want {
			t.Errorf("DecodeFolder(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	bad := []string{"", "Hello_", "_1", "_-", "Hello$All", "$", "$$$", "Newmail", "NEWMAIL", "a_ b"}
	for _, in := range bad {
		if got, err := DecodeFolder(in); !errors.Is(err, ErrFolderName) {
			t.Errorf("DecodeFolder(%q) = %q, %v, want an ErrFolderName error", in, got, err)
		}
	}
}

// TestFolderRoundTrip is the property decode(encode(x)) == x for random VMS
// folder names over the characters that matter to the codec.
func TestFolderRoundTrip(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$- @().é"
	rng := rand.New(rand.NewPCG(1, 2))
	runes := []rune(alphabet)
	for i := 0; i < 20000; i++ {
		n := 1 + rng.IntN(39) // VMS folder names have at most 39 characters
		b := make([]rune, n)
		for j := range b {
			b[j] = runes[rng.IntN(len(runes))]
		}
		vms := string(b)
		imap := EncodeFolder(vms)
		got, err := DecodeFolder(imap)
		if err != nil || got != vms {
			t.Fatalf("DecodeFolder(EncodeFolder(%q) = %q) = %q, %v", vms, imap, got, err)
		}
	}
}
