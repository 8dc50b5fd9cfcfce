package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// state is where a result is on its way to MESH.
type state string

const (
	stateQueued    state = "queued"    // stored and ACKed, not yet sent
	stateSending   state = "sending"   // a POST may be in flight
	stateUncertain state = "uncertain" // a POST may have reached MESH: track before sending again
	stateSent      state = "sent"      // MESH has it (MessageID)
	stateFailed    state = "failed"    // MESH refused it for good; needs a person
)

const recordVersion = 1

// record is one result in the outbox, one file per MSH-10.
type record struct {
	Version    int       `json:"version"`
	MSH10      string    `json:"msh10"`
	BundleID   string    `json:"bundleId"`
	Subject    string    `json:"subject"`
	Bundle     []byte    `json:"bundle"`
	State      state     `json:"state"`
	MessageID  string    `json:"messageId,omitempty"`
	Attempts   int       `json:"attempts"`
	Resends    int       `json:"resends"` // lab resends of this MSH-10 answered from the outbox
	AcceptedAt time.Time `json:"acceptedAt"`
	LastError  string    `json:"lastError,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

func (r record) result() *result {
	return &result{MSH10: r.MSH10, BundleID: r.BundleID, Subject: r.Subject, Bundle: r.Bundle}
}

// outbox is the durable store: every write is a temp file, fsync, rename
// and a directory fsync, so a crash leaves the old or the new record whole.
type outbox struct {
	dir string
	log *slog.Logger

	mu   sync.Mutex
	recs map[string]record
}

func openOutbox(stateDir string, log *slog.Logger) (*outbox, error) {
	dir := filepath.Join(stateDir, "outbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating outbox directory: %w", err)
	}
	o := &outbox{dir: dir, log: log, recs: map[string]record{}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	for _, de := range des {
		name, path := de.Name(), filepath.Join(dir, de.Name())
		if strings.HasPrefix(name, ".tmp-") {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("removing unfinished write %s: %w", path, err)
			}
			continue
		}
		if de.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		var rec record
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &rec)
		}
		if err == nil && (rec.Version != recordVersion || fileName(rec.MSH10) != name) {
			err = fmt.Errorf("version %d or name does not match msh10 %q", rec.Version, rec.MSH10)
		}
		if err != nil {
			aside := path + ".corrupt"
			log.Error("outbox record unreadable; moved aside, result NOT being sent", "file", path, "moved_to", aside, "err", err)
			if rerr := os.Rename(path, aside); rerr != nil {
				return nil, fmt.Errorf("moving aside %s: %w", path, rerr)
			}
			continue
		}
		if rec.State == stateSending {
			// Stopped mid-send: the POST may have reached MESH.
			rec.State = stateUncertain
			rec.LastError = "router stopped while a send was in flight; it may have reached MESH"
			if err := o.write(rec); err != nil {
				return nil, err
			}
		}
		o.recs[rec.MSH10] = rec
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return o, nil
}

func fileName(msh10 string) string {
	sum := sha256.Sum256([]byte(msh10))
	return hex.EncodeToString(sum[:]) + ".json"
}

// add stores r durably unless its MSH-10 is already there. It reports
// whether it was new.
func (o *outbox) add(r *result, now time.Time) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if rec, ok := o.recs[r.MSH10]; ok {
		rec.Resends++
		rec.UpdatedAt = now
		if err := o.write(rec); err == nil {
			o.recs[r.MSH10] = rec
		}
		return false, nil
	}
	rec := record{
		Version: recordVersion, MSH10: r.MSH10, BundleID: r.BundleID, Subject: r.Subject, Bundle: r.Bundle,
		State: stateQueued, AcceptedAt: now, UpdatedAt: now,
	}
	if err := o.write(rec); err != nil {
		return false, err
	}
	o.recs[r.MSH10] = rec
	return true, nil
}

// update changes one record durably; on a write error memory is unchanged.
func (o *outbox) update(msh10 string, now time.Time, fn func(*record)) (record, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	rec := o.recs[msh10]
	fn(&rec)
	rec.UpdatedAt = now
	if err := o.write(rec); err != nil {
		return o.recs[msh10], err
	}
	o.recs[msh10] = rec
	return rec, nil
}

// next is the oldest record still to send, if any.
func (o *outbox) next() (record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var todo []record
	for _, r := range o.recs {
		if r.State == stateQueued || r.State == stateUncertain || r.State == stateSending {
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return record{}, false
	}
	sort.Slice(todo, func(i, j int) bool {
		if !todo[i].AcceptedAt.Equal(todo[j].AcceptedAt) {
			return todo[i].AcceptedAt.Before(todo[j].AcceptedAt)
		}
		return todo[i].MSH10 < todo[j].MSH10
	})
	return todo[0], true
}

func (o *outbox) count(states ...state) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.recs {
		for _, s := range states {
			if r.State == s {
				n++
			}
		}
	}
	return n
}

func (o *outbox) get(msh10 string) (record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.recs[msh10]
	return r, ok
}

func (o *outbox) write(rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(o.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("outbox write: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", rec.MSH10, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", rec.MSH10, err)
	}
	if err := os.Rename(tmp, filepath.Join(o.dir, fileName(rec.MSH10))); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", rec.MSH10, err)
	}
	return syncDir(o.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
