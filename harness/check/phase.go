package check

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Phases name parts of a run by where an operation's intended send time
// falls against the fault windows. A window runs from when the fault was
// injected to when it was reverted; if either was never recorded the planned
// start or end stands in.
const (
	// PhaseAll is every operation.
	PhaseAll = "all"
	// PhaseSteady is every operation outside all fault windows.
	PhaseSteady = "steady"
	// PhaseBeforeFaults is before the first fault began. With no faults at
	// all, the whole run is before them.
	PhaseBeforeFaults = "before-faults"
	// PhaseDuringFaults is inside any fault window.
	PhaseDuringFaults = "during-faults"
	// PhaseAfterFaults is at or after the last fault ended. With no faults,
	// nothing is after them.
	PhaseAfterFaults = "after-faults"
	// PhaseFaultPrefix + N (e.g. "fault-2") is inside the window whose Index
	// is N, counted from 1 in timeline order.
	PhaseFaultPrefix = "fault-"
)

// ValidatePhase reports whether phase names a phase.
func ValidatePhase(phase string) error {
	switch phase {
	case PhaseAll, PhaseSteady, PhaseBeforeFaults, PhaseDuringFaults, PhaseAfterFaults:
		return nil
	}
	if n, ok := faultPhase(phase); ok {
		if n < 1 {
			return fmt.Errorf("phase %q: faults are numbered from 1 in timeline order", phase)
		}
		return nil
	}
	return fmt.Errorf("unknown phase %q: want one of %s, %s, %s, %s, %s or fault-N (N counting the timeline's faults from 1)",
		phase, PhaseAll, PhaseSteady, PhaseBeforeFaults, PhaseDuringFaults, PhaseAfterFaults)
}

func faultPhase(phase string) (int, bool) {
	rest, ok := strings.CutPrefix(phase, PhaseFaultPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil {
		return 0, false
	}
	return n, true
}

// window is a fault window's actual span, [start, end).
type window struct {
	index      int
	start, end time.Duration
}

func spanOf(w record.FaultWindow) window {
	start, end := w.Injected, w.Reverted
	if start == 0 {
		start = w.Start
	}
	if end == 0 {
		end = w.End
	}
	if end < start {
		end = start
	}
	return window{index: w.Index, start: start, end: end}
}

func (w window) contains(t time.Duration) bool { return t >= w.start && t < w.end }

// PhaseOps returns the operations of in that belong to phase, in their
// recorded order. An operation belongs to a fault window when its lifetime,
// from its intended send time to its return, overlaps the window: a request
// due a microsecond before a fault was injected but answered under it was
// exposed to the fault, so it is never counted as steady. "before-faults" are
// operations that returned before the first fault; "after-faults" those due
// after the last one ended. An unknown phase, or a fault-N with no such
// fault, gives none.
func PhaseOps(in *Input, phase string) []record.Operation {
	spans := make([]window, 0, len(in.Faults))
	for _, f := range in.Faults {
		spans = append(spans, spanOf(f))
	}
	overlaps := func(op record.Operation, w window) bool {
		return op.Intended < w.end && max(op.Return, op.Intended) >= w.start
	}
	inAny := func(op record.Operation) bool {
		return slices.ContainsFunc(spans, func(w window) bool { return overlaps(op, w) })
	}

	var keep func(op record.Operation) bool
	switch phase {
	case PhaseAll:
		keep = func(record.Operation) bool { return true }
	case PhaseSteady:
		keep = func(op record.Operation) bool { return !inAny(op) }
	case PhaseDuringFaults:
		keep = inAny
	case PhaseBeforeFaults:
		if len(spans) == 0 {
			keep = func(record.Operation) bool { return true }
			break
		}
		first := slices.MinFunc(spans, func(a, b window) int { return cmp.Compare(a.start, b.start) }).start
		keep = func(op record.Operation) bool { return max(op.Return, op.Intended) < first }
	case PhaseAfterFaults:
		if len(spans) == 0 {
			return nil
		}
		last := slices.MaxFunc(spans, func(a, b window) int { return cmp.Compare(a.end, b.end) }).end
		keep = func(op record.Operation) bool { return op.Intended >= last }
	default:
		n, ok := faultPhase(phase)
		if !ok {
			return nil
		}
		i := slices.IndexFunc(spans, func(w window) bool { return w.index == n })
		if i < 0 {
			return nil
		}
		keep = func(op record.Operation) bool { return overlaps(op, spans[i]) }
	}

	var out []record.Operation
	for _, op := range in.Operations {
		if keep(op) {
			out = append(out, op)
		}
	}
	return out
}

// describePhase puts a phase in words for a reviewer.
func describePhase(phase string) string {
	switch phase {
	case PhaseAll:
		return "across the whole run"
	case PhaseSteady:
		return "outside the fault windows (steady)"
	case PhaseBeforeFaults:
		return "before the first fault"
	case PhaseDuringFaults:
		return "while a fault was active"
	case PhaseAfterFaults:
		return "after the last fault ended"
	}
	if n, ok := faultPhase(phase); ok {
		return fmt.Sprintf("during fault %d of the timeline", n)
	}
	return "in phase " + phase
}

// PhaseStats summarises a set of operations. Latency percentiles are
// nearest-rank over Return − Intended, so each is a latency some operation
// actually had.
type PhaseStats struct {
	Count   int           `json:"count"`
	OK      int           `json:"ok"`
	Fail    int           `json:"fail"`
	Unknown int           `json:"unknown"`
	P50     time.Duration `json:"p50"`
	P95     time.Duration `json:"p95"`
	P99     time.Duration `json:"p99"`
	Max     time.Duration `json:"max"`
}

// Stats computes PhaseStats over ops. Latencies are zero when ops is empty.
func Stats(ops []record.Operation) PhaseStats {
	s := PhaseStats{Count: len(ops)}
	lat := make([]time.Duration, 0, len(ops))
	for _, op := range ops {
		switch op.Outcome {
		case record.OK:
			s.OK++
		case record.Fail:
			s.Fail++
		default:
			s.Unknown++
		}
		lat = append(lat, op.Latency())
	}
	slices.Sort(lat)
	s.P50 = percentile(lat, 50)
	s.P95 = percentile(lat, 95)
	s.P99 = percentile(lat, 99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	return s
}

// percentile is the nearest-rank percentile of sorted: the smallest value
// with at least p% of the values at or below it (rank ⌈p/100 × n⌉).
func percentile(sorted []time.Duration, p int) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := (p*n + 99) / 100
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// ErrorRate is the fraction of operations that did not end OK (0 when empty).
func (s PhaseStats) ErrorRate() float64 {
	if s.Count == 0 {
		return 0
	}
	return float64(s.Fail+s.Unknown) / float64(s.Count)
}
