package app

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestOSRelease: the POP3 greeting names the system and release as
// uname -sr does, not GOOS/GOARCH.
func TestOSRelease(t *testing.T) {
	got := osRelease()
	if runtime.GOOS != "linux" {
		if got != runtime.GOOS {
			t.Errorf("osRelease() = %q", got)
		}
		return
	}
	out, err := exec.Command("uname", "-sr").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Errorf("osRelease() = %q, uname -sr says %q", got, want)
	}
}
