package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestACKIntegrity(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "ack-integrity"})
	require.Equal(t, "ack-integrity", c.Name())

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
			name: "every AA stands for a result in MESH, no stray ACKs",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 0.2, record.Fail), result(2, 2, 3, 10, record.Unknown)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5)},
				End:        sec(60),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"Every ACK the SUT sent answered the message in flight, and all 1 result it acknowledged with AA reached MESH."},
			settled:     true,
		},
		{
			name: "an ACK naming no message the lab sent arrived while a result was in flight",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), stray(mismatched(result(1, 1, 2, 3, record.OK), 2), 2)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 5.5)},
				End:        sec(60),
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"2 ACKs named no message the lab had sent, while 1 of 2 results were in flight", "would take them as the answer to the wrong result"},
			wantEvidence: []int64{2},
			wantDetails:  []string{"NHS number 9990000001, result LAB00001: 2 ACK(s) naming no message the lab sent arrived while it was in flight (sent at 2s, answered at 5s)."},
			settled:      true,
		},
		{
			name: "late ACKs for the lab's own earlier messages are reported, not failed",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), mismatched(result(1, 1, 2, 3, record.OK), 2)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 5.5)},
				End:        sec(60),
			},
			wantStatus:  check.Pass,
			wantDetails: []string{"2 late ACKs arrived after the lab had moved on (correct answers to its earlier messages, delayed); the lab matched MSA-2 to MSH-10 and did not take them for the message in flight."},
			settled:     true,
		},
		{
			name: "an AA for a result that never reached MESH",
			in: check.Input{
				Operations: []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 0.2, record.OK)},
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5)},
				End:        sec(60),
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"1 of 2 results acknowledged with AA never reached MESH by the end of the run at 60s, so the AA did not stand for a result passed on"},
			wantEvidence: []int64{2},
			wantDetails:  []string{"NHS number 9990000001, result LAB00001: AA at 2.2s, not in MESH by the end of the run."},
		},
		{
			name:        "no results",
			in:          check.Input{End: sec(60)},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"The lab sent no result"},
			settled:     true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Evaluate(&tc.in)
			require.Equal(t, tc.wantStatus, v.Status, v.Message)
			for _, m := range tc.wantMessage {
				require.Contains(t, v.Message, m)
			}
			require.Equal(t, tc.wantEvidence, seqs(v.Evidence))
			for _, d := range tc.wantDetails {
				require.Contains(t, joined(v.Details), d)
			}
			s, ok := c.(interface{ Settled(*check.Input) bool })
			require.True(t, ok)
			require.Equal(t, tc.settled, s.Settled(&tc.in))
		})
	}
}
