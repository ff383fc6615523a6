package config

import (
	"path/filepath"
	"reflect"
	"strings"
)

// Resolve fills in every option the file, the environment and Set left
// unset whose value depends on another option:
//
//   - paths under Data-Directory (Log-Directory, Control-Socket,
//     [LMTP] Socket, and the default Certificate-File and Key-File in
//     <Data-Directory>/tls/) are computed from the current Data-Directory;
//   - section options that inherit a global one (Certificate-File,
//     Key-File, Key-Passphrase-File, Log-Level, Personal-Name,
//     Allow-Plaintext-Auth, and [IMAP] Append-Limit from Max-Message-Size)
//     take its value;
//   - partial certificate and key specifications that were set are completed
//     from the value they would otherwise have had;
//   - options whose default depends on the Defaults profile (openvms or
//     modern) take the profile's default.
//
// Resolve runs after the file and the environment are applied, so changing
// Data-Directory moves everything under it. It is idempotent. It overwrites
// fields that were not explicitly set, so code that changes such a field
// should do so through Set. Load, Parse and Quickstart call it.
func (c *Config) Resolve() {
	if c.origins == nil {
		c.origins = map[string]origin{}
	}
	for _, o := range options() { // globals come first, so sections see resolved globals
		field := reflect.ValueOf(o.ptr(c)).Elem()
		_, set := c.origins[o.key()]
		switch {
		case set && o.kind == kFileSpec:
			field.SetString(ResolveFileSpec(field.String(), c.defaultOf(o), o.specExt))
		case set:
		case o.modern != "":
			if msg := o.set(c, c.profileDefault(o), false); msg != "" {
				panic("config: bad profile default for " + o.label() + ": " + msg)
			}
		case o.derive != "":
			field.SetString(filepath.Join(c.DataDirectory, filepath.FromSlash(o.derive)))
		case o.inherit != "":
			g := lookup(SectionGlobal, o.inherit)
			field.Set(reflect.ValueOf(g.ptr(c)).Elem())
		}
	}
}

// defaultOf returns the value a file specification option has when unset:
// its path under Data-Directory, or the global option it inherits.
func (c *Config) defaultOf(o *option) string {
	if o.derive != "" {
		return filepath.Join(c.DataDirectory, filepath.FromSlash(o.derive))
	}
	g := lookup(SectionGlobal, o.inherit)
	return reflect.ValueOf(g.ptr(c)).Elem().String()
}

// ResolveFileSpec completes a full or partial file specification the way
// the original completed TCPIP$POP_CERT_FILE (hp-system §4): the parts of
// spec that are missing come from def.
//
//   - "dir/" (a directory alone, ending in a slash) takes def's file name;
//   - "name" (no slash) is looked for in def's directory;
//   - a file name without a dot gets ext (".crt", ".key"), as SYS$LOGIN:SSL
//     became SYS$LOGIN:SSL.CRT.
func ResolveFileSpec(spec, def, ext string) string {
	switch {
	case spec == "":
		return def
	case strings.HasSuffix(spec, "/"):
		return filepath.Join(spec, filepath.Base(def))
	case !strings.Contains(spec, "/"):
		return filepath.Join(filepath.Dir(def), withExt(spec, ext))
	}
	return filepath.Join(filepath.Dir(spec), withExt(filepath.Base(spec), ext))
}

func withExt(name, ext string) string {
	if strings.Contains(name, ".") {
		return name
	}
	return name + ext
}

// profileDefault is o's default under the configuration's Defaults profile.
func (c *Config) profileDefault(o *option) string {
	if c.Defaults != ProfileModern || (o.modernUnless != nil && o.modernUnless(c)) {
		return o.def
	}
	return o.modern
}
