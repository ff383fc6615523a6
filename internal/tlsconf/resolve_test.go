package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	def := "/var/lib/postern/tls"
	existing := t.TempDir() // an existing directory written without a trailing slash

	tests := []struct {
		name      string
		value     string
		cert, key string
	}{
		{"empty: both defaults", "", def + "/server.crt", def + "/server.key"},
		{"directory with slash", "/etc/postern/tls/", "/etc/postern/tls/server.crt", "/etc/postern/tls/server.key"},
		{"existing directory without slash", existing, existing + "/server.crt", existing + "/server.key"},
		{"bare name gets type (TCPIP$POP -> SSL$CERTS:TCPIP$POP.CRT)", "pop", def + "/pop.crt", def + "/pop.key"},
		{"name with type", "pop.pem", def + "/pop.pem", def + "/pop.pem"},
		{"name with two dots", "mail.example.com.pem", def + "/mail.example.com.pem", def + "/mail.example.com.pem"},
		{"hidden name keeps itself", ".secret", def + "/.secret", def + "/.secret"},
		{"dir and bare name gets type (SYS$LOGIN:SSL -> SYS$LOGIN:SSL.CRT)", "/home/pop/ssl", "/home/pop/ssl.crt", "/home/pop/ssl.key"},
		{"full path", "/etc/ssl/mail.pem", "/etc/ssl/mail.pem", "/etc/ssl/mail.pem"},
		{"trailing dot: explicitly no type", "/etc/ssl/mail.", "/etc/ssl/mail", "/etc/ssl/mail"},
		{"bare name with trailing dot", "mail.", def + "/mail", def + "/mail"},
		{"relative path with slash", "certs/pop", "certs/pop.crt", "certs/pop.key"},
		{"relative directory with slash", "certs/", "certs/server.crt", "certs/server.key"},
		{"dot is a directory", ".", "server.crt", "server.key"},
		{"dot dot is a directory", "..", "../server.crt", "../server.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, key := Resolve(Files{Certificate: tt.value, Key: tt.value}, def)
			if cert != tt.cert || key != tt.key {
				t.Errorf("Resolve(%q) = %q, %q; want %q, %q", tt.value, cert, key, tt.cert, tt.key)
			}
		})
	}
}

// TestResolveIndependent checks that certificate and key are completed
// independently, like the two logical names of the original.
func TestResolveIndependent(t *testing.T) {
	cert, key := Resolve(Files{Certificate: "/etc/ssl/certs/", Key: "pop"}, "/d")
	if cert != "/etc/ssl/certs/server.crt" || key != "/d/pop.key" {
		t.Errorf("got %q, %q", cert, key)
	}
}

// TestResolveBareNameIgnoresCWD checks that a value without "/" is a file
// name even when a directory of that name exists in the working directory.
func TestResolveBareNameIgnoresCWD(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	cert, _ := Resolve(Files{Certificate: "tls"}, "/d")
	if cert != "/d/tls.crt" {
		t.Errorf("got %q, want /d/tls.crt", cert)
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "/", ".", "..", "a", "a.", "a.b", "/x/", "/x/y", "x/y.", "...", "/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		cert, key := Resolve(Files{Certificate: value, Key: value}, "/def")
		if cert == "" || key == "" {
			t.Fatalf("Resolve(%q) gave an empty path", value)
		}
		if value == "" && (cert != "/def/server.crt" || key != "/def/server.key") {
			t.Fatalf("empty value: got %q, %q", cert, key)
		}
		if !strings.Contains(value, "/") && value != "." && value != ".." && !strings.HasPrefix(cert, "/def") {
			t.Fatalf("bare name %q left the default directory: %q", value, cert)
		}
	})
}
