package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	fs2 "io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/source"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/server"
)

// serveFlags are serve's flags: --config, and the hidden --upgrade-fd an
// upgrading supervisor passes to the new one (docs/supervisor.md).
func serveFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	return fs.Int("upgrade-fd", 0, "(set by postern ctl upgrade) the descriptor to report readiness on")
}

func runServe(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	l, err := loadConfig(env, configPath(fs))
	if err != nil {
		return err
	}
	opts := app.ServeOptions{
		Config:     l.cfg,
		ConfigPath: l.path,
		Quickstart: l.quickstart,
		Stdout:     env.Stdout,
		Stderr:     env.Stderr,
		Environ:    env.Environ,
	}
	if fd := intFlag(fs, "upgrade-fd"); fd > 2 {
		opts.UpgradeLink = os.NewFile(uintptr(fd), "upgrade-link")
	}
	return app.Serve(ctx, opts)
}

// workerFlags are the hidden worker command's flags, set by serve.
func workerFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.Int("generation", 1, "worker generation")
	fs.Int("link-fd", 0, "descriptor of the link to the supervisor")
	fs.Int("file-reader-fd", 0, "descriptor of the certificate reader")
	fs.Int("system-accounts-fd", 0, "descriptor of the system account source's helper")
	fs.String("control", "", "the worker's control socket")
	fs.Bool("first", false, "the first worker: banner and START event")
	fs.String("notice", "", "a failure notice file to send")
	fs.Int("verifier-fd", 0, "descriptor of the supervisor's password verifier")
	fs.Int("admission-fd", 0, "descriptor of the supervisor's admission tables")
	return nil
}

// runWorker runs one worker process of `postern serve`. After the drop to
// Run-As-User the configuration file may be readable only by root; the
// worker then reads it through the supervisor's privileged reader, as a
// reload does.
func runWorker(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	var fr *server.FileReader
	if fd := intFlag(fs, "file-reader-fd"); fd > 2 {
		fr = server.NewFileReaderConn(os.NewFile(uintptr(fd), "file-reader"))
	}
	l, err := loadConfig(env, configPath(fs))
	if errors.Is(err, fs2.ErrPermission) && fr != nil && configPath(fs) != "" {
		l, err = loadConfigVia(env, fr, configPath(fs))
	}
	if err != nil {
		return err
	}
	w := &app.WorkerOptions{
		Generation: intFlag(fs, "generation"),
		First:      fs.Lookup("first").Value.String() == "true",
		Link:       os.NewFile(uintptr(intFlag(fs, "link-fd")), "worker-link"),
		Control:    fs.Lookup("control").Value.String(),
		Notice:     fs.Lookup("notice").Value.String(),
		FileReader: fr,
	}
	if fd := intFlag(fs, "verifier-fd"); fd > 2 {
		// A net.Conn (non-blocking), so that the client's reader and its
		// writers do not hold each other up.
		if c, err := net.FileConn(os.NewFile(uintptr(fd), "verifier")); err == nil {
			w.Verifier = auth.NewVerifierClient(c)
		}
	}
	if fd := intFlag(fs, "admission-fd"); fd > 2 {
		w.Admission = admission.NewTableClient(os.NewFile(uintptr(fd), "admission"))
	}
	if fd := intFlag(fs, "system-accounts-fd"); fd > 2 {
		// Non-blocking, so that each question has a deadline.
		syscall.SetNonblock(fd, true)
		w.SystemAccounts = source.NewSystemHelper(os.NewFile(uintptr(fd), "system-accounts"))
	}
	return app.Serve(ctx, app.ServeOptions{
		Config: l.cfg, ConfigPath: l.path, Quickstart: l.quickstart,
		Stdout: env.Stdout, Stderr: env.Stderr, Environ: env.Environ, Worker: w,
	})
}

// loadConfigVia reads the configuration file at path through fr.
func loadConfigVia(env *Env, fr *server.FileReader, path string) (*loaded, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, _, err := fr.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(path, bytes.NewReader(data), env.Environ())
	if err != nil {
		return nil, err
	}
	return &loaded{cfg: cfg, path: path}, nil
}
