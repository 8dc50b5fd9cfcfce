package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestNoLostResults(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "no-lost-results", Within: sec(60)})
	require.Equal(t, "no-lost-results", c.Name())

	tests := []struct {
		name         string
		in           check.Input
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
		wantDetails  []string
		settled      bool
	}{
		{
			name: "every acknowledged result reached MESH",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 0.2, record.OK)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 3.2)},
				End:        sec(200),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"All 2 pathology results the SUT acknowledged (AA) reached the practice through MESH within 60s of being acknowledged."},
			wantDetails: []string{"longest wait from the AA to MESH was 1s"},
			settled:     true,
		},
		{
			name: "matched by content when the SUT re-minted the id, after the fault",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 35, 0.1, record.OK)},
				Effects:    []record.Effect{reminted("m0", 0, 0, 120)},
				Faults:     []record.FaultWindow{fault(1, 30, 75)},
				End:        sec(200),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"The one pathology result the SUT acknowledged (AA) reached the practice through MESH within 60s of the last fault ending at 75s"},
			settled:     true,
		},
		{
			name: "rejected and unacknowledged results are not owed to the practice",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 10, record.Unknown), result(2, 2, 3, 0.1, record.Fail)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5)},
				End:        sec(200),
			},
			wantStatus: check.Pass,
			settled:    true,
		},
		{
			name: "acknowledged results that never reached MESH, and one that arrived late",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 0.2, record.OK), result(2, 2, 3, 0.2, record.OK)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m2", 2, 2, 150)},
				End:        sec(200),
			},
			wantStatus: check.Fail,
			wantMessage: []string{"2 of 3 pathology results the SUT acknowledged (AA) never reached the practice through MESH within 60s",
				"The lab was told each was safely received", "NHS numbers: 9990000001, 9990000002."},
			wantEvidence: []int64{2, 3},
			wantDetails: []string{"NHS number 9990000001, result LAB00001: acknowledged (AA) at 2.2s, deadline 62.2s, never reached MESH.",
				"NHS number 9990000002, result LAB00002: acknowledged (AA) at 3.2s, deadline 63.2s, reached MESH only at 2m30s, 86.8s late."},
			settled: false,
		},
		{
			name: "the run ended before the deadline",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 50, 0.2, record.OK)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5)},
				End:        sec(80),
			},
			wantStatus:   check.Inconclusive,
			wantMessage:  []string{"1 of 2 acknowledged results had not reached MESH by the end of the run at 80s", "let it run longer"},
			wantEvidence: []int64{2},
		},
		{
			name: "nothing acknowledged",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 10, record.Unknown), result(1, 1, 2, 0.1, record.Fail)},
				End:        sec(80),
			},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"acknowledged no result with AA", "the lab sent 2 results"},
			settled:     true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Evaluate(&tc.in)
			require.Equal(t, tc.wantStatus, v.Status, v.Message)
			require.Equal(t, "no-lost-results", v.Check)
			for _, m := range tc.wantMessage {
				require.Contains(t, v.Message, m)
			}
			require.Equal(t, tc.wantEvidence, seqs(v.Evidence))
			for _, d := range tc.wantDetails {
				require.Contains(t, joined(v.Details), d)
			}
			s, ok := c.(interface{ Settled(*check.Input) bool })
			require.True(t, ok, "no-lost-results lets the engine end the drain early")
			require.Equal(t, tc.settled, s.Settled(&tc.in))
		})
	}
}
