package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestErrorRate(t *testing.T) {
	// 10 operations before a fault (1 refused), 4 during it (all unanswered).
	var ops []record.Operation
	for i := range 10 {
		o := record.OK
		if i == 3 {
			o = record.Fail
		}
		ops = append(ops, op(i, float64(i), 0.1, o))
	}
	for i := 10; i < 14; i++ {
		ops = append(ops, op(i, float64(20+i), 10, record.Unknown))
	}
	faults := []record.FaultWindow{fault(1, 30, 40)}

	tests := []struct {
		name         string
		spec         scenario.CheckSpec
		wantName     string
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
	}{
		{
			name:        "at the limit passes",
			spec:        scenario.CheckSpec{Name: "error-rate", Phase: "steady", Max: ptr(0.1)},
			wantName:    "error-rate[steady]",
			wantStatus:  check.Pass,
			wantMessage: []string{"1 of 10 operations outside the fault windows (steady) (10.0%) failed or got no answer (1 refused, 0 with no answer), within the limit of 10.0%."},
		},
		{
			name:         "over the limit fails",
			spec:         scenario.CheckSpec{Name: "error-rate", Max: ptr(0.05)},
			wantName:     "error-rate[all]",
			wantStatus:   check.Fail,
			wantMessage:  []string{"5 of 14 operations across the whole run (35.7%) failed or got no answer (1 refused, 4 with no answer), above the limit of 5.0%."},
			wantEvidence: []int64{4, 11, 12, 13, 14},
		},
		{
			name:         "a single fault by number",
			spec:         scenario.CheckSpec{Name: "error-rate", Phase: "fault-1", Max: ptr(0.5)},
			wantName:     "error-rate[fault-1]",
			wantStatus:   check.Fail,
			wantMessage:  []string{"4 of 4 operations during fault 1 of the timeline (100.0%)"},
			wantEvidence: []int64{11, 12, 13, 14},
		},
		{
			name:        "no operations in the phase",
			spec:        scenario.CheckSpec{Name: "error-rate", Phase: "after-faults", Max: ptr(0.0)},
			wantName:    "error-rate[after-faults]",
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No operations were sent after the last fault ended"},
		},
		{
			name:       "a fault number the timeline lacks has no operations",
			spec:       scenario.CheckSpec{Name: "error-rate", Phase: "fault-2", Max: ptr(0.0)},
			wantName:   "error-rate[fault-2]",
			wantStatus: check.Inconclusive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := build(t, tt.spec)
			require.Equal(t, tt.wantName, c.Name())
			v := c.Evaluate(&check.Input{Operations: ops, Faults: faults})
			require.Equal(t, tt.wantName, v.Check)
			require.Equal(t, tt.wantStatus, v.Status, v.Message)
			for _, m := range tt.wantMessage {
				require.Contains(t, v.Message, m)
			}
			require.Equal(t, tt.wantEvidence, seqs(v.Evidence))
		})
	}
}
