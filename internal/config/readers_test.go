package config

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/importer"
	goparser "go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readInConfig lists the options whose value is consumed inside this
// package and so has no reader elsewhere: by Resolve (which applies the
// Defaults profile, and copies a global option into the sections that
// inherit it, found from the table), or by an accessor, named as
// "Type.Method", that other packages call.
var readInConfig = map[string]string{
	"/Defaults":       "", // Resolve applies the profile's modern defaults
	"SMTP/Relay-Host": "SMTPConfig.RelayAddress",
	"POP/Expire":      "POPConfig.ExpireDays",
}

// acceptedIgnored lists the options that are parsed for compatibility with
// the original and do nothing; their documentation must say so (it must
// contain "ignored"), so that no option is documented as doing what the
// code does not do.
var acceptedIgnored = map[string]bool{
	"POP/Fast-Scan": true,
}

// TestEveryOptionIsRead checks that each option of the table, that is each
// option documented in docs/configuration.md (TestReferenceDoc keeps the
// two equal), is read by the program outside this package: the Config field
// it sets is used in the non-test code of some other package of the module.
// It type-checks every package with the compiler's export data (go list
// -export), so a use is a use of that very field, not of a namesake.
// Issue 16: options were parsed and documented but never used.
func TestEveryOptionIsRead(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the whole module")
	}
	used, usedFuncs, cfgPkg := fieldUses(t)
	inherited := map[string]bool{}
	for _, o := range options() {
		if o.inherit != "" {
			inherited[o.inherit] = true
		}
	}
	root := cfgPkg.Scope().Lookup("Config")
	if root == nil {
		t.Fatal("no Config type in the export data")
	}
	for _, o := range options() {
		path := fieldPath(t, o)
		v := lookupField(root.Type(), path)
		if v == nil {
			t.Errorf("%s: field %s not found in the export data", o.label(), strings.Join(path, "."))
			continue
		}
		switch {
		case acceptedIgnored[o.key()]:
			if !strings.Contains(o.doc, "ignored") {
				t.Errorf("%s is not read by the code, but its documentation does not say it is ignored", o.label())
			}
		case inherited[o.name] && o.section == SectionGlobal:
		case hasKey(readInConfig, o.key()):
			if acc := readInConfig[o.key()]; acc != "" && !usedFuncs[acc] {
				t.Errorf("%s is read by %s, which no package calls", o.label(), acc)
			}
		case !used[v]:
			t.Errorf("%s (Config.%s) is documented but no package reads it: implement it, or document it as ignored",
				o.label(), strings.Join(path, "."))
		}
	}
}

// fieldPath returns the names of the fields leading from Config to the
// field o sets, found by address.
func fieldPath(t *testing.T, o *option) []string {
	c := &Config{}
	p := reflect.ValueOf(o.ptr(c))
	want := p.Pointer()
	var walk func(v reflect.Value, path []string) []string
	walk = func(v reflect.Value, path []string) []string {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			name := v.Type().Field(i).Name
			if f.Addr().Pointer() == want && f.Type() == p.Type().Elem() {
				return append(path, name)
			}
			if f.Kind() == reflect.Struct {
				if got := walk(f, append(path[:len(path):len(path)], name)); got != nil {
					return got
				}
			}
		}
		return nil
	}
	path := walk(reflect.ValueOf(c).Elem(), nil)
	if path == nil {
		t.Fatalf("%s: its pointer is not a field of Config", o.label())
	}
	return path
}

// lookupField follows path through the struct fields of typ.
func lookupField(typ types.Type, path []string) *types.Var {
	var v *types.Var
	for _, name := range path {
		st, ok := typ.Underlying().(*types.Struct)
		if !ok {
			return nil
		}
		v = nil
		for i := 0; i < st.NumFields(); i++ {
			if st.Field(i).Name() == name {
				v = st.Field(i)
			}
		}
		if v == nil {
			return nil
		}
		typ = v.Type()
	}
	return v
}

type listedPackage struct {
	ImportPath string
	Dir        string
	Export     string
	GoFiles    []string
	Module     *struct{ Main bool }
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// fieldUses type-checks the non-test files of every package of the module
// but this one and returns the struct fields and the methods ("Type.Name")
// of this package they use.
func fieldUses(t *testing.T) (map[*types.Var]bool, map[string]bool, *types.Package) {
	cmd := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Dir,Export,GoFiles,Module", "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var mine []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if p.Module != nil && p.Module.Main {
			mine = append(mine, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	const self = "github.com/postern/postern/internal/config"
	cfgPkg, err := imp.Import(self)
	if err != nil {
		t.Fatal(err)
	}
	used := map[*types.Var]bool{}
	funcs := map[string]bool{}
	for _, p := range mine {
		if p.ImportPath == self {
			continue
		}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := goparser.ParseFile(fset, filepath.Join(p.Dir, name), nil, goparser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		for _, obj := range info.Uses {
			if v, ok := obj.(*types.Var); ok && v.IsField() && v.Pkg() == cfgPkg {
				used[v.Origin()] = true
			}
			if f, ok := obj.(*types.Func); ok && f.Pkg() == cfgPkg {
				if recv := f.Signature().Recv(); recv != nil {
					if n, ok := types.Unalias(recv.Type()).(*types.Named); ok {
						funcs[n.Obj().Name()+"."+f.Name()] = true
					} else if p, ok := recv.Type().(*types.Pointer); ok {
						if n, ok := p.Elem().(*types.Named); ok {
							funcs[n.Obj().Name()+"."+f.Name()] = true
						}
					}
				}
			}
		}
	}
	return used, funcs, cfgPkg
}
