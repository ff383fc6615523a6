package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Default places of the configuration file, searched in this order after
// --config and $POSTERN_CONFIG.
const (
	LocalConfigPath  = "postern.conf"
	SystemConfigPath = "/etc/postern/postern.conf"
)

// Find returns the configuration file to use: flagPath (from --config) if
// given, else $POSTERN_CONFIG, else ./postern.conf, else
// /etc/postern/postern.conf. A file named by the flag or the variable must
// exist: if it does not, the error says so (and wraps fs.ErrNotExist). If
// none of the default places has a file, Find returns ErrNoConfig, which
// means quickstart mode.
func Find(flagPath string, getenv func(string) string) (string, error) {
	return find(flagPath, getenv, []string{LocalConfigPath, SystemConfigPath})
}

func find(flagPath string, getenv func(string) string, defaults []string) (string, error) {
	explicit := func(path, from string) (string, error) {
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("config file %s (from %s) does not exist: %w", path, from, fs.ErrNotExist)
		case err != nil:
			return "", fmt.Errorf("config file %s (from %s): %w", path, from, err)
		case fi.IsDir():
			return "", fmt.Errorf("config file %s (from %s) is a directory", path, from)
		}
		return path, nil
	}
	if flagPath != "" {
		return explicit(flagPath, "--config")
	}
	if getenv != nil {
		if p := getenv(envConfig); p != "" {
			return explicit(p, "$"+envConfig)
		}
	}
	for _, p := range defaults {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return p, nil
		case err == nil:
			return "", fmt.Errorf("config file %s is a directory", p)
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("config file %s: %w", p, err)
		}
	}
	return "", ErrNoConfig
}
