package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// hundred returns 100 operations, one a second from t=0, the i-th taking
// (i+1)×10ms, so nearest-rank p50 = 500ms, p95 = 950ms, p99 = 990ms.
func hundred() []record.Operation {
	var ops []record.Operation
	for i := range 100 {
		ops = append(ops, op(i, float64(i), float64(i+1)/100, record.OK))
	}
	return ops
}

func TestLatency(t *testing.T) {
	tests := []struct {
		name         string
		spec         scenario.CheckSpec
		in           check.Input
		wantName     string
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
	}{
		{
			name:        "within limits",
			spec:        scenario.CheckSpec{Name: "latency", Phase: "all", P50: sec(0.5), P99: sec(1)},
			in:          check.Input{Operations: hundred()},
			wantName:    "latency[all]",
			wantStatus:  check.Pass,
			wantMessage: []string{"within its limits: p50 500ms (limit 500ms), p99 990ms (limit 1s), over 100 operations"},
		},
		{
			name:         "p99 over its limit",
			spec:         scenario.CheckSpec{Name: "latency", P95: sec(1), P99: sec(0.98)},
			in:           check.Input{Operations: hundred()},
			wantName:     "latency[all]",
			wantStatus:   check.Fail,
			wantMessage:  []string{"too high: p99 latency was 990ms against a limit of 980ms, over 100 operations"},
			wantEvidence: []int64{100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87, 86, 85, 84, 83, 82, 81},
		},
		{
			name: "slow during the fault does not count against steady",
			spec: scenario.CheckSpec{Name: "latency", Phase: "steady", P99: sec(1)},
			in: check.Input{
				Operations: []record.Operation{op(0, 1, 0.1, record.OK), op(1, 31, 9, record.Unknown), op(2, 80, 0.2, record.OK)},
				Faults:     []record.FaultWindow{fault(1, 30, 75)},
			},
			wantName:   "latency[steady]",
			wantStatus: check.Pass,
		},
		{
			name: "a timed-out call counts, measured from its intended time",
			spec: scenario.CheckSpec{Name: "latency", Phase: "during-faults", P50: sec(2)},
			in: check.Input{
				Operations: []record.Operation{
					op(0, 1, 0.1, record.OK),
					// Intended at 31s, only sent at 35s, timed out at 45s.
					{Seq: 2, Intended: sec(31), Call: sec(35), Return: sec(45), Outcome: record.Unknown},
				},
				Faults: []record.FaultWindow{fault(1, 30, 75)},
			},
			wantName:     "latency[during-faults]",
			wantStatus:   check.Fail,
			wantMessage:  []string{"while a fault was active was too high: p50 latency was 14s against a limit of 2s, over 1 operation"},
			wantEvidence: []int64{2},
		},
		{
			name: "no operations in the phase",
			spec: scenario.CheckSpec{Name: "latency", Phase: "after-faults", P99: sec(1)},
			in: check.Input{
				Operations: []record.Operation{op(0, 31, 0.1, record.OK)},
				Faults:     []record.FaultWindow{fault(1, 30, 75)},
			},
			wantName:    "latency[after-faults]",
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No operations were sent after the last fault ended"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := build(t, tt.spec)
			require.Equal(t, tt.wantName, c.Name())
			v := c.Evaluate(&tt.in)
			require.Equal(t, tt.wantName, v.Check)
			require.Equal(t, tt.wantStatus, v.Status, v.Message)
			for _, m := range tt.wantMessage {
				require.Contains(t, v.Message, m)
			}
			require.Equal(t, tt.wantEvidence, seqs(v.Evidence))
		})
	}
}
