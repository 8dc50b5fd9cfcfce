package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Latency checks how long operations in a phase took, from their intended
// send time to their return (so time an operation spent waiting behind a
// stalled generator or SUT counts). Every outcome counts: a call that timed
// out kept the clinician waiting too.
//
// Percentiles are nearest-rank: p95 is the smallest latency that at least
// 95% of operations did not exceed, always a latency some operation had.
// Zero limits are not checked.
type Latency struct {
	Phase         string
	P50, P95, P99 time.Duration
}

// Name is the check's scenario name with its phase, e.g. "latency[steady]".
func (c Latency) Name() string { return fmt.Sprintf("%s[%s]", NameLatency, c.Phase) }

// Evaluate judges the run.
func (c Latency) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	ops := PhaseOps(in, c.Phase)
	where := describePhase(c.Phase)
	if len(ops) == 0 {
		v.Status = Inconclusive
		v.Message = fmt.Sprintf("No operations were sent %s, so their latency cannot be judged.", where)
		return v
	}
	s := Stats(ops)

	type limit struct {
		name          string
		bound, actual time.Duration
	}
	var measured, over []string
	for _, l := range []limit{{"p50", c.P50, s.P50}, {"p95", c.P95, s.P95}, {"p99", c.P99, s.P99}} {
		if l.bound <= 0 {
			continue
		}
		measured = append(measured, fmt.Sprintf("%s %s (limit %s)", l.name, human(l.actual), human(l.bound)))
		if l.actual > l.bound {
			over = append(over, fmt.Sprintf("%s latency was %s against a limit of %s", l.name, human(l.actual), human(l.bound)))
		}
	}
	v.Details = []string{
		fmt.Sprintf("Over %d %s %s: p50 %s, p95 %s, p99 %s, slowest %s; %d OK, %d refused, %d with no answer.",
			s.Count, plural(s.Count, "operation", "operations"), where,
			human(s.P50), human(s.P95), human(s.P99), human(s.Max), s.OK, s.Fail, s.Unknown),
		"Latency runs from when each request was due to be sent until its answer (or timeout); percentiles are nearest-rank.",
	}
	if c.P99 > 0 && s.Count < 100 {
		v.Details = append(v.Details, fmt.Sprintf("With fewer than 100 operations (%d), p99 is simply the slowest one.", s.Count))
	}
	if len(over) == 0 {
		v.Status = Pass
		v.Message = fmt.Sprintf("Latency %s was within its limits: %s, over %d %s.",
			where, strings.Join(measured, ", "), s.Count, plural(s.Count, "operation", "operations"))
		return v
	}
	v.Status = Fail
	v.Message = fmt.Sprintf("Latency %s was too high: %s, over %d %s.",
		where, strings.Join(over, "; "), s.Count, plural(s.Count, "operation", "operations"))
	v.Evidence = slowest(ops, MaxEvidence)
	return v
}

// slowest returns up to n operations with the highest latency, slowest first.
func slowest(ops []record.Operation, n int) []record.Operation {
	sorted := slices.Clone(ops)
	slices.SortStableFunc(sorted, func(a, b record.Operation) int { return cmp.Compare(b.Latency(), a.Latency()) })
	return sorted[:min(n, len(sorted))]
}
