package pathology

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Kind names an in-band pathology fault. Receiver kinds act on the
// Listener, sender kinds on the Lab.
type Kind string

const (
	// WithholdACK: the listener processes (and journals) the message but
	// never answers it, so the sender times out and resends.
	WithholdACK Kind = "withhold-ack"
	// LateACK: the listener answers only after Spec.Delay (longer than the
	// sender's ACK timeout), while it goes on reading, so the late ACK can
	// be taken for the next message's.
	LateACK Kind = "late-ack"
	// ErrorACK: the listener answers AE (application error) instead.
	ErrorACK Kind = "error-ack"
	// RejectACK: the listener answers AR (reject) instead.
	RejectACK Kind = "reject-ack"

	// Burst: the lab sends the same message Spec.Times times back to back.
	Burst Kind = "burst"
	// SilentDrop: the lab never sends the message but records it as sent.
	SilentDrop Kind = "silent-drop"
	// Backlog: while active the lab holds every result (an outage); when the
	// fault is removed it sends the whole backlog at once, as fast as the
	// receiver acknowledges.
	Backlog Kind = "backlog"
)

// ReceiverKinds and SenderKinds list the kinds each side implements.
var (
	ReceiverKinds = []Kind{WithholdACK, LateACK, ErrorACK, RejectACK}
	SenderKinds   = []Kind{Burst, SilentDrop, Backlog}
)

// Spec describes one in-band fault.
type Spec struct {
	Kind Kind `json:"kind"`
	// Delay is how late a LateACK answers.
	Delay time.Duration `json:"delay,omitempty"`
	// Times is how many copies a Burst sends (at least 2; 0 means 2).
	Times int `json:"times,omitempty"`
	// Text is the ERR text of an ErrorACK or RejectACK.
	Text string `json:"text,omitempty"`
	// Fraction of messages to fault, in (0,1]; zero means all.
	Fraction float64 `json:"fraction,omitempty"`
	// Seed drives the per-message choice when Fraction < 1.
	Seed uint64 `json:"seed,omitempty"`
}

// Validate reports what is wrong with s for a side that implements kinds.
func (s Spec) validate(kinds []Kind) error {
	var errs []error
	if !slices.Contains(kinds, s.Kind) {
		errs = append(errs, fmt.Errorf("fault kind %q is not implemented here (known: %v)", s.Kind, kinds))
	}
	if s.Kind == LateACK && s.Delay <= 0 {
		errs = append(errs, errors.New("late-ack needs a positive delay (longer than the sender's ACK timeout)"))
	}
	if s.Delay < 0 {
		errs = append(errs, fmt.Errorf("delay must not be negative, got %v", s.Delay))
	}
	if s.Times < 0 || s.Times == 1 {
		errs = append(errs, fmt.Errorf("times must be 2 or more (0 means 2), got %d", s.Times))
	}
	if math.IsNaN(s.Fraction) || s.Fraction < 0 || s.Fraction > 1 {
		errs = append(errs, fmt.Errorf("fraction must be within 0..1, got %v", s.Fraction))
	}
	return errors.Join(errs...)
}

type activeFault struct {
	id     string
	spec   Spec
	rng    *rand.Rand
	counts inband.Counts
}

// Faults holds the in-band faults active on one side of the feed, with the
// same semantics as inband.Controller (which is HTTP-shaped, so MLLP needs
// its own): Add returns an id, Remove returns the fault's counts, every
// fault counts the messages it saw while active and the ones it faulted,
// and a fault with Fraction < 1 chooses per message from its own seed.
type Faults struct {
	kinds []Kind

	mu      sync.Mutex
	next    int
	faults  []*activeFault
	total   inband.Counts
	removed map[string]inband.Counts
	changed chan struct{}
}

func newFaults(kinds []Kind) *Faults {
	return &Faults{kinds: kinds, removed: map[string]inband.Counts{}, changed: make(chan struct{})}
}

// Add activates a fault and returns its id.
func (f *Faults) Add(s Spec) (string, error) {
	if err := s.validate(f.kinds); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	id := "f" + strconv.Itoa(f.next)
	f.faults = append(f.faults, &activeFault{id: id, spec: s, rng: rand.New(rand.NewPCG(s.Seed, 0x7a7))})
	f.notifyLocked()
	return id, nil
}

// Remove deactivates a fault and returns its counts.
func (f *Faults) Remove(id string) (inband.Counts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.faults {
		if a.id == id {
			f.faults = slices.Delete(f.faults, i, i+1)
			f.removed[id] = a.counts
			f.notifyLocked()
			return a.counts, nil
		}
	}
	return inband.Counts{}, fmt.Errorf("no active fault %q", id)
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.faults {
		f.removed[a.id] = a.counts
	}
	f.faults = nil
	f.notifyLocked()
}

// Counts returns the counts of an active or removed fault.
func (f *Faults) Counts(id string) (inband.Counts, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.faults {
		if a.id == id {
			return a.counts, true
		}
	}
	c, ok := f.removed[id]
	return c, ok
}

// Total returns the counts summed over every fault ever added.
func (f *Faults) Total() inband.Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// Active returns the active faults by id.
func (f *Faults) Active() map[string]Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Spec, len(f.faults))
	for _, a := range f.faults {
		out[a.id] = a.spec
	}
	return maps.Clone(out)
}

func (f *Faults) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// watch returns a channel closed at the next Add, Remove or Clear.
func (f *Faults) watch() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// active reports whether a fault of kind is active, without counting.
func (f *Faults) active(kind Kind) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.faults {
		if a.spec.Kind == kind {
			return true
		}
	}
	return false
}

// pick counts one message against every active fault of the given kinds and
// returns the first that chooses to fault it.
func (f *Faults) pick(kinds ...Kind) (Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var chosen *activeFault
	for _, a := range f.faults {
		if !slices.Contains(kinds, a.spec.Kind) {
			continue
		}
		a.counts.Seen++
		f.total.Seen++
		if chosen != nil {
			continue
		}
		if a.spec.Fraction == 0 || a.spec.Fraction >= 1 || a.rng.Float64() < a.spec.Fraction {
			chosen = a
		}
	}
	if chosen == nil {
		return Spec{}, false
	}
	chosen.counts.Faulted++
	f.total.Faulted++
	return chosen.spec, true
}
