package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sample builds a result by hand: a naive run that duplicated referrals and
// kept the clinician waiting.
func sample(mode string, status check.Status) *harness.Result {
	started := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r := &harness.Result{
		Scenario:    "ers-outage-referrals",
		Description: "e-RS goes down, then slows.",
		Seed:        424242,
		RunID:       "20261121T100000Z-24242",
		Dir:         "out/" + mode + "/ers-outage-referrals",
		Mode:        "embedded",
		SUT:         "bin/referral-gateway --mode " + mode,
		Started:     started,
		Wall:        81 * time.Second,
		LoadStart:   400 * time.Millisecond,
		LoadEnd:     70400 * time.Millisecond,
		End:         72 * time.Second,
		Load: []record.LoadReport{{Workload: "refer-patient", Planned: 350, Issued: 350, MaxInFlight: 23,
			Rate: 5, Duration: 70 * time.Second}},
		Phases: []harness.PhaseSummary{
			{Phase: "all", ErrorRate: 50.0 / 350, PhaseStats: check.PhaseStats{Count: 350, OK: 300, Fail: 45, Unknown: 5,
				P50: 12 * time.Millisecond, P95: 4100 * time.Millisecond, P99: 5 * time.Second, Max: 5200 * time.Millisecond}},
			{Phase: "steady", PhaseStats: check.PhaseStats{Count: 150, OK: 150, P50: 9 * time.Millisecond,
				P95: 20 * time.Millisecond, P99: 31 * time.Millisecond, Max: 40 * time.Millisecond}},
		},
		Faults: []record.FaultWindow{
			{Index: 1, Name: "down ers", Kind: "down", Target: "ers", Start: 10400 * time.Millisecond, End: 22400 * time.Millisecond,
				Injected: 10401 * time.Millisecond, Reverted: 22402 * time.Millisecond, Touched: true,
				Evidence: record.Evidence{Operations: 60, Affected: 60, Notes: []string{"ers refused every connection"}}},
			{Index: 2, Name: "lost-response on ers createReferral (30%)", Kind: "lost-response", Target: "ers",
				Injected: 44401 * time.Millisecond, Reverted: 54402 * time.Millisecond, Touched: true,
				Evidence: record.Evidence{Operations: 50, Requests: 70, Faulted: 14, Connections: 20}},
		},
		SUTEvents: []record.SUTEvent{{At: 0, Kind: record.SUTStarted, PID: 100, Expected: true}},
		Verdicts: []check.Verdict{
			{Check: "no-lost-referrals", Status: check.Pass, Message: "all 300 accepted referrals reached e-RS within 30s of the last fault"},
			{Check: "no-duplicate-referrals", Status: status, Message: "14 patients have more than one UBRN",
				Details:  []string{"patient 9990000018: UBRNs 100000000001, 100000000002"},
				Evidence: []record.Operation{{Seq: 7, Action: "refer", Intended: 45 * time.Second, Outcome: record.OK, Status: 201, Keys: map[string]string{"nhs_number": "9990000018"}}}},
			{Check: "latency[all]", Status: status, Message: "p95 4.1s exceeds 2s over 350 operations"},
		},
		Validity: []check.Verdict{
			{Check: "load-achieved[refer-patient]", Status: check.Pass, Message: "350 of 350 planned arrivals were issued"},
			{Check: "fault-touched[1]", Status: check.Pass, Message: "down ers: 60 operations in flight"},
		},
		Status: status,
	}
	if status == check.Pass {
		r.Verdicts[1].Message, r.Verdicts[1].Details, r.Verdicts[1].Evidence = "each of the 300 patients has exactly one UBRN", nil, nil
		r.Verdicts[2].Message = "p95 9ms within 2s over 350 operations"
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./reports -update")
	require.Equal(t, string(want), string(got))
}

func TestRenderers(t *testing.T) {
	tests := []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{name: "text-fail", render: func(b *bytes.Buffer) error { return Text(b, sample("naive", check.Fail)) }},
		{name: "text-pass", render: func(b *bytes.Buffer) error { return Text(b, sample("resilient", check.Pass)) }},
		{name: "junit-fail.xml", render: func(b *bytes.Buffer) error { return JUnit(b, sample("naive", check.Fail)) }},
		{name: "compare", render: func(b *bytes.Buffer) error {
			return Compare(b, []Labelled{{"naive", sample("naive", check.Fail)}, {"resilient", sample("resilient", check.Pass)}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, tt.render(&b))
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestJUnitIsWellFormedAndCountsFailures(t *testing.T) {
	var b bytes.Buffer
	res := sample("naive", check.Fail)
	res.Verdicts = append(res.Verdicts, check.Verdict{Check: "sut-alive", Status: check.Inconclusive, Message: "no SUT events"})
	require.NoError(t, JUnit(&b, res))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	require.Equal(t, 6, doc.Tests)
	require.Equal(t, 2, doc.Failures)
	require.Equal(t, 1, doc.Errors, "inconclusive must not count as a pass")
	require.Equal(t, "14 patients have more than one UBRN", doc.Suites[0].Cases[1].Failure.Message)
}

func TestTextNamesExpectationOutcome(t *testing.T) {
	res := sample("naive", check.Fail)
	res.ExpectFail = []string{"latency[all]", "no-duplicate-referrals"}
	met := true
	res.ExpectMet = &met
	var b bytes.Buffer
	require.NoError(t, Text(&b, res))
	require.Contains(t, b.String(), "Result: AS EXPECTED")
	require.Contains(t, b.String(), "(exit 0)")
	met = false
	b.Reset()
	require.NoError(t, Text(&b, res))
	require.Contains(t, b.String(), "NOT AS EXPECTED")
	require.Contains(t, b.String(), "(exit 1)")
}

func TestReadResultRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	require.NoError(t, JSON(&b, sample("naive", check.Fail)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "result.json"), b.Bytes(), 0o644))
	got, err := ReadResult(dir)
	require.NoError(t, err)
	require.Equal(t, sample("naive", check.Fail).Verdicts[1].Details, got.Verdicts[1].Details)
	_, err = ReadResult(t.TempDir())
	require.ErrorContains(t, err, "is it a shakedown run directory")
}

func TestTextListsFurtherCatches(t *testing.T) {
	res := sample("naive", check.Fail) // no-duplicate-referrals and latency[all] fail
	res.ExpectFail = []string{"no-duplicate-referrals"}
	met := true
	res.ExpectMet = &met
	var b bytes.Buffer
	require.NoError(t, Text(&b, res))
	require.Contains(t, b.String(), "AS EXPECTED (no-duplicate-referrals failed, as declared with --expect-fail; also failed: latency[all])")
}
