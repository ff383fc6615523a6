package queue

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Recipient states.
const (
	statePending = "pending"
	stateDone    = "delivered"
	stateFailed  = "failed"
)

// envelope is the persistent state of one queued message.
type envelope struct {
	ID            string       `json:"id"`
	From          string       `json:"from"`
	Created       time.Time    `json:"created"`
	Size          int64        `json:"size"`
	Attempts      int          `json:"attempts"`
	NextAttempt   time.Time    `json:"next_attempt"`
	DelayNotified bool         `json:"delay_notified,omitempty"`
	Rcpts         []*rcptState `json:"rcpts"`
	// RFC 3461 parameters of MAIL: RET (FULL or HDRS, "" unset) and
	// ENVID (decoded).
	Ret   string `json:"ret,omitempty"`
	EnvID string `json:"envid,omitempty"`
}

type rcptState struct {
	Addr      string    `json:"addr"`
	State     string    `json:"state"`
	LastError string    `json:"last_error,omitempty"`
	Status    string    `json:"status,omitempty"` // enhanced status of the last failure, e.g. 5.1.1
	Reported  bool      `json:"reported,omitempty"`
	Updated   time.Time `json:"updated"`
	// RFC 3461 parameters of RCPT: NOTIFY (NEVER, or some of SUCCESS,
	// FAILURE, DELAY; none: FAILURE and DELAY, §4.1) and ORCPT
	// ("type;address", decoded).
	Notify []string `json:"notify,omitempty"`
	ORcpt  string   `json:"orcpt,omitempty"`
}

// wants reports whether the recipient asked for notices of kind
// (SUCCESS, FAILURE, DELAY): without NOTIFY, failures and delays
// (RFC 3461 §4.1).
func (r *rcptState) wants(kind string) bool {
	if len(r.Notify) == 0 {
		return kind != "SUCCESS"
	}
	for _, n := range r.Notify {
		if n == kind {
			return true
		}
	}
	return false
}

func (e *envelope) pending() []*rcptState {
	var out []*rcptState
	for _, r := range e.Rcpts {
		if r.State == statePending {
			out = append(out, r)
		}
	}
	return out
}

// finished reports whether nothing remains to deliver or report.
func (e *envelope) finished() bool {
	for _, r := range e.Rcpts {
		if r.State == statePending || (r.State == stateFailed && !r.Reported && e.From != "") {
			return false
		}
	}
	return true
}

// disk is the queue directory.
type disk struct{ dir string }

func (d disk) msgPath(id string) string { return filepath.Join(d.dir, "msg", id) }
func (d disk) envPath(id string) string { return filepath.Join(d.dir, "env", id) }

func (d disk) init() error {
	for _, sub := range []string{"msg", "env", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o700); err != nil {
			return fmt.Errorf("create queue directory: %w", err)
		}
	}
	return nil
}

// newID returns a fresh, file-name-safe queue id.
func newID(now time.Time) string {
	return now.UTC().Format("20060102T150405") + "-" + strings.ToLower(rand.Text()[:10])
}

// writeMessage stores content as msg/id, durably.
func (d disk) writeMessage(id string, content io.Reader) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), id+".msg-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, content)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.msgPath(id))
	}
	if err == nil {
		err = syncDir(filepath.Join(d.dir, "msg"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("write queued message: %w", err)
	}
	return n, nil
}

// writeEnvelope replaces env/ID atomically and durably.
func (d disk) writeEnvelope(e *envelope) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), e.ID+".env-*")
	if err != nil {
		return fmt.Errorf("write envelope: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.envPath(e.ID))
	}
	if err == nil {
		err = syncDir(filepath.Join(d.dir, "env"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write envelope %s: %w", e.ID, err)
	}
	return nil
}

// remove deletes a message: the envelope first, so that a crash leaves at
// worst an orphan message file, which load removes.
func (d disk) remove(id string) error {
	if err := os.Remove(d.envPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	syncDir(filepath.Join(d.dir, "env"))
	if err := os.Remove(d.msgPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// load reads every envelope and removes debris: temporary files and
// message files without an envelope (crashes before the 250).
func (d disk) load() ([]*envelope, []error) {
	var errs []error
	tmps, _ := os.ReadDir(filepath.Join(d.dir, "tmp"))
	for _, t := range tmps {
		os.Remove(filepath.Join(d.dir, "tmp", t.Name()))
	}
	envs, err := os.ReadDir(filepath.Join(d.dir, "env"))
	if err != nil {
		return nil, []error{err}
	}
	have := map[string]bool{}
	var out []*envelope
	for _, de := range envs {
		b, err := os.ReadFile(d.envPath(de.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e := &envelope{}
		if err := json.Unmarshal(b, e); err != nil || e.ID != de.Name() {
			errs = append(errs, fmt.Errorf("envelope %s is damaged; left in place: %v", de.Name(), err))
			have[de.Name()] = true
			continue
		}
		if _, err := os.Stat(d.msgPath(e.ID)); err != nil {
			errs = append(errs, fmt.Errorf("envelope %s has no message file; removed", e.ID))
			os.Remove(d.envPath(e.ID))
			continue
		}
		have[e.ID] = true
		out = append(out, e)
	}
	msgs, _ := os.ReadDir(filepath.Join(d.dir, "msg"))
	for _, m := range msgs {
		if !have[m.Name()] {
			os.Remove(d.msgPath(m.Name()))
		}
	}
	return out, errs
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
