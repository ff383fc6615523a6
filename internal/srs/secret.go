package srs

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// LoadSecrets reads the secrets file: one secret a line, the first signs
// and every one verifies, so that a secret is rotated by adding a new
// first line and removing the old one once MaxAge has passed; empty lines
// and lines starting with "#" are skipped. A missing file is created
// (mode 0600) with one random 256-bit secret in hex.
func LoadSecrets(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("srs secrets: %w", err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		out = append(out, append([]byte(nil), line...))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("srs secrets: %s holds no secret", path)
	}
	return out, nil
}

// create writes a new secrets file, unless another process just did.
func create(path string) ([]byte, error) {
	var key [32]byte
	rand.Read(key[:])
	data := []byte("# SRS secrets (docs/smtp.md): the first line signs, every line verifies.\n" + hex.EncodeToString(key[:]) + "\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return data, f.Close()
}
