package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEveryFieldHasOneOption walks the Config struct and checks that every
// leaf field is set by exactly one option of the table, so that a field
// cannot be added without its option, default and documentation.
func TestEveryFieldHasOneOption(t *testing.T) {
	c := &Config{}
	owners := map[uintptr][]string{}
	for _, o := range options() {
		p := reflect.ValueOf(o.ptr(c))
		if p.Kind() != reflect.Pointer {
			t.Fatalf("%s: ptr returns %s, not a pointer", o.label(), p.Type())
		}
		owners[p.Pointer()] = append(owners[p.Pointer()], o.label())
	}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			f := v.Field(i)
			name := path + sf.Name
			if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Duration]() {
				walk(f, name+".")
				continue
			}
			switch got := owners[f.Addr().Pointer()]; len(got) {
			case 1:
			case 0:
				t.Errorf("Config.%s is set by no option", name)
			default:
				t.Errorf("Config.%s is set by several options: %v", name, got)
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
}

// TestOptionTable checks the table itself: each option's kind matches the
// type of its field, and it has documentation.
func TestOptionTable(t *testing.T) {
	want := map[kind]reflect.Type{
		kBool: reflect.TypeFor[bool](), kInt: reflect.TypeFor[int](), kPort: reflect.TypeFor[int](),
		kSize: reflect.TypeFor[int64](), kDuration: reflect.TypeFor[time.Duration](),
		kList: reflect.TypeFor[[]string](), kNodes: reflect.TypeFor[[]DecnetNode](),
	}
	c := &Config{}
	for _, o := range options() {
		typ := reflect.ValueOf(o.ptr(c)).Elem().Type()
		if w, ok := want[o.kind]; ok && typ != w {
			t.Errorf("%s: kind wants %s, field is %s", o.label(), w, typ)
		}
		if (o.isString() || o.kind == kEnum) && typ.Kind() != reflect.String {
			t.Errorf("%s: a string kind on a %s field", o.label(), typ)
		}
		if o.doc == "" {
			t.Errorf("%s: no documentation", o.label())
		}
		if o.inherit != "" && lookup(SectionGlobal, o.inherit) == nil {
			t.Errorf("%s: inherits unknown global %q", o.label(), o.inherit)
		}
	}
}

// TestReferenceDoc checks that the generated part of docs/configuration.md
// matches the option table; -update rewrites it.
func TestReferenceDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := strings.Index(doc, referenceBegin), strings.Index(doc, referenceEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the markers %q and %q", path, referenceBegin, referenceEnd)
	}
	gen := "\n\n" + Reference()
	cur := doc[begin+len(referenceBegin) : end]
	if cur == gen {
		return
	}
	if *update {
		doc = doc[:begin+len(referenceBegin)] + gen + doc[end:]
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the option table; run go test ./internal/config -run TestReferenceDoc -update", path)
}

func TestDefaults(t *testing.T) {
	c := Defaults()
	c.Resolve()
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("defaults do not validate: %v", errs)
	}
	checks := []struct {
		name     string
		got, wnt any
	}{
		{"Data-Directory", c.DataDirectory, "/var/lib/postern"},
		{"Log-Directory", c.LogDirectory, "/var/lib/postern/log"},
		{"Control-Socket", c.ControlSocket, "/var/lib/postern/control.sock"},
		{"LMTP Socket", c.LMTP.Socket, "/var/lib/postern/lmtp.sock"},
		{"Certificate-File", c.TLS.CertificateFile, "/var/lib/postern/tls/server.crt"},
		{"POP Key-File", c.POP.TLS.KeyFile, "/var/lib/postern/tls/server.key"},
		{"Max-Message-Size", c.MaxMessageSize, int64(50 << 20)},
		{"Append-Limit", c.IMAP.AppendLimit, int64(50 << 20)},
		{"Shutdown-Timeout", c.ShutdownTimeout, 30 * time.Second},
		{"IMAP ports", [2]int{c.IMAP.ServerPort, c.IMAP.SecurePort}, [2]int{143, 993}},
		{"POP ports", [2]int{c.POP.ServerPort, c.POP.SecurePort}, [2]int{110, 995}},
		{"SMTP ports", [3]int{c.SMTP.SubmissionPort, c.SMTP.SubmissionsPort, c.SMTP.ServerPort}, [3]int{587, 465, 0}},
		{"LMTP port", c.LMTP.ServerPort, 0},
		{"POP Ignore-Mail11-Headers", c.POP.IgnoreMail11Headers, true},
		{"POP Link-Idle-Timeout", c.POP.LinkIdleTimeout, 10 * time.Minute},
		{"IMAP Idle-Timeout", c.IMAP.IdleTimeout, 30 * time.Minute},
		{"POP Security", c.POP.Security, SecurityFriendly},
		{"POP Log-Level", c.POP.LogLevel, LogInformational},
		{"Queue-Lifetime", c.SMTP.QueueLifetime, 5 * 24 * time.Hour},
		{"Max-Auth-Attempts", c.POP.MaxAuthAttempts, 2},
		{"Max-Connections", c.IMAP.MaxConnections, 500},
		{"Maximum-Threads", c.POP.MaximumThreads, 15},
		{"Listen-Address", len(c.ListenAddress), 0},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.wnt) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.wnt)
		}
	}
	if c.Hostname == "" {
		t.Error("Hostname has no default")
	}
}

func TestQuickstart(t *testing.T) {
	c := Quickstart("postern-data")
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("quickstart does not validate: %v", errs)
	}
	if !reflect.DeepEqual(c.ListenAddress, []string{"127.0.0.1"}) {
		t.Errorf("Listen-Address = %v", c.ListenAddress)
	}
	got := []int{c.IMAP.ServerPort, c.IMAP.SecurePort, c.POP.ServerPort, c.POP.SecurePort,
		c.SMTP.SubmissionPort, c.SMTP.SubmissionsPort, c.SMTP.ServerPort, c.LMTP.ServerPort}
	want := []int{1143, 1993, 1110, 1995, 1587, 1465, 0, 2424}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ports = %v, want %v", got, want)
	}
	if !slices.Contains(c.LocalDomains, "localhost") {
		t.Errorf("Local-Domains = %v, want localhost among them", c.LocalDomains)
	}
	if got := quickstartDomains("mx.example.org"); !reflect.DeepEqual(got, []string{"localhost", "mx"}) {
		t.Errorf("quickstartDomains(mx.example.org) = %v", got)
	}
	if c.LogDirectory != filepath.Join("postern-data", "log") || c.TLS.CertificateFile != "postern-data/tls/server.crt" {
		t.Errorf("paths not under the data directory: %q %q", c.LogDirectory, c.TLS.CertificateFile)
	}

	c, err := LoadQuickstart("qs", []string{"POSTERN_IMAP_SERVER_PORT=0", "POSTERN_DATA_DIRECTORY=/tmp/qs"})
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.ServerPort != 0 || c.ControlSocket != "/tmp/qs/control.sock" {
		t.Errorf("env not applied to quickstart: port %d, socket %q", c.IMAP.ServerPort, c.ControlSocket)
	}
	if _, err := LoadQuickstart("qs", []string{"POSTERN_POP_SERVER_PORT=1143"}); err == nil {
		t.Error("port clash in quickstart not reported")
	}
}

// TestResolveFollowsDataDirectory: derived paths move with Data-Directory
// whenever it changes, but explicit ones stay.
func TestResolveFollowsDataDirectory(t *testing.T) {
	c, err := Parse("t.conf", strings.NewReader("Hostname: h.example\nControl-Socket: /run/ctl.sock\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "Data-Directory", "/srv/p"); err != nil {
		t.Fatal(err)
	}
	c.Resolve()
	if c.LogDirectory != "/srv/p/log" || c.LMTP.Socket != "/srv/p/lmtp.sock" || c.IMAP.TLS.CertificateFile != "/srv/p/tls/server.crt" {
		t.Errorf("derived paths did not follow: %q %q %q", c.LogDirectory, c.LMTP.Socket, c.IMAP.TLS.CertificateFile)
	}
	if c.ControlSocket != "/run/ctl.sock" {
		t.Errorf("explicit Control-Socket moved to %q", c.ControlSocket)
	}
	if !c.IsSet("", "control-socket") || c.IsSet("", "Log-Directory") || c.IsSet("LMTP", "Socket") {
		t.Error("IsSet is wrong")
	}
	c.Resolve() // idempotent
	if c.IMAP.TLS.CertificateFile != "/srv/p/tls/server.crt" {
		t.Errorf("second Resolve changed Certificate-File to %q", c.IMAP.TLS.CertificateFile)
	}
}

func TestResolveFileSpec(t *testing.T) {
	const def = "/var/lib/postern/tls/server.crt"
	for _, tc := range []struct{ spec, want string }{
		{"", def},
		{"/etc/postern/tls/", "/etc/postern/tls/server.crt"},
		{"TCPIP$POP", "/var/lib/postern/tls/TCPIP$POP.crt"},
		{"/home/pop/ssl", "/home/pop/ssl.crt"},
		{"/etc/letsencrypt/live/x/fullchain.pem", "/etc/letsencrypt/live/x/fullchain.pem"},
		{"pop.pem", "/var/lib/postern/tls/pop.pem"},
	} {
		if got := ResolveFileSpec(tc.spec, def, ".crt"); got != tc.want {
			t.Errorf("ResolveFileSpec(%q) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"0 00:10:00.00": 10 * time.Minute,
		"0 00:10":       10 * time.Minute,
		"1 02:03:04.5":  26*time.Hour + 3*time.Minute + 4*time.Second + 500*time.Millisecond,
		"1-00:00:00.01": 24*time.Hour + 10*time.Millisecond,
		"00:30:00":      30 * time.Minute,
		"0 ::10":        10 * time.Second,
		"10m":           10 * time.Minute,
		"1h30m":         90 * time.Minute,
		"5d":            5 * 24 * time.Hour,
		"1d12h":         36 * time.Hour,
		"90":            90 * time.Second,
		"0":             0,
	}
	for in, want := range good {
		if got, msg := parseDuration(in); msg != "" || got != want {
			t.Errorf("parseDuration(%q) = %v, %q; want %v", in, got, msg, want)
		}
	}
	for _, in := range []string{"", "ten", "-5s", "0 24:00:00", "0 00:60", "1 2 3", "10x", "99999d", "1:2:3:4", "0 00:00.5", "d", "5d-1h"} {
		if _, msg := parseDuration(in); msg == "" {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"50M": 50 << 20, "1G": 1 << 30, "512K": 512 << 10, "100": 100,
		"50MB": 50 << 20, "2gib": 2 << 30, "1 M": 1 << 20}
	for in, want := range good {
		if got, msg := parseSize(in); msg != "" || got != want {
			t.Errorf("parseSize(%q) = %d, %q; want %d", in, got, msg, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "1.5M", "50X", "99999999999999G"} {
		if _, msg := parseSize(in); msg == "" {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"ON": true, "on": true, "TRUE": true, "True": true, "YES": true,
		"yes": true, "1": true, "OFF": false, "off": false, "FALSE": false, "false": false, "NO": false, "No": false, "0": false} {
		if got, msg := parseBool(in); msg != "" || got != want {
			t.Errorf("parseBool(%q) = %v, %q", in, got, msg)
		}
	}
	for _, in := range []string{"", "Y", "2", "enabled"} {
		if _, msg := parseBool(in); msg == "" {
			t.Errorf("parseBool(%q) accepted", in)
		}
	}
}

// TestLineEndings: CRLF files, a byte-order mark and a final line without
// a newline all parse.
func TestLineEndings(t *testing.T) {
	in := "\xef\xbb\xbfHostname: h.example.com\r\n[POP]\r\nPostmaster: a,\r\n\tb\r\nServer-Port: 1110"
	c, err := Parse("crlf.conf", strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "h.example.com" || c.POP.ServerPort != 1110 || !reflect.DeepEqual(c.POP.Postmaster, []string{"a", "b"}) {
		t.Errorf("got %q %d %v", c.Hostname, c.POP.ServerPort, c.POP.Postmaster)
	}
}

// TestEnvListReplaces: an environment list replaces the file's list rather
// than adding to it, and an empty derived path means the default.
func TestEnvListReplaces(t *testing.T) {
	in := "Hostname: h.example.com\nListen-Address: 10.0.0.1\nLog-Directory: /var/log/p\n"
	c, err := Parse("t.conf", strings.NewReader(in), []string{"POSTERN_LISTEN_ADDRESS=::1", "POSTERN_LOG_DIRECTORY="})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.ListenAddress, []string{"::1"}) || c.LogDirectory != "/var/lib/postern/log" {
		t.Errorf("got %v %q", c.ListenAddress, c.LogDirectory)
	}
}

func TestSetAndParseLogLevel(t *testing.T) {
	c := Defaults()
	if err := c.Set("pop", "log-level", "warning"); err != nil {
		t.Fatal(err)
	}
	c.Resolve()
	if c.POP.LogLevel != LogWarn || c.IMAP.LogLevel != LogInformational {
		t.Errorf("POP %s IMAP %s", c.POP.LogLevel, c.IMAP.LogLevel)
	}
	err := c.Set("POP", "Message-Cap", "1")
	if err == nil || !strings.Contains(err.Error(), `"Message-Cap" is not a [POP] field; it belongs in [IMAP]`) {
		t.Errorf("Set wrong-section error = %v", err)
	}
	if l, err := ParseLogLevel(" debug "); err != nil || l != LogDebug {
		t.Errorf("ParseLogLevel = %q, %v", l, err)
	}
	if _, err := ParseLogLevel("loud"); err == nil {
		t.Error("ParseLogLevel accepted loud")
	}
}

func TestNearest(t *testing.T) {
	names := sectionNames(SectionPOP)
	for in, want := range map[string]string{
		"Leave-In-Newmal":  "Leave-In-Newmail",
		"leave-in-nwemail": "Leave-In-Newmail", // transposition
		"Server_Port":      "Server-Port",
		"Cert-Fil":         "Cert-File",
		"Zzzzzz":           "",
	} {
		if got := nearest(in, append(names, "Cert-File")); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRelayAddress(t *testing.T) {
	for _, tc := range []struct {
		host string
		tls  RelayTLS
		want string
	}{
		{"", RelayTLSStartTLS, ""},
		{"smtp.example.net", RelayTLSStartTLS, "smtp.example.net:587"},
		{"smtp.example.net", RelayTLSImplicit, "smtp.example.net:465"},
		{"smtp.example.net:25", RelayTLSNone, "smtp.example.net:25"},
		{"[2001:db8::1]", RelayTLSStartTLS, "[2001:db8::1]:587"},
	} {
		s := SMTPConfig{RelayHost: tc.host, RelayTLS: tc.tls}
		if got := s.RelayAddress(); got != tc.want {
			t.Errorf("RelayAddress(%q, %s) = %q, want %q", tc.host, tc.tls, got, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "postern.conf")
	if err := os.WriteFile(conf, []byte("Hostname: h.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.conf")
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "POSTERN_CONFIG" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name     string
		flag     string
		getenv   func(string) string
		defaults []string
		want     string
		wantErr  error
	}{
		{"flag", conf, env(missing), nil, conf, nil},
		{"flag missing", missing, env(conf), nil, "", fs.ErrNotExist},
		{"env", "", env(conf), []string{missing}, conf, nil},
		{"env missing", "", env(missing), []string{conf}, "", fs.ErrNotExist},
		{"default", "", env(""), []string{missing, conf}, conf, nil},
		{"none", "", nil, []string{missing}, "", ErrNoConfig},
	} {
		got, err := find(tc.flag, tc.getenv, tc.defaults)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
			t.Errorf("%s: find = %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
		if errors.Is(err, fs.ErrNotExist) && errors.Is(err, ErrNoConfig) {
			t.Errorf("%s: a missing named file must not be ErrNoConfig", tc.name)
		}
	}
	if _, err := find(dir, nil, nil); err == nil {
		t.Error("a directory was accepted as the config file")
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.conf"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
	c, err := Load("testdata/valid/minimal.conf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.File() != "testdata/valid/minimal.conf" {
		t.Errorf("File() = %q", c.File())
	}
	_, err = Load("testdata/invalid/unknown-field.conf", nil)
	var list *ErrorList
	if !errors.As(err, &list) || len(*list) != 5 {
		t.Fatalf("want an ErrorList of 5, got %v", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 3 || fe.File != "testdata/invalid/unknown-field.conf" {
		t.Errorf("first problem = %+v", fe)
	}
}

// TestFormatRoundTrip: Format's output parses back to the same configuration.
func TestFormatRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.conf")
	for _, path := range files {
		c, err := parseTestFile(t, path)
		if err != nil {
			t.Fatal(err)
		}
		text := c.Format()
		c2, err := Parse("formatted", strings.NewReader(text), nil)
		if err != nil {
			t.Fatalf("%s: Format output does not parse: %v\n%s", path, err, text)
		}
		if c2.Format() != strings.Replace(text, "from "+filepath.Base(path), "from formatted", 1) {
			t.Errorf("%s: round trip changed the configuration", path)
		}
	}
}

// TestDefaultsProfile: Defaults picks the defaults of the options that
// differ between the original and what users of other servers expect; an
// explicit option always wins; a file without the field is OPENVMS.
func TestDefaultsProfile(t *testing.T) {
	type want struct {
		leave   bool
		sec     Security
		bareLF  bool
		profile Profile
	}
	cases := []struct {
		name, conf string
		env        []string
		want       want
	}{
		{"absent", "Hostname: h.example\n", nil, want{false, SecurityFriendly, false, ProfileOpenVMS}},
		{"openvms", "Defaults: openvms\n", nil, want{false, SecurityFriendly, false, ProfileOpenVMS}},
		{"modern", "Defaults: modern\n", nil, want{true, SecuritySecure, true, ProfileModern}},
		{"env", "Hostname: h.example\n", []string{"POSTERN_DEFAULTS=Modern"}, want{true, SecuritySecure, true, ProfileModern}},
		{"explicit wins", "Defaults: modern\n[POP]\nSecurity: FRIENDLY\nLeave-In-Newmail: off\n[SMTP]\nAccept-Bare-LF: off\n",
			nil, want{false, SecurityFriendly, false, ProfileModern}},
		{"explicit wins over openvms", "[POP]\nSecurity: SECURE\n", nil, want{false, SecuritySecure, false, ProfileOpenVMS}},
		{"modern with Use-Mail-Folder", "Defaults: modern\n[POP]\nUse-Mail-Folder: on\n", nil, want{false, SecuritySecure, true, ProfileModern}},
	}
	for _, tc := range cases {
		c, err := Parse(tc.name+".conf", strings.NewReader(tc.conf), tc.env)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := want{c.POP.LeaveInNewmail, c.POP.Security, c.SMTP.AcceptBareLF, c.Defaults}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}

	if c := Quickstart("qs"); c.Defaults != ProfileModern || !c.POP.LeaveInNewmail || c.POP.Security != SecuritySecure {
		t.Errorf("quickstart is not modern: %s %v %s", c.Defaults, c.POP.LeaveInNewmail, c.POP.Security)
	}
	c, err := LoadQuickstart("qs", []string{"POSTERN_DEFAULTS=openvms"})
	if err != nil || c.POP.LeaveInNewmail || c.POP.Security != SecurityFriendly {
		t.Errorf("quickstart with POSTERN_DEFAULTS=openvms: %v %+v", err, c)
	}
	// Set and Resolve switch the profile both ways.
	c = Defaults()
	c.Set("", "Defaults", "modern")
	c.Resolve()
	if !c.SMTP.AcceptBareLF {
		t.Error("Set Defaults modern: Accept-Bare-LF still off")
	}
	c.Set("", "Defaults", "openvms")
	c.Resolve()
	if c.SMTP.AcceptBareLF || c.POP.LeaveInNewmail {
		t.Error("Set Defaults openvms: modern defaults kept")
	}
}

// TestExampleConfig: the example the README tells administrators to copy
// is valid and uses the modern defaults.
func TestExampleConfig(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "docs", "postern.conf.example"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Defaults != ProfileModern || !c.POP.LeaveInNewmail || c.POP.Security != SecuritySecure {
		t.Errorf("docs/postern.conf.example: Defaults %s, Leave-In-Newmail %v, Security %s; want the modern profile",
			c.Defaults, c.POP.LeaveInNewmail, c.POP.Security)
	}
}

func TestChanges(t *testing.T) {
	a, err := Parse("a.conf", strings.NewReader("Hostname: h.example\nLog-Level: INFO\n[IMAP]\nServer-Port: 143\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.conf", strings.NewReader("Hostname: h.example\nLog-Level: DEBUG\nLocal-Domains: x.example, y.example\n[IMAP]\nServer-Port: 1143\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range Changes(a, b) {
		got = append(got, ch.Label()+": "+ch.Old+" -> "+ch.New)
	}
	want := []string{"Local-Domains:  -> x.example, y.example", "Log-Level: INFORMATIONAL -> DEBUG",
		"[IMAP] Server-Port: 143 -> 1143", "[IMAP] Log-Level: INFORMATIONAL -> DEBUG", "[POP] Log-Level: INFORMATIONAL -> DEBUG",
		"[SMTP] Log-Level: INFORMATIONAL -> DEBUG", "[LMTP] Log-Level: INFORMATIONAL -> DEBUG"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes:\n got %q\nwant %q", got, want)
	}
	if len(Changes(a, a)) != 0 {
		t.Error("a configuration differs from itself")
	}
}

// TestExpireDays: [POP] Expire takes NEVER in any case or a number of
// days up to a century; anything else is a configuration error, and
// ExpireDays never turns one into a retention.
func TestExpireDays(t *testing.T) {
	for _, tc := range []struct {
		value string
		days  int
		never bool
		ok    bool
	}{
		{"NEVER", 0, true, true},
		{"never", 0, true, true},
		{"0", 0, false, true},
		{"30", 30, false, true},
		{"36500", 36500, false, true},
		{"36501", 0, true, false},
		{"-1", 0, true, false},
		{"30d", 0, true, false},
		{"", 0, true, false},
	} {
		c, err := Parse("test.conf", strings.NewReader("Hostname: h.example.com\n[POP]\nExpire: "+tc.value+"\n"), nil)
		if (err == nil) != tc.ok {
			t.Errorf("Expire: %q: error %v, want ok=%v", tc.value, err, tc.ok)
		}
		p := POPConfig{Expire: tc.value}
		if days, never := p.ExpireDays(); days != tc.days || never != tc.never {
			t.Errorf("ExpireDays(%q) = %d, %v; want %d, %v", tc.value, days, never, tc.days, tc.never)
		}
		if err == nil {
			if days, never := c.POP.ExpireDays(); days != tc.days || never != tc.never {
				t.Errorf("parsed Expire: %q: ExpireDays = %d, %v", tc.value, days, never)
			}
		}
	}
}
