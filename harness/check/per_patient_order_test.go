package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestPerPatientOrder(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "per-patient-order"})
	require.Equal(t, "per-patient-order", c.Name())
	// Patient 0 gets a preliminary (result 0) then its correction (result 2);
	// patient 1 gets one result.
	ops := []record.Operation{result(0, 0, 1, 0.2, record.OK), result(1, 1, 2, 0.2, record.OK), result(2, 0, 3, 0.2, record.OK)}

	tests := []struct {
		name         string
		in           check.Input
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
		wantDetails  []string
	}{
		{
			name: "each patient's results arrive in the order sent",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 2.5), sent("m2", 2, 0, 3.5)},
				End:        sec(60),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"For the one patient with more than one result, the results reached the practice in the order the lab sent them."},
		},
		{
			name: "the preliminary, held during an outage, overtakes nothing when a resend of it comes late",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m2", 2, 0, 3.5), sent("m0b", 0, 0, 40)},
				End:        sec(60),
			},
			wantStatus: check.Pass,
		},
		{
			name: "the correction overtaken by the preliminary it corrects",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m1", 1, 1, 2.5), sent("m2", 2, 0, 3.5), sent("m0", 0, 0, 30)},
				End:        sec(60),
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"For 1 of 1 patient with more than one result, results reached the practice out of the order the lab sent them (1 result overtook an earlier one)", "NHS number: 9990000000."},
			wantEvidence: []int64{1, 3},
			wantDetails:  []string{"NHS number 9990000000: result LAB00002, sent at 3s, reached MESH at 3.5s, before result LAB00000, sent earlier at 1s, which reached MESH at 30s."},
		},
		{
			name: "no patient had two results delivered",
			in: check.Input{
				Operations: ops,
				Effects:    []record.Effect{sent("m0", 0, 0, 1.5), sent("m1", 1, 1, 2.5)},
				End:        sec(60),
			},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No patient had two results reach MESH"},
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
