package queue

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
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

// disk is the queue directory of older versions, which kept each
// message in two files: msg/ID (the message) and env/ID (its envelope,
// JSON). New moves what it finds there into the store (importDir).
type disk struct{ dir string }

func (d disk) msgPath(id string) string { return filepath.Join(d.dir, "msg", id) }
func (d disk) envPath(id string) string { return filepath.Join(d.dir, "env", id) }

// newID returns a fresh, file-name-safe queue id.
func newID(now time.Time) string {
	return now.UTC().Format("20060102T150405") + "-" + strings.ToLower(rand.Text()[:10])
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

// importDir moves the messages an older version left in files under
// opts.Dir into the store, each added before its files are removed, so a
// crash in between leaves a message in both places, which the next start
// finds already in the store and only removes from the files.
func (q *Queue) importDir(ctx context.Context) error {
	d := disk{q.opts.Dir}
	if _, err := os.Stat(filepath.Join(d.dir, "env")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	envs, errs := d.load()
	for _, err := range errs {
		q.opts.Logger.Warn("queue recovery", "err", err)
	}
	if len(envs) == 0 {
		return nil
	}
	list, err := q.store.QueueList(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, m := range list {
		have[m.ID] = true
	}
	for _, e := range envs {
		if !have[e.ID] {
			if err := q.importOne(ctx, d, e); err != nil {
				return fmt.Errorf("move queued message %s into the store: %w", e.ID, err)
			}
		}
		if err := d.remove(e.ID); err != nil {
			return err
		}
	}
	q.opts.Logger.Info("queue files moved into the store", "messages", len(envs), "dir", d.dir)
	return nil
}

func (q *Queue) importOne(ctx context.Context, d disk, e *envelope) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.Open(d.msgPath(e.ID))
	if err != nil {
		return err
	}
	defer f.Close()
	return q.store.QueueAdd(ctx, store.QueuedMessage{ID: e.ID, Created: e.Created, NextAttempt: e.NextAttempt, Envelope: b}, f)
}
