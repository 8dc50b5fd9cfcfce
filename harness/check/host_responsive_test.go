package check_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// hook is one CDS Hooks call as the host saw it, under a 2s UI budget.
func hook(name string, blocked float64, outcome string) record.HookCall {
	return record.HookCall{
		Hook: name, Service: "imaging-" + name, Blocked: sec(blocked), Budget: sec(2),
		Freeze: sec(blocked) > sec(2), Outcome: outcome, Status: 200,
	}
}

// order is an imaging order for patient i placed at `at` seconds through
// the clinical host, with the given hook calls. It is signed unless a hook
// answered unsafely or signed is forced false.
func order(i int, at float64, hooks ...record.HookCall) record.Operation {
	h := &record.HostView{Hooks: hooks, Signed: true}
	took := 0.0
	for _, c := range hooks {
		h.Blocked += c.Blocked
		took += c.Blocked.Seconds()
		if c.Freeze {
			h.Freezes++
		}
		switch c.Outcome {
		case "unsafe":
			h.Unsafe = append(h.Unsafe, c.Error+" ("+c.Hook+")")
			h.Signed = false
			h.CDSFailed = true
		case "error", "timeout":
			h.CDSFailed = true
		}
	}
	outcome := record.OK
	if !h.Signed {
		outcome = record.Fail
	}
	return record.Operation{
		Seq: int64(i + 1), Workload: "order-imaging", Action: "order",
		Intended: sec(at), Call: sec(at), Return: sec(at + took + 0.05), Outcome: outcome,
		Keys: map[string]string{record.KeyNHSNumber: nhs(i), "order_id": fmt.Sprintf("ORD-%d", i)},
		Host: h,
	}
}

func unsafeHook(name, what string) record.HookCall {
	c := hook(name, 0.3, "unsafe")
	c.Error = what
	return c
}

func TestHostResponsive(t *testing.T) {
	quick := func(i int, at float64) record.Operation {
		return order(i, at, hook("order-select", 0.2, "cards"), hook("order-sign", 0.3, "no-cards"))
	}
	steady := []record.Operation{quick(0, 1), quick(1, 2), quick(2, 3), quick(3, 4)}
	referral := op(9, 5, 0.2, record.OK) // no host view: not judged

	tests := []struct {
		name         string
		spec         scenario.CheckSpec
		ops          []record.Operation
		wantStatus   check.Status
		wantMessage  []string
		wantEvidence []int64
		wantDetails  []string
	}{
		{
			name:       "responsive throughout",
			spec:       scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2)},
			ops:        append([]record.Operation{referral}, steady...),
			wantStatus: check.Pass,
			wantMessage: []string{"Over 4 orders the clinician's screen was never blocked longer than 2s (worst 500ms, p95 500ms); " +
				"no hook call froze it; no answer a real clinical system could crash on."},
			wantDetails: []string{
				"Screen blocked per order, over 4 orders: p50 500ms, p95 500ms, worst 500ms (limit 2s)",
				"8 hook calls: 4 answered with cards, 4 answered with no cards.",
			},
		},
		{
			name: "freezes and unsafe answers within their allowances",
			spec: scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(5), MaxFreezes: 1, MaxUnsafe: 1},
			ops: append(steady[:2:2],
				order(4, 10, hook("order-select", 2.5, "timeout"), hook("order-sign", 0.2, "cards")),
				order(5, 11, unsafeHook("order-select", "invalid JSON: unexpected end of input"))),
			wantStatus: check.Pass,
			wantMessage: []string{"1 hook call froze it, within the 1 allowed",
				"1 unsafe answer (1 invalid JSON), within the 1 allowed"},
			wantDetails: []string{"1 hook call overran the host's UI budget of 2s and froze the screen.",
				"Unsafe answer: invalid JSON: unexpected end of input (order-select)."},
		},
		{
			name: "a slow CDS service blocked the screen and froze it",
			spec: scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2)},
			ops: append(steady[:3:3],
				order(4, 10, hook("order-select", 6.1, "timeout"), hook("order-sign", 2.1, "cards")),
				order(5, 12, hook("order-select", 2.4, "cards"), hook("order-sign", 0.2, "cards"))),
			wantStatus: check.Fail,
			wantMessage: []string{
				"The clinician's screen was not kept responsive: 2 of 5 orders blocked the clinician's screen for longer than 2s (worst 8.2s, p95 8.2s)",
				"3 hook calls overran the UI budget and froze the screen (at most 0 allowed).",
			},
			wantEvidence: []int64{5, 6},
			wantDetails: []string{
				"Order ORD-4 for NHS number 9990000004 at 10s: screen blocked 8.2s — order-select 6.1s (timeout, froze the screen), order-sign 2.1s (cards, froze the screen).",
				"10 hook calls: 6 answered with cards, 3 answered with no cards, 1 timed out.",
			},
		},
		{
			name: "unsafe answers over the allowance",
			spec: scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2)},
			ops: append(steady[:2:2],
				order(4, 10, unsafeHook("order-select", "invalid JSON: unexpected end of input")),
				order(5, 11, hook("order-select", 0.2, "cards"), unsafeHook("order-sign", "oversized: 5000000 bytes")),
				order(6, 12, unsafeHook("order-select", "invalid JSON: unexpected end of input"))),
			wantStatus:  check.Fail,
			wantMessage: []string{"the integration sent 3 answers a real clinical system could crash on (2 invalid JSON, 1 oversized; at most 0 allowed)"},
			// Worst block first; ties keep history order.
			wantEvidence: []int64{6, 5, 7},
			wantDetails: []string{
				"Unsafe answer: oversized: 5000000 bytes (order-sign).",
				"; unsafe: invalid JSON: unexpected end of input (order-select).",
			},
		},
		{
			name:       "exactly at the limit passes",
			spec:       scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(0.5)},
			ops:        steady,
			wantStatus: check.Pass,
		},
		{
			name:        "nothing went through the host",
			spec:        scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2)},
			ops:         []record.Operation{referral},
			wantStatus:  check.Inconclusive,
			wantMessage: []string{"No action went through the clinical system's CDS Hooks host"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := build(t, tt.spec)
			require.Equal(t, "host-responsive", c.Name())
			v := c.Evaluate(&check.Input{Operations: tt.ops, End: sec(100)})
			require.Equal(t, "host-responsive", v.Check)
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

func TestHostResponsiveEvidenceIsCapped(t *testing.T) {
	var ops []record.Operation
	for i := range 50 {
		ops = append(ops, order(i, float64(i), hook("order-select", 3+float64(i)/10, "timeout")))
	}
	v := build(t, scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2), MaxFreezes: 100}).Evaluate(&check.Input{Operations: ops})
	require.Equal(t, check.Fail, v.Status)
	require.Len(t, v.Evidence, check.MaxEvidence)
	require.Equal(t, int64(50), v.Evidence[0].Seq, "the worst block comes first")
	require.Contains(t, v.Message, "50 of 50 orders blocked the clinician's screen for longer than 2s (worst 7.9s, p95 7.7s)")
	require.NotContains(t, v.Message, "froze", "50 freezes are within the 100 allowed")
}

func TestHostResponsiveOtherActions(t *testing.T) {
	o := order(0, 1, hook("order-select", 3, "cards"))
	o.Action = "book"
	v := build(t, scenario.CheckSpec{Name: "host-responsive", MaxBlock: time.Second, MaxFreezes: 5}).Evaluate(&check.Input{Operations: []record.Operation{o}})
	require.Equal(t, check.Fail, v.Status)
	require.Contains(t, v.Message, "1 of 1 action blocked")
	require.Contains(t, joined(v.Details), "Action ORD-0 for NHS number 9990000000 at 1s: screen blocked 3s")
}
