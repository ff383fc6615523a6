package app

import (
	"fmt"
	"runtime"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/postern/postern/internal/app.Version=1.2.3".
var Version = "0.1.0-dev"

// VersionString is what `postern version` prints and greetings carry.
func VersionString() string {
	return fmt.Sprintf("Postern %s (%s, %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
