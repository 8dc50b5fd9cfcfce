package record

import "time"

// Evidence is what a fault window did to traffic. Counts are deltas over the
// window.
type Evidence struct {
	// Connections accepted by the faulted service's mock (they crossed the
	// proxy) during the window.
	Connections int64 `json:"connections"`
	// BytesIn and BytesOut crossed the mock's listener during the window.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// Requests the faulted mock received during the window.
	Requests int64 `json:"requests"`
	// Faulted is how many requests an in-band fault actually hit.
	Faulted int64 `json:"faulted"`
	// Operations is how many workload operations were in flight (intended or
	// running) during the window.
	Operations int64 `json:"operations"`
	// Affected is how many of those operations did not end OK.
	Affected int64 `json:"affected"`
	// Notes say in words how the evidence was judged.
	Notes []string `json:"notes,omitempty"`
}

// FaultWindow is one entry of the fault timeline as it actually happened.
type FaultWindow struct {
	Index  int               `json:"index"`
	Name   string            `json:"name"`
	Kind   string            `json:"kind"`
	Target string            `json:"target"`
	Params map[string]string `json:"params,omitempty"`
	// Start and End are the planned window; End == Start for instantaneous
	// faults such as a crash without restart.
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	// Injected is when the harness began applying the fault (it may take
	// effect at any moment while being applied); Reverted is when undoing it
	// finished (zero if it never was). The window is attributed
	// conservatively: everything between the two was exposed to the fault.
	Injected time.Duration `json:"injected"`
	Reverted time.Duration `json:"reverted"`
	Evidence Evidence      `json:"evidence"`
	// Touched says whether the fault demonstrably affected traffic.
	Touched bool   `json:"touched"`
	Error   string `json:"error,omitempty"`
}

// Contains reports whether offset t falls inside the actual window.
func (w FaultWindow) Contains(t time.Duration) bool {
	end := w.Reverted
	if end == 0 {
		end = w.End
	}
	return t >= w.Injected && t < end
}
