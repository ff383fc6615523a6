package config

import (
	"bufio"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and the generated part of docs/configuration.md")

// readEnv reads NAME.env next to a test config: KEY=VALUE lines, # comments.
func readEnv(t *testing.T, confPath string) []string {
	t.Helper()
	f, err := os.Open(strings.TrimSuffix(confPath, ".conf") + ".env")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			env = append(env, l)
		}
	}
	return env
}

// parseTestFile parses testdata file path under its base name, so that
// messages read "name.conf:LINE: …".
func parseTestFile(t *testing.T, path string) (*Config, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(filepath.Base(path), f, readEnv(t, path))
}

func checkGolden(t *testing.T, goldenPath, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/config -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output:\n--- got ---\n%s--- want ---\n%s", goldenPath, got, want)
	}
}

// TestValidGolden parses each testdata/valid/*.conf (with its .env, if any)
// and compares the resolved configuration, written by Format, with the
// .golden file.
func TestValidGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.conf")
	if len(files) == 0 {
		t.Fatal("no testdata/valid/*.conf")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			c, err := parseTestFile(t, path)
			if err != nil {
				t.Fatalf("unexpected errors:\n%v", err)
			}
			checkGolden(t, strings.TrimSuffix(path, ".conf")+".golden", c.Format())
		})
	}
}

// TestInvalidGolden parses each testdata/invalid/*.conf and compares every
// reported problem, exactly as `postern check` prints them, with the
// .golden file.
func TestInvalidGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.conf")
	if len(files) == 0 {
		t.Fatal("no testdata/invalid/*.conf")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			c, err := parseTestFile(t, path)
			if err == nil {
				t.Fatalf("no error; config:\n%s", c.Format())
			}
			if c != nil {
				t.Error("Parse returned a config along with errors")
			}
			var list *ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, not *ErrorList: %v", err, err)
			}
			for _, e := range *list {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Errorf("problem %T is not a *FieldError: %v", e, e)
				}
			}
			checkGolden(t, strings.TrimSuffix(path, ".conf")+".golden", err.Error()+"\n")
		})
	}
}
