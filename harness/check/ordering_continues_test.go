package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// gaveUp is an order the clinician abandoned after waiting `waited`
// seconds on a hook that never answered in time.
func gaveUp(i int, at, waited float64) record.Operation {
	o := order(i, at, hook("order-select", waited, "timeout"))
	o.Host.Signed = false
	o.Outcome = record.Fail
	o.Error = "the clinician gave up waiting"
	o.Return = o.Intended + sec(waited)
	return o
}

func TestOrderingContinues(t *testing.T) {
	good := func(i int, at float64) record.Operation {
		return order(i, at, hook("order-select", 0.2, "cards"), hook("order-sign", 0.3, "cards"))
	}
	withoutCDS := func(i int, at float64) record.Operation {
		return order(i, at, hook("order-select", 0.1, "error"), hook("order-sign", 0.1, "error"))
	}
	referral := op(9, 5, 0.2, record.Fail) // not an order: not judged

	tests := []struct {
		name         string
		ops          []record.Operation
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
		wantDetails  []string
	}{
		{
			name:        "every order signed with decision support",
			ops:         []record.Operation{referral, good(0, 1), good(1, 2)},
			wantStatus:  check.Pass,
			wantMessage: []string{"All 2 orders were signed, every one of them with decision support available."},
		},
		{
			name:       "orders carried on without decision support",
			ops:        []record.Operation{good(0, 1), withoutCDS(1, 2), withoutCDS(2, 3), good(3, 4)},
			wantStatus: check.Pass,
			wantMessage: []string{"All 4 orders were signed, 2 of them (50.0%) without decision support because the CDS service failed " +
				"(an error, a timeout or an unusable answer): ordering carried on without it, as it must."},
		},
		{
			name:        "one order",
			ops:         []record.Operation{withoutCDS(0, 1)},
			wantStatus:  check.Pass,
			wantMessage: []string{"All 1 order was signed, 1 of them (100.0%) without decision support"},
		},
		{
			name: "orders lost to unsafe answers and impatience",
			ops: []record.Operation{
				good(0, 1),
				order(1, 2, unsafeHook("order-select", "invalid JSON: unexpected end of input")),
				withoutCDS(2, 3),
				gaveUp(3, 4, 30),
				order(4, 5, hook("order-select", 0.2, "cards"), unsafeHook("order-sign", "oversized: 5000000 bytes")),
				gaveUp(5, 6, 30),
			},
			wantStatus: check.Fail,
			wantMessage: []string{
				"4 of 6 orders were not signed: 2 lost because the integration sent an answer a real clinical system could crash on (1 invalid JSON, 1 oversized); " +
					"2 because the clinician gave up waiting (after 30s each).",
				"Of the 2 signed, 1 of them (50.0%) without decision support because the CDS service failed",
			},
			wantEvidence: []int64{2, 4, 5, 6},
			wantDetails: []string{
				"Order ORD-1 for NHS number 9990000001 at 2s was not signed: the integration answered invalid JSON: unexpected end of input (order-select), which a real clinical system could crash on, losing the order.",
				"Order ORD-3 for NHS number 9990000003 at 4s was not signed: the clinician gave up after waiting 30s (screen blocked 30s by the integration).",
			},
		},
		{
			name:         "waits of different lengths",
			ops:          []record.Operation{gaveUp(0, 1, 10), gaveUp(1, 2, 25)},
			wantStatus:   check.Fail,
			wantMessage:  []string{"2 of 2 orders were not signed: 2 because the clinician gave up waiting (after 10s to 25s)."},
			wantEvidence: []int64{1, 2},
		},
		{
			name: "an order with no host view is judged by its outcome",
			ops: []record.Operation{
				{Seq: 1, Action: "order", Outcome: record.OK},
				{Seq: 2, Action: "order", Outcome: record.Unknown, Error: "connection refused"},
			},
			wantStatus:   check.Fail,
			wantMessage:  []string{"1 of 2 orders were not signed: 1 for another reason (connection refused). Of the 1 signed, every one of them with decision support available."},
			wantEvidence: []int64{2},
		},
		{
			name:        "no orders",
			ops:         []record.Operation{referral},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No orders were placed through the clinical system"},
		},
	}
	c := build(t, scenario.CheckSpec{Name: "ordering-continues"})
	require.Equal(t, "ordering-continues", c.Name())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Evaluate(&check.Input{Operations: tt.ops, End: sec(100)})
			require.Equal(t, "ordering-continues", v.Check)
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

func TestOrderingContinuesManyLost(t *testing.T) {
	var ops []record.Operation
	for i := range 30 {
		ops = append(ops, gaveUp(i, float64(i), 10))
	}
	v := check.OrderingContinues{}.Evaluate(&check.Input{Operations: ops})
	require.Equal(t, check.Fail, v.Status)
	require.Len(t, v.Evidence, check.MaxEvidence)
	require.Contains(t, joined(v.Details), "… and 20 more orders not signed.")
}
