package check_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
)

func TestPhaseOps(t *testing.T) {
	// One operation every 10s from 0 to 150s. Fault 1 is 30–75s; fault 2 was
	// planned 90–120s but actually injected at 92s and reverted at 118s.
	var ops []record.Operation
	for i := range 16 {
		ops = append(ops, op(i, float64(10*i), 0.1, record.OK))
	}
	f2 := fault(2, 90, 120)
	f2.Injected, f2.Reverted = sec(92), sec(118)
	withFaults := &check.Input{Operations: ops, Faults: []record.FaultWindow{fault(1, 30, 75), f2}}

	// A fault that was never reverted falls back to its planned end; one
	// never injected falls back to its planned start.
	unreverted := fault(1, 30, 75)
	unreverted.Reverted = 0
	notInjected := fault(1, 30, 75)
	notInjected.Injected = 0

	noFaults := &check.Input{Operations: ops}

	// Boundaries: an operation due just before a fault was injected but
	// answered under it was exposed to the fault, so it is not steady; one
	// that returned before the fault is.
	edge := []record.Operation{
		op(0, 29.9, 0.05, record.OK),   // returned at 29.95s, before fault 1
		op(1, 29.99, 0.5, record.Fail), // due before, answered during fault 1
		op(2, 74.9, 2, record.OK),      // due during, answered after
	}
	boundary := &check.Input{Operations: edge, Faults: []record.FaultWindow{fault(1, 30, 75)}}
	atMs := func(ops []record.Operation) []time.Duration {
		var out []time.Duration
		for _, o := range ops {
			out = append(out, o.Intended/time.Millisecond)
		}
		return out
	}

	at := func(ops []record.Operation) []time.Duration {
		var out []time.Duration
		for _, o := range ops {
			out = append(out, o.Intended/time.Second)
		}
		return out
	}
	tests := []struct {
		name  string
		in    *check.Input
		phase string
		want  []time.Duration // intended seconds
	}{
		{"all", withFaults, "all", []time.Duration{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150}},
		{"steady is outside every window", withFaults, "steady", []time.Duration{0, 10, 20, 80, 90, 120, 130, 140, 150}},
		{"before the first fault", withFaults, "before-faults", []time.Duration{0, 10, 20}},
		{"during any fault; windows are half-open", withFaults, "during-faults", []time.Duration{30, 40, 50, 60, 70, 100, 110}},
		{"after the last actual end", withFaults, "after-faults", []time.Duration{120, 130, 140, 150}},
		{"fault 1", withFaults, "fault-1", []time.Duration{30, 40, 50, 60, 70}},
		{"fault 2 uses actual times", withFaults, "fault-2", []time.Duration{100, 110}},
		{"no such fault", withFaults, "fault-3", nil},
		{"unknown phase", withFaults, "lunchtime", nil},
		{"unreverted falls back to planned end", &check.Input{Operations: ops, Faults: []record.FaultWindow{unreverted}}, "during-faults", []time.Duration{30, 40, 50, 60, 70}},
		{"uninjected falls back to planned start", &check.Input{Operations: ops, Faults: []record.FaultWindow{notInjected}}, "fault-1", []time.Duration{30, 40, 50, 60, 70}},
		{"no faults: all steady", noFaults, "steady", at(ops)},
		{"no faults: all before", noFaults, "before-faults", at(ops)},
		{"no faults: nothing during", noFaults, "during-faults", nil},
		{"no faults: nothing after", noFaults, "after-faults", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, at(check.PhaseOps(tt.in, tt.phase)))
		})
	}
	boundaries := []struct {
		name  string
		phase string
		want  []time.Duration // intended milliseconds
	}{
		{"overlapping the injection is not steady", "steady", []time.Duration{29900}},
		{"overlapping the injection counts in the fault", "fault-1", []time.Duration{29990, 74900}},
		{"before means returned before the first fault", "before-faults", []time.Duration{29900}},
		{"during means overlapped some fault", "during-faults", []time.Duration{29990, 74900}},
	}
	for _, tt := range boundaries {
		t.Run("boundary: "+tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, atMs(check.PhaseOps(boundary, tt.phase)))
		})
	}
}

func TestValidatePhase(t *testing.T) {
	for _, ok := range []string{"all", "steady", "before-faults", "during-faults", "after-faults", "fault-1", "fault-12"} {
		require.NoError(t, check.ValidatePhase(ok), ok)
	}
	for _, bad := range []string{"", "Steady", "during", "fault-0", "fault--1", "fault-", "fault-x"} {
		require.Error(t, check.ValidatePhase(bad), bad)
	}
}

func TestStats(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	withLatencies := func(lat ...int) []record.Operation {
		var ops []record.Operation
		for i, l := range lat {
			ops = append(ops, record.Operation{Intended: sec(float64(i)), Return: sec(float64(i)) + ms(l), Outcome: record.OK})
		}
		return ops
	}
	tests := []struct {
		name string
		ops  []record.Operation
		want check.PhaseStats
	}{
		{"empty", nil, check.PhaseStats{}},
		{"one", withLatencies(7), check.PhaseStats{Count: 1, OK: 1, P50: ms(7), P95: ms(7), P99: ms(7), Max: ms(7)}},
		// Nearest rank over 4 values: p50 → rank 2, p95 and p99 → rank 4.
		{"four unsorted", withLatencies(40, 10, 30, 20), check.PhaseStats{Count: 4, OK: 4, P50: ms(20), P95: ms(40), P99: ms(40), Max: ms(40)}},
		// Over 1..100: ranks 50, 95, 99.
		{"hundred", withLatencies(seq(1, 100)...), check.PhaseStats{Count: 100, OK: 100, P50: ms(50), P95: ms(95), P99: ms(99), Max: ms(100)}},
		// Over 1..200: ranks 100, 190, 198.
		{"two hundred", withLatencies(seq(1, 200)...), check.PhaseStats{Count: 200, OK: 200, P50: ms(100), P95: ms(190), P99: ms(198), Max: ms(200)}},
		{"outcomes counted", []record.Operation{
			{Outcome: record.OK}, {Outcome: record.Fail}, {Outcome: record.Fail}, {Outcome: record.Unknown},
		}, check.PhaseStats{Count: 4, OK: 1, Fail: 2, Unknown: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, check.Stats(tt.ops))
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}
