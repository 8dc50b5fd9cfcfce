package check_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestNoLostReferrals(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "no-lost-referrals", Within: sec(60)})
	require.Equal(t, "no-lost-referrals", c.Name())

	tests := []struct {
		name         string
		in           check.Input
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64 // Seqs
		wantDetails  []string
	}{
		{
			name: "every accepted referral reached e-RS",
			in: check.Input{
				Operations: []record.Operation{op(0, 1, 0.2, record.OK), op(1, 2, 0.2, record.OK)},
				Effects:    []record.Effect{created(0, "U0", 1.1), created(1, "U1", 2.5)},
				End:        sec(200),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"All 2 accepted referrals reached e-RS within 60s of being accepted."},
			wantDetails: []string{"longest wait from acceptance to e-RS was 300ms"},
		},
		{
			name: "held during the fault and delivered after it, in time",
			in: check.Input{
				Operations: []record.Operation{op(0, 35, 0.1, record.OK)},
				Effects:    []record.Effect{created(0, "U0", 120)},
				Faults:     []record.FaultWindow{fault(1, 30, 75)},
				End:        sec(200),
			},
			wantStatus:  check.Pass,
			wantMessage: []string{"The one accepted referral reached e-RS within 60s of the last fault ending at 75s, or of being accepted if that was later."},
		},
		{
			name: "refused and unanswered requests are not owed to e-RS",
			in: check.Input{
				Operations: []record.Operation{op(0, 1, 0.2, record.OK), op(1, 2, 30, record.Unknown), op(2, 3, 0.1, record.Fail)},
				Effects:    []record.Effect{created(0, "U0", 1.1)},
				End:        sec(200),
			},
			wantStatus: check.Pass,
		},
		{
			name: "accepted referrals that never reached e-RS",
			in: check.Input{
				Operations: []record.Operation{
					op(0, 10, 0.1, record.OK), op(1, 40, 0.1, record.OK), op(2, 50, 0.1, record.OK), op(3, 60, 0.1, record.OK),
				},
				Effects: []record.Effect{
					created(0, "U0", 10.2),
					created(2, "U2", 200), // arrived, but after its 135s deadline
					// e-RS effects of other services or kinds do not count.
					{Service: "mesh", Kind: "referral.created", At: sec(80), Keys: map[string]string{record.KeyNHSNumber: nhs(1)}},
					{Service: "ers", Kind: "referral.cancelled", At: sec(80), Keys: map[string]string{record.KeyNHSNumber: nhs(1)}},
				},
				Faults: []record.FaultWindow{fault(1, 30, 75)},
				End:    sec(300),
			},
			wantStatus: check.Fail,
			wantMessage: []string{
				"3 of 4 accepted referrals never reached e-RS within 60s of the last fault ending at 75s, or of being accepted if that was later. NHS numbers: 9990000001, 9990000002, 9990000003.",
			},
			wantEvidence: []int64{2, 3, 4},
			wantDetails: []string{
				"NHS number 9990000001 (request req-1): accepted at 40.1s, deadline 2m15s, never reached e-RS.",
				"NHS number 9990000002 (request req-2): accepted at 50.1s, deadline 2m15s, reached e-RS only at 3m20s, 65s late.",
			},
		},
		{
			name: "a lost referral fails even while others are still unresolved",
			in: check.Input{
				Operations: []record.Operation{op(0, 10, 0.1, record.OK), op(1, 190, 0.1, record.OK)},
				End:        sec(200),
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"1 of 2 accepted referrals never reached e-RS", "NHS number: 9990000000."},
			wantEvidence: []int64{1},
			wantDetails:  []string{"1 more accepted referral had not reached e-RS when the run ended"},
		},
		{
			name: "run ended before the deadline",
			in: check.Input{
				Operations: []record.Operation{op(0, 10, 0.1, record.OK), op(1, 20, 0.1, record.OK)},
				Effects:    []record.Effect{created(0, "U0", 11)},
				Faults:     []record.FaultWindow{fault(1, 15, 90)},
				End:        sec(100), // deadline is 90+60 = 150s
			},
			wantStatus:   check.Inconclusive,
			wantMessage:  []string{"1 of 2 accepted referrals had not reached e-RS by the end of the run at 100s, but its deadline had not yet passed. The run ended too early to judge it"},
			wantEvidence: []int64{2},
			wantDetails:  []string{"NHS number 9990000001: accepted at 20.1s, deadline 2m30s"},
		},
		{
			name: "nothing accepted",
			in: check.Input{
				Operations: []record.Operation{op(0, 1, 10, record.Unknown), op(1, 2, 0.1, record.Fail)},
				End:        sec(200),
			},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"Nothing was accepted, so nothing can be judged lost", "none of the 2 operations"},
		},
		{
			name:        "no operations at all",
			in:          check.Input{End: sec(200)},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"Nothing was accepted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Evaluate(&tt.in)
			require.Equal(t, "no-lost-referrals", v.Check)
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

// Evidence is capped, and the message lists a bounded number of patients.
func TestNoLostReferralsCapsEvidence(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "no-lost-referrals", Within: sec(5)})
	in := check.Input{End: sec(1000)}
	for i := range 50 {
		in.Operations = append(in.Operations, op(i, float64(i), 0.1, record.OK))
	}
	v := c.Evaluate(&in)
	require.Equal(t, check.Fail, v.Status)
	require.Len(t, v.Evidence, check.MaxEvidence)
	require.Contains(t, v.Message, "50 of 50 accepted referrals")
	require.Contains(t, v.Message, "and 40 more")
	require.Contains(t, joined(v.Details), "and 30 more lost referrals")
}

func TestNoLostReferralsSettled(t *testing.T) {
	ok := record.Operation{Outcome: record.OK, Keys: map[string]string{record.KeyNHSNumber: "9990000018"}}
	failed := record.Operation{Outcome: record.Fail, Keys: map[string]string{record.KeyNHSNumber: "9990000026"}}
	created := record.Effect{Service: "ers", Kind: "referral.created", Keys: map[string]string{record.KeyNHSNumber: "9990000018"}}
	tests := []struct {
		name string
		in   check.Input
		want bool
	}{
		{name: "accepted referral not yet in e-RS", in: check.Input{Operations: []record.Operation{ok, failed}}, want: false},
		{name: "accepted referral in e-RS; refused one ignored", in: check.Input{Operations: []record.Operation{ok, failed}, Effects: []record.Effect{created}}, want: true},
		{name: "nothing accepted", in: check.Input{Operations: []record.Operation{failed}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, check.NoLostReferrals{Within: time.Second}.Settled(&tt.in))
		})
	}
}
