package check_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// Builders for hand-made histories. Times are in seconds on the run clock.

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// nhs returns a distinct test-range-looking NHS number for patient i.
func nhs(i int) string { return fmt.Sprintf("999%07d", i) }

// op is an operation for patient i, intended at `at` seconds, taking `took`
// seconds, with outcome o.
func op(i int, at, took float64, o record.Outcome) record.Operation {
	return record.Operation{
		Seq:      int64(i + 1),
		Workload: "refer-patient",
		Action:   "refer",
		Intended: sec(at),
		Call:     sec(at),
		Return:   sec(at + took),
		Outcome:  o,
		Keys: map[string]string{
			record.KeyNHSNumber: nhs(i),
			record.KeyRequestID: fmt.Sprintf("req-%d", i),
		},
	}
}

// created is an e-RS referral.created effect for patient i at `at` seconds.
func created(i int, ubrn string, at float64) record.Effect {
	return record.Effect{
		Service: "ers",
		Kind:    "referral.created",
		At:      sec(at),
		Keys:    map[string]string{record.KeyNHSNumber: nhs(i), record.KeyUBRN: ubrn},
	}
}

// fault is a fault window injected at `from` and reverted at `to` seconds.
func fault(index int, from, to float64) record.FaultWindow {
	return record.FaultWindow{
		Index: index, Name: fmt.Sprintf("fault %d", index), Kind: "down", Target: "ers",
		Start: sec(from), End: sec(to), Injected: sec(from), Reverted: sec(to),
	}
}

// build makes the check for spec, failing the test if it cannot.
func build(t *testing.T, spec scenario.CheckSpec) check.Check {
	t.Helper()
	c, err := check.FromSpec(spec)
	require.NoError(t, err)
	return c
}

func ptr[T any](v T) *T { return &v }

func seqs(ops []record.Operation) []int64 {
	if len(ops) == 0 {
		return nil
	}
	out := make([]int64, 0, len(ops))
	for _, o := range ops {
		out = append(out, o.Seq)
	}
	return out
}

func joined(details []string) string { return strings.Join(details, "\n") }
