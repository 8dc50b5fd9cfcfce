package harness

import (
	"testing"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/stretchr/testify/require"
)

func TestValidity(t *testing.T) {
	tests := []struct {
		name string
		load record.LoadReport
		want check.Status
	}{
		{name: "plan reached", load: record.LoadReport{Workload: "w", Planned: 100, Issued: 100}, want: check.Pass},
		{name: "within the 5% allowance", load: record.LoadReport{Workload: "w", Planned: 100, Issued: 95}, want: check.Pass},
		{name: "below plan is inconclusive", load: record.LoadReport{Workload: "w", Planned: 100, Issued: 94, Dropped: 6}, want: check.Inconclusive},
		{name: "nothing planned", load: record.LoadReport{Workload: "w"}, want: check.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validity([]record.LoadReport{tt.load}, nil, 0.95)
			require.Len(t, v, 1)
			require.Equal(t, tt.want, v[0].Status, v[0].Message)
		})
	}
	v := validity(nil, []record.FaultWindow{{Index: 2, Name: "down ers"}}, 0.95)
	require.Equal(t, check.Inconclusive, v[0].Status)
	require.Contains(t, v[0].Message, "touched no traffic")
}

func TestExitCodeAndExpectations(t *testing.T) {
	pass := check.Verdict{Check: "a", Status: check.Pass}
	fail := check.Verdict{Check: "b", Status: check.Fail}
	incon := check.Verdict{Check: "c", Status: check.Inconclusive}
	tests := []struct {
		name       string
		verdicts   []check.Verdict
		validity   []check.Verdict
		expectFail []string
		harness    string
		interrupt  bool
		want       int
	}{
		{name: "all pass", verdicts: []check.Verdict{pass}, want: ExitPass},
		{name: "a failure", verdicts: []check.Verdict{pass, fail}, want: ExitFail},
		{name: "inconclusive check", verdicts: []check.Verdict{pass, incon}, want: ExitInconclusive},
		{name: "invalid run cannot pass", verdicts: []check.Verdict{pass}, validity: []check.Verdict{incon}, want: ExitInconclusive},
		{name: "a failure outranks an invalid run", verdicts: []check.Verdict{fail}, validity: []check.Verdict{incon}, want: ExitFail},
		{name: "expected failure met", verdicts: []check.Verdict{pass, fail}, expectFail: []string{"b"}, want: ExitPass},
		{name: "expected failure did not happen", verdicts: []check.Verdict{pass, pass}, expectFail: []string{"b"}, want: ExitFail},
		{name: "an extra failure is a further catch, not a miss", verdicts: []check.Verdict{fail, {Check: "a", Status: check.Fail}}, expectFail: []string{"b"}, want: ExitPass},
		{name: "one of two expected failures did not happen", verdicts: []check.Verdict{fail, pass}, expectFail: []string{"a", "b"}, want: ExitFail},
		{name: "expected failures stand on a run with an untouched fault", verdicts: []check.Verdict{fail}, validity: []check.Verdict{incon}, expectFail: []string{"b"}, want: ExitPass},
		{name: "expectations with an inconclusive check are inconclusive", verdicts: []check.Verdict{fail, incon}, expectFail: []string{"b"}, want: ExitInconclusive},
		{name: "harness error", verdicts: []check.Verdict{pass}, harness: "boom", want: ExitHarness},
		{name: "interrupted", verdicts: []check.Verdict{pass}, harness: "boom", interrupt: true, want: ExitInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Verdicts: tt.verdicts, Validity: tt.validity, HarnessError: tt.harness, Interrupted: tt.interrupt, ExpectFail: tt.expectFail}
			r.Status = overall(r.Verdicts, r.Validity)
			if len(tt.expectFail) > 0 {
				r.ExpectMet = expectationMet(r, tt.expectFail)
			}
			require.Equal(t, tt.want, r.ExitCode())
		})
	}
}
