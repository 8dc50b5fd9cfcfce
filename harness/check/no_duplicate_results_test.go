package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestNoDuplicateResults(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "no-duplicate-results"})
	require.Equal(t, "no-duplicate-results", c.Name())
	ops := []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 0.2, record.OK), result(2, 0, 3, 0.2, record.OK)}
	// A second, distinct result with the same clinical content as result 0
	// (a repeat test with the same values): not a duplicate.
	repeat := withKey(result(3, 0, 4, 0.2, record.OK), "content_hash", hash(0))

	tests := []struct {
		name         string
		in           check.Input
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
		wantDetails  []string
	}{
		{
			name: "each result reached the practice once",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 2.5), sent("m2", 2, 0, 3.5)},
				End:        sec(60),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"Each of the 3 messages sent through MESH reached the practice once, by identifier and by clinical content."},
		},
		{
			name: "other MESH traffic (acknowledgements delivered to the SUT) is not counted",
			in: check.Input{
				Operations: ops,
				Effects: []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 2.5), sent("m2", 2, 0, 3.5),
					{Service: "mesh", Kind: "message.sent", At: sec(4), Keys: map[string]string{"message_id": "in1", "local_id": "SHKIN-1", "workflow": "PATH_BS_R4_ACK", "from": "X26LAB01", "to": "X26SUT01"}},
					{Service: "mesh", Kind: "message.sent", At: sec(5), Keys: map[string]string{"message_id": "in2", "local_id": "SHKIN-1", "workflow": "PATH_BS_R4_ACK", "from": "X26LAB01", "to": "X26SUT01"}}},
				End: sec(60),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"Each of the 3 messages sent through MESH reached the practice once"},
		},
		{
			name: "a repeat test with the same values is two results, not a duplicate",
			in: check.Input{
				Operations: append(ops[:1:1], repeat),
				Effects: []record.Effect{sent("m0", 0, 0, 1.5),
					withEffectKey(withEffectKey(sent("m3", 3, 0, 4.5), "content_hash", hash(0)), "local_id", msh10(3))},
				End: sec(60),
			},
			wantStatus: check.Pass,
		},
		{
			name: "one result sent twice under its own id (a resend after a lost ACK)",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 2.5), sent("m0b", 0, 0, 11.5), sent("m2", 2, 0, 3.5)},
				End:        sec(60),
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"1 pathology result reached the practice more than once through MESH (1 extra copy)", "NHS number: 9990000000."},
			wantEvidence: []int64{1},
			wantDetails:  []string{"NHS number 9990000000: result bundle-LAB00000 reached MESH 2 times: m0 (local id LAB00000) at 1.5s, m0b (local id LAB00000) at 11.5s."},
		},
		{
			name: "the same content under a re-minted id",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 2.5), reminted("m1b", 1, 1, 9), reminted("m1c", 1, 1, 19)},
				End:        sec(60),
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"1 pathology result reached the practice more than once through MESH (2 extra copies)", "NHS number: 9990000001."},
			wantEvidence: []int64{2},
			wantDetails:  []string{"NHS number 9990000001: the same clinical content (hash 000000000000) reached MESH 3 times for 1 result the lab sent"},
		},
		{
			name:        "no MESH messages at all",
			in:          check.Input{Operations: ops, End: sec(60)},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No message was sent through MESH"},
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
		})
	}
}

func withEffectKey(e record.Effect, k, v string) record.Effect {
	keys := map[string]string{}
	for kk, vv := range e.Keys {
		keys[kk] = vv
	}
	keys[k] = v
	e.Keys = keys
	return e
}
