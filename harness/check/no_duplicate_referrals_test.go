package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestNoDuplicateReferrals(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "no-duplicate-referrals"})
	require.Equal(t, "no-duplicate-referrals", c.Name())

	ops := []record.Operation{
		op(0, 1, 0.2, record.OK),
		op(1, 2, 10, record.Unknown), // timed out; the integration retried
		op(2, 3, 0.2, record.OK),
		op(3, 4, 0.2, record.OK),
	}
	tests := []struct {
		name         string
		effects      []record.Effect
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
		wantDetails  []string
	}{
		{
			name:        "one referral per patient",
			effects:     []record.Effect{created(0, "U0", 1.1), created(1, "U1", 2.1), created(2, "U2", 3.1)},
			wantStatus:  check.Pass,
			wantMessage: []string{"Each of the 3 patients referred in e-RS has exactly one referral."},
		},
		{
			name: "the same UBRN journalled twice is one referral",
			effects: []record.Effect{
				created(0, "U0", 1.1), created(0, "U0", 1.2),
				// Other services' and kinds' effects are ignored.
				{Service: "ers", Kind: "referral.cancelled", At: sec(5), Keys: map[string]string{record.KeyNHSNumber: nhs(0), record.KeyUBRN: "U9"}},
				{Service: "gpconnect", Kind: "referral.created", At: sec(5), Keys: map[string]string{record.KeyNHSNumber: nhs(0), record.KeyUBRN: "U8"}},
			},
			wantStatus: check.Pass,
		},
		{
			name: "a retried create minted second and third UBRNs",
			effects: []record.Effect{
				created(0, "U0", 1.1),
				created(1, "U1a", 2.1), created(1, "U1b", 7), created(1, "U1c", 12),
				created(3, "U3a", 4.1), created(3, "U3b", 65),
			},
			wantStatus: check.Fail,
			wantMessage: []string{
				"2 of 3 patients referred in e-RS have more than one referral (3 duplicate referrals)",
				"NHS numbers 9990000001, 9990000003",
			},
			wantEvidence: []int64{2, 4},
			wantDetails: []string{
				"NHS number 9990000001: 3 referrals, UBRNs U1a at 2.1s, U1b at 7s, U1c at 12s.",
				"NHS number 9990000003: 2 referrals, UBRNs U3a at 4.1s, U3b at 65s.",
			},
		},
		{
			name:         "referrals without a UBRN still count",
			effects:      []record.Effect{created(2, "", 3.1), created(2, "", 4)},
			wantStatus:   check.Fail,
			wantMessage:  []string{"1 of 1 patient referred in e-RS has more than one referral (1 duplicate referral)"},
			wantEvidence: []int64{3},
			wantDetails:  []string{"(no UBRN recorded) at 3.1s"},
		},
		{
			name:        "nothing created",
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No referral was created in e-RS"},
		},
		{
			name:       "created referrals with no NHS number cannot be grouped",
			effects:    []record.Effect{{Service: "ers", Kind: "referral.created", At: sec(1), Keys: map[string]string{record.KeyUBRN: "U"}}},
			wantStatus: check.Inconclusive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Evaluate(&check.Input{Operations: ops, Effects: tt.effects, End: sec(100)})
			require.Equal(t, "no-duplicate-referrals", v.Check)
			require.Equal(t, tt.wantStatus, v.Status, v.Message)
			for _, m := range tt.wantMessage {
				require.Contains(t, v.Message, m)
			}
			require.Equal(t, tt.wantEvidence, seqs(v.Evidence))
			for _, d := range tt.wantDetails {
				require.Contains(t, joined(v.Details), d)
			}
		})
	}
}
