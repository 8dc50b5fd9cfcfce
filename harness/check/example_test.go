package check_test

import (
	"fmt"
	"time"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// A scenario's checks judge a run: here e-RS was down from 30s to 75s and
// the integration dropped the referral it accepted during the outage.
func ExampleFromSpec() {
	in := &check.Input{
		Operations: []record.Operation{
			{Seq: 1, Intended: 10 * time.Second, Return: 10*time.Second + 200*time.Millisecond, Outcome: record.OK,
				Keys: map[string]string{record.KeyNHSNumber: "9990000018", record.KeyRequestID: "r1"}},
			{Seq: 2, Intended: 40 * time.Second, Return: 40*time.Second + 300*time.Millisecond, Outcome: record.OK,
				Keys: map[string]string{record.KeyNHSNumber: "9990000026", record.KeyRequestID: "r2"}},
		},
		Effects: []record.Effect{
			{Service: "ers", Kind: "referral.created", At: 10*time.Second + 100*time.Millisecond,
				Keys: map[string]string{record.KeyNHSNumber: "9990000018", record.KeyUBRN: "000000070001"}},
		},
		Faults: []record.FaultWindow{{Index: 1, Name: "down", Kind: "down", Target: "ers",
			Start: 30 * time.Second, End: 75 * time.Second, Injected: 30 * time.Second, Reverted: 75 * time.Second}},
		SUT: []record.SUTEvent{{At: 0, Kind: record.SUTStarted}},
		End: 3 * time.Minute,
	}
	for _, spec := range []scenario.CheckSpec{
		{Name: "no-lost-referrals", Within: time.Minute},
		{Name: "no-duplicate-referrals"},
		{Name: "latency", Phase: "steady", P99: 2 * time.Second},
		{Name: "error-rate", Phase: "after-faults", Max: new(0.01)},
		{Name: "sut-alive"},
	} {
		c, err := check.FromSpec(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		v := c.Evaluate(in)
		fmt.Printf("%s: %s — %s\n", v.Check, v.Status, v.Message)
		for _, d := range v.Details {
			fmt.Println("  ", d)
		}
	}
	// Output:
	// no-lost-referrals: fail — 1 of 2 accepted referrals never reached e-RS within 60s of the last fault ending at 75s, or of being accepted if that was later. NHS number: 9990000026.
	//    NHS number 9990000026 (request r2): accepted at 40.3s, deadline 2m15s, never reached e-RS.
	// no-duplicate-referrals: pass — The one patient referred in e-RS has exactly one referral.
	// latency[steady]: pass — Latency outside the fault windows (steady) was within its limits: p99 200ms (limit 2s), over 1 operation.
	//    Over 1 operation outside the fault windows (steady): p50 200ms, p95 200ms, p99 200ms, slowest 200ms; 1 OK, 0 refused, 0 with no answer.
	//    Latency runs from when each request was due to be sent until its answer (or timeout); percentiles are nearest-rank.
	//    With fewer than 100 operations (1), p99 is simply the slowest one.
	// error-rate[after-faults]: inconclusive — No operations were sent after the last fault ended, so their error rate cannot be judged.
	// sut-alive: pass — The system under test never exited unexpectedly.
}
