package check_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// delivery is a mesh-inbound operation: message n delivered at `at`
// seconds with outcome o.
func delivery(n int, at float64, o record.Outcome) record.Operation {
	keys := map[string]string{"local_id": fmt.Sprintf("SHKIN-%06d", n)}
	if o == record.OK {
		keys["message_id"] = meshID(n)
	}
	return record.Operation{
		Seq: int64(n + 1), Workload: "mesh-inbound", Action: "mesh-deliver",
		Intended: sec(at), Call: sec(at), Return: sec(at + 0.001), Outcome: o, Keys: keys,
	}
}

func meshID(n int) string { return fmt.Sprintf("MSG%04d", n) }

// meshEffect is a MESH journal effect of kind for message n at `at` seconds.
func meshEffect(kind string, n int, at float64) record.Effect {
	return record.Effect{Service: "mesh", Kind: kind, At: sec(at), Keys: map[string]string{"message_id": meshID(n)}}
}

func acked(n int, at float64) record.Effect { return meshEffect("message.acknowledged", n, at) }

func TestMESHAcknowledged(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "mesh-acknowledged", Within: sec(30)})
	require.Equal(t, "mesh-acknowledged", c.Name())

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
			name: "every delivered message acknowledged",
			in: check.Input{
				Operations: []record.Operation{delivery(0, 1, record.OK), delivery(1, 2, record.OK), delivery(2, 3, record.Fail)},
				Effects:    []record.Effect{acked(0, 2), acked(1, 6), acked(1, 9)},
				End:        sec(100),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"All 2 messages delivered into the SUT's MESH mailbox were acknowledged within 30s of delivery."},
			wantDetails: []string{"longest wait from delivery to acknowledgement was 4s"},
			settled:     true,
		},
		{
			name: "acknowledged after the fault, within the allowance",
			in: check.Input{
				Operations: []record.Operation{delivery(0, 10, record.OK)},
				Effects:    []record.Effect{acked(0, 70)},
				Faults:     []record.FaultWindow{fault(1, 5, 50)},
				End:        sec(100),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"The one message delivered into the SUT's MESH mailbox was acknowledged within 30s of the last fault ending at 50s"},
			settled:     true,
		},
		{
			name: "unacknowledged, downloaded-only and late messages",
			in: check.Input{
				Operations: []record.Operation{delivery(0, 1, record.OK), delivery(1, 2, record.OK), delivery(2, 3, record.OK), delivery(3, 4, record.OK)},
				Effects: []record.Effect{acked(0, 2), meshEffect("message.downloaded", 1, 2.5),
					acked(3, 50), {Service: "ers", Kind: "message.acknowledged", At: sec(3), Keys: map[string]string{"message_id": meshID(2)}}},
				End: sec(100),
			},
			wantStatus: check.Fail,
			wantMessage: []string{"3 of 4 messages delivered into the SUT's MESH mailbox were not acknowledged within 30s of delivery",
				"Unacknowledged MESH message ids: MSG0001, MSG0002, MSG0003."},
			wantEvidence: []int64{2, 3, 4},
			wantDetails: []string{"MESH message MSG0001 (local id SHKIN-000001): delivered at 2s, deadline 32s, downloaded at 2.5s but never acknowledged.",
				"MESH message MSG0002 (local id SHKIN-000002): delivered at 3s, deadline 33s, never downloaded or acknowledged.",
				"MESH message MSG0003 (local id SHKIN-000003): delivered at 4s, deadline 34s, acknowledged only at 50s, 16s late."},
			settled: false,
		},
		{
			name: "the run ended before the deadline",
			in: check.Input{
				Operations: []record.Operation{delivery(0, 1, record.OK), delivery(1, 50, record.OK)},
				Effects:    []record.Effect{acked(0, 2)},
				End:        sec(60),
			},
			wantStatus:   check.Inconclusive,
			wantMessage:  []string{"1 of 2 delivered messages had not been acknowledged by the end of the run at 60s", "let it run longer"},
			wantEvidence: []int64{2},
			wantDetails:  []string{"MESH message MSG0001: delivered at 50s, deadline 80s"},
		},
		{
			name: "nothing delivered",
			in: check.Input{
				Operations: []record.Operation{delivery(0, 1, record.Fail), result(0, 0, 1, 0.2, record.OK)},
				End:        sec(60),
			},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No message was delivered into the SUT's MESH mailbox", "(1 delivery attempted)"},
			settled:     true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Evaluate(&tc.in)
			require.Equal(t, tc.wantStatus, v.Status, v.Message)
			require.Equal(t, "mesh-acknowledged", v.Check)
			for _, m := range tc.wantMessage {
				require.Contains(t, v.Message, m)
			}
			require.Equal(t, tc.wantEvidence, seqs(v.Evidence))
			for _, d := range tc.wantDetails {
				require.Contains(t, joined(v.Details), d)
			}
			s, ok := c.(interface{ Settled(*check.Input) bool })
			require.True(t, ok, "mesh-acknowledged lets the engine end the drain early")
			require.Equal(t, tc.settled, s.Settled(&tc.in))
		})
	}
}
