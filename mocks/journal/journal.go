package journal

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"sync"
	"time"
)

// Entry is one effect a mock observed or performed.
//
// Kind is a dotted name owned by the mock ("referral.created",
// "referral.cancelled", "request.faulted"). Keys carry correlation keys that
// checks join on ("ubrn", "nhs_number", "correlation_id"); Attrs carry any
// other detail worth showing to a reviewer.
type Entry struct {
	Seq     int64             `json:"seq"`
	Time    time.Time         `json:"time"`
	Service string            `json:"service"`
	Kind    string            `json:"kind"`
	Keys    map[string]string `json:"keys,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// Journal is a concurrency-safe, append-only list of entries. The zero value
// is not usable; call New.
type Journal struct {
	service string
	now     func() time.Time

	mu      sync.Mutex
	entries []Entry
	sinks   []io.Writer
}

// New returns an empty journal for service. now defaults to time.Now and
// should return times with a monotonic reading so the harness can place
// entries on its run clock.
func New(service string, now func() time.Time) *Journal {
	if now == nil {
		now = time.Now
	}
	return &Journal{service: service, now: now}
}

// Service names the mocked service this journal belongs to.
func (j *Journal) Service() string { return j.service }

// Stream makes every later entry also be written to w as one JSON line.
// Write errors are returned by the Record call that hit them.
func (j *Journal) Stream(w io.Writer) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sinks = append(j.sinks, w)
}

// Record appends an entry stamped with the journal's clock and returns it.
// The journal keeps its own copies of keys and attrs.
func (j *Journal) Record(kind string, keys, attrs map[string]string) (Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := Entry{
		Seq:     int64(len(j.entries) + 1),
		Time:    j.now(),
		Service: j.service,
		Kind:    kind,
		Keys:    maps.Clone(keys),
		Attrs:   maps.Clone(attrs),
	}
	j.entries = append(j.entries, e)
	e = e.clone()
	for _, w := range j.sinks {
		b, err := json.Marshal(e)
		if err != nil {
			return e, fmt.Errorf("journal %s: encode entry %d: %w", j.service, e.Seq, err)
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return e, fmt.Errorf("journal %s: write entry %d: %w", j.service, e.Seq, err)
		}
	}
	return e, nil
}

// Entries returns a copy of every entry so far, in the order recorded.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, len(j.entries))
	for i, e := range j.entries {
		out[i] = e.clone()
	}
	return out
}

// clone returns e with its own copies of Keys and Attrs, so that nobody
// outside the journal can rewrite a recorded entry.
func (e Entry) clone() Entry {
	e.Keys = maps.Clone(e.Keys)
	e.Attrs = maps.Clone(e.Attrs)
	return e
}

// Count returns how many entries of kind have been recorded.
func (j *Journal) Count(kind string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, e := range j.entries {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
