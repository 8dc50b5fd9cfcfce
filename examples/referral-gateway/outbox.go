package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// state is where a referral is in its journey to e-RS.
type state string

const (
	// stateQueued: durably accepted; not in e-RS (nothing sent, or every
	// send so far was clearly refused or reconciled as absent).
	stateQueued state = "queued"
	// stateSending: a createReferral is in flight. Never seen on disk after a
	// restart: it becomes uncertain.
	stateSending state = "sending"
	// stateUncertain: a send may have reached e-RS; reconcile before
	// sending again.
	stateUncertain state = "uncertain"
	// stateCreated: e-RS holds the referral; ubrn is known.
	stateCreated state = "created"
	// stateFailed: e-RS refused the referral; it will not be sent again.
	stateFailed state = "failed"
)

// recordVersion is the on-disk format version.
const recordVersion = 1

// record is one referral in the outbox, exactly as it is stored on disk.
type record struct {
	Version   int      `json:"version"`
	RequestID string   `json:"requestId"`
	Referral  referral `json:"referral"`
	State     state    `json:"state"`
	UBRN      string   `json:"ubrn,omitempty"`
	// AcceptedAt is when the gateway answered 202; it is also sent as the
	// eReferralPathwayStart, so every send of one referral is identical.
	AcceptedAt time.Time `json:"acceptedAt"`
	Attempts   int       `json:"attempts"`
	// FirstAttemptAt is when the first createReferral started; a referral
	// for this patient created at or after it (less clock skew) is ours.
	FirstAttemptAt time.Time `json:"firstAttemptAt,omitzero"`
	// LastAttemptAt is when the latest createReferral started.
	LastAttemptAt time.Time `json:"lastAttemptAt,omitzero"`
	LastError     string    `json:"lastError,omitempty"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// entry is the in-memory copy of one record. mu serialises changes so that
// memory never runs ahead of disk.
type entry struct {
	mu      sync.Mutex
	rec     record
	aborted bool // the first write failed; the entry is not in the outbox
}

func (e *entry) snapshot() record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rec
}

// outbox is the durable store: one JSON file per referral in dir.
type outbox struct {
	dir string
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

// openOutbox loads (or creates) the outbox in stateDir/outbox. A record left
// in state sending by a process that died mid-send becomes uncertain.
func openOutbox(stateDir string, log *slog.Logger) (*outbox, error) {
	dir := filepath.Join(stateDir, "outbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating outbox directory: %w", err)
	}
	o := &outbox{dir: dir, log: log, now: time.Now, entries: map[string]*entry{}}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	for _, de := range names {
		name := de.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			// An unfinished write: the rename never happened, so the
			// record it was replacing (if any) is intact.
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("removing unfinished write %s: %w", path, err)
			}
			continue
		case !strings.HasSuffix(name, ".json") || de.IsDir():
			continue
		}
		rec, err := readRecord(path)
		if err != nil || fileName(rec.RequestID) != name {
			if err == nil {
				err = fmt.Errorf("file name does not match requestId %q", rec.RequestID)
			}
			// Keep it for a human rather than silently dropping a referral.
			aside := path + ".corrupt"
			log.Error("outbox record unreadable; moved aside, referral NOT being sent",
				"file", path, "moved_to", aside, "err", err)
			if rerr := os.Rename(path, aside); rerr != nil {
				return nil, fmt.Errorf("moving aside unreadable record %s: %w", path, rerr)
			}
			continue
		}
		e := &entry{rec: rec}
		if rec.State == stateSending {
			if err := o.update(e, func(r *record) {
				r.State = stateUncertain
				r.LastError = "gateway stopped while a send was in flight; it may have reached e-RS"
			}); err != nil {
				return nil, err
			}
		}
		o.entries[rec.RequestID] = e
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return o, nil
}

func readRecord(path string) (record, error) {
	var rec record
	b, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, err
	}
	if rec.Version != recordVersion {
		return rec, fmt.Errorf("record version %d, this gateway reads %d", rec.Version, recordVersion)
	}
	switch rec.State {
	case stateQueued, stateSending, stateUncertain, stateCreated, stateFailed:
	default:
		return rec, fmt.Errorf("unknown state %q", rec.State)
	}
	return rec, nil
}

// fileName names a request's record: requestIds are the caller's, so they
// are hashed rather than trusted as file names.
func fileName(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return hex.EncodeToString(sum[:]) + ".json"
}

// add durably stores a new referral in state queued, or returns the existing
// entry for its requestId (created=false). It returns only once the record is
// on disk.
func (o *outbox) add(ref referral) (e *entry, created bool, err error) {
	for {
		o.mu.Lock()
		if existing, ok := o.entries[ref.RequestID]; ok {
			o.mu.Unlock()
			// Wait for a concurrent first write of the same requestId.
			existing.mu.Lock()
			aborted := existing.aborted
			existing.mu.Unlock()
			if aborted {
				continue
			}
			return existing, false, nil
		}
		now := o.now().UTC()
		e = &entry{}
		e.mu.Lock()
		o.entries[ref.RequestID] = e
		o.mu.Unlock()

		rec := record{
			Version:    recordVersion,
			RequestID:  ref.RequestID,
			Referral:   ref,
			State:      stateQueued,
			AcceptedAt: now,
			UpdatedAt:  now,
		}
		if err := o.write(rec); err != nil {
			e.aborted = true
			o.mu.Lock()
			delete(o.entries, ref.RequestID)
			o.mu.Unlock()
			e.mu.Unlock()
			return nil, false, err
		}
		e.rec = rec
		e.mu.Unlock()
		return e, true, nil
	}
}

// get returns the entry for requestID, or nil.
func (o *outbox) get(requestID string) *entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.entries[requestID]
}

// all returns every entry, oldest accepted first.
func (o *outbox) all() []*entry {
	o.mu.Lock()
	es := make([]*entry, 0, len(o.entries))
	for _, e := range o.entries {
		es = append(es, e)
	}
	o.mu.Unlock()
	snaps := make(map[*entry]record, len(es))
	for _, e := range es {
		snaps[e] = e.snapshot()
	}
	sort.Slice(es, func(i, j int) bool {
		a, b := snaps[es[i]], snaps[es[j]]
		if !a.AcceptedAt.Equal(b.AcceptedAt) {
			return a.AcceptedAt.Before(b.AcceptedAt)
		}
		return a.RequestID < b.RequestID
	})
	return es
}

// update applies fn to a copy of e's record, writes it durably, and only
// then makes it e's record. On error e is unchanged.
func (o *outbox) update(e *entry, fn func(*record)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.rec
	fn(&rec)
	rec.UpdatedAt = o.now().UTC()
	if err := o.write(rec); err != nil {
		return err
	}
	e.rec = rec
	return nil
}

// record applies fn to e's record in memory even if it cannot be written to
// disk, and returns the write error. It is for outcomes that have already
// happened (an answer from e-RS): memory must show them, and what is on disk
// ("sending") is still safe after a restart, which treats it as uncertain.
func (o *outbox) record(e *entry, fn func(*record)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(&e.rec)
	e.rec.UpdatedAt = o.now().UTC()
	return o.write(e.rec)
}

// write replaces the record's file atomically and durably: temp file, fsync,
// rename, fsync of the directory.
func (o *outbox) write(rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(o.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("outbox write: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", rec.RequestID, err)
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", rec.RequestID, err)
	}
	if err := os.Rename(tmp, filepath.Join(o.dir, fileName(rec.RequestID))); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", rec.RequestID, err)
	}
	return syncDir(o.dir)
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("outbox fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("outbox fsync %s: %w", dir, err)
	}
	return nil
}
