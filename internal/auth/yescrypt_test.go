package auth

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// yescryptVectors were made by Debian 12's `mkpasswd -m yescrypt [-R cost]`
// (package whois): the default cost 5 (j9T) and 3 (j7T).
var yescryptVectors = []struct{ password, hash string }{
	{"correct horse", "$y$j9T$rvEyWgGbZPf/bC117D6dn/$6Q0nzszpWzj307CUreoqF2PmGc2JVDSGiCper3DGz83"},
	{"correct horse", "$y$j7T$wiMzKQliegIMOET0PU5s41$RqIX96Zv/s49fCcNdKOHIi1G7D.RenLAaC1V6GsLvXB"},
	{"pässwörd", "$y$j9T$wHJroegFSYZuzA60M3aVq1$kD4p6cx5HYvz4kLuqza3A/e5RtkQAZwn7kUeOFbl2Q9"},
	{"pässwörd", "$y$j7T$cPFWzzFuNxxFaEYymR9lA.$DAFYDIZTTIS5xvTyBGDem/GHQTg8NTydKwfBoEvB5W3"},
}

func TestYescryptVectors(t *testing.T) {
	for _, v := range yescryptVectors {
		h, err := parseYescrypt(v.hash)
		if err != nil {
			t.Fatalf("%s: %v", v.hash, err)
		}
		if !verifyYescrypt(h, []byte(v.password)) {
			t.Errorf("%s: password %q does not verify", v.hash, v.password)
		}
		if verifyYescrypt(h, []byte(v.password+"x")) {
			t.Errorf("%s: a wrong password verifies", v.hash)
		}
	}
}

// TestYescryptMkpasswd checks fresh hashes of Debian's mkpasswd, the
// oracle, at several costs.
func TestYescryptMkpasswd(t *testing.T) {
	path, err := exec.LookPath("mkpasswd")
	if err != nil {
		if os.Getenv("TEST_TOOLS_REQUIRED") == "1" {
			t.Fatal("mkpasswd (package whois) is required")
		}
		t.Skip("mkpasswd not installed")
	}
	for _, cost := range []string{"1", "3", "5"} {
		for _, pw := range []string{"a", "Tr0ub4dor&3 with spaces", strings.Repeat("long", 40)} {
			out, err := exec.Command(path, "-m", "yescrypt", "-R", cost, pw).Output()
			if err != nil {
				t.Fatal(err)
			}
			hash := strings.TrimSpace(string(out))
			h, err := parseYescrypt(hash)
			if err != nil {
				t.Fatalf("%s: %v", hash, err)
			}
			if !verifyYescrypt(h, []byte(pw)) {
				t.Errorf("cost %s, %q: %s does not verify", cost, pw, hash)
			}
		}
	}
}
