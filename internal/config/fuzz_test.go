package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and returns either a valid configuration
// or an *ErrorList of *FieldError, never both and never neither.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("[POP]\nPostmaster:\n\ta\n\t\"b\", c\n"))
	f.Add([]byte("Link-Idle-Timeout: \"0 00:10:00.00\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.conf", bytes.NewReader(data), nil)
		if err == nil {
			if c == nil {
				t.Fatal("no config and no error")
			}
			if errs := c.Validate(); len(errs) > 0 {
				t.Fatalf("accepted config does not validate: %v", errs)
			}
			_ = c.Format()
			return
		}
		if c != nil {
			t.Fatal("config returned with errors")
		}
		var list *ErrorList
		if !errors.As(err, &list) || len(*list) == 0 {
			t.Fatalf("error is not a non-empty *ErrorList: %T %v", err, err)
		}
		for _, e := range *list {
			var fe *FieldError
			if !errors.As(e, &fe) {
				t.Fatalf("problem is not a *FieldError: %T", e)
			}
		}
	})
}

// BenchmarkParseLongList guards against quadratic list building: a file
// of many repeated list lines, as the fuzzer found, must parse in linear time.
func BenchmarkParseLongList(b *testing.B) {
	in := []byte("Hostname: h.example.com\n" + strings.Repeat("Local-Domains: a.example.com\n", 20000))
	for b.Loop() {
		if _, err := Parse("bench.conf", bytes.NewReader(in), nil); err != nil {
			b.Fatal(err)
		}
	}
}
