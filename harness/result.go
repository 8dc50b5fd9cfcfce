package harness

import (
	"time"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
)

// Exit codes (DESIGN.md §6).
const (
	ExitPass         = 0
	ExitFail         = 1
	ExitInvalid      = 2
	ExitHarness      = 3
	ExitInconclusive = 4
	ExitInterrupted  = 130
)

// PhaseSummary is the traffic of one phase of the run.
type PhaseSummary struct {
	Phase string `json:"phase"`
	check.PhaseStats
	ErrorRate float64 `json:"error_rate"`
}

// Result is everything a run concluded.
type Result struct {
	Scenario    string   `json:"scenario"`
	Description string   `json:"description"`
	Hazards     []string `json:"hazards,omitempty"`
	Source      string   `json:"source,omitempty"`
	Seed        uint64   `json:"seed"`
	RunID       string   `json:"run_id"`
	Dir         string   `json:"dir"`
	Mode        string   `json:"mode"`
	SUT         string   `json:"sut"`

	Started time.Time `json:"started"`
	// Wall is how long the whole run took, start-up to tear-down.
	Wall time.Duration `json:"wall"`
	// LoadStart, LoadEnd and End are offsets on the run clock.
	LoadStart time.Duration `json:"load_start"`
	LoadEnd   time.Duration `json:"load_end"`
	End       time.Duration `json:"end"`

	ToxiproxyURL string            `json:"toxiproxy_url,omitempty"`
	Endpoints    map[string]string `json:"endpoints,omitempty"`

	Load      []record.LoadReport  `json:"load"`
	Phases    []PhaseSummary       `json:"phases"`
	Faults    []record.FaultWindow `json:"faults"`
	SUTEvents []record.SUTEvent    `json:"sut_events"`

	// Verdicts are the scenario's checks.
	Verdicts []check.Verdict `json:"verdicts"`
	// Validity are the harness's own checks that the run tested something:
	// the planned load was reached and every fault touched traffic.
	Validity []check.Verdict `json:"validity"`

	Status       check.Status `json:"status"`
	Interrupted  bool         `json:"interrupted,omitempty"`
	HarnessError string       `json:"harness_error,omitempty"`
	// ExpectFail lists checks the caller declared should fail (a known-bad
	// integration); when set, the run passes exactly when those fail and
	// every other check passes.
	ExpectFail []string `json:"expect_fail,omitempty"`
	// ExpectMet is whether the run matched ExpectFail.
	ExpectMet *bool `json:"expect_met,omitempty"`
}

// ExitCode classifies the result (DESIGN.md §6).
func (r *Result) ExitCode() int {
	switch {
	case r.Interrupted:
		return ExitInterrupted
	case r.HarnessError != "":
		return ExitHarness
	case len(r.ExpectFail) > 0 && r.ExpectMet == nil:
		// Expectations declared, but the run could not support any verdict.
		return ExitInconclusive
	case r.ExpectMet != nil:
		if *r.ExpectMet {
			return ExitPass
		}
		return ExitFail
	}
	switch r.Status {
	case check.Pass:
		return ExitPass
	case check.Fail:
		return ExitFail
	default:
		return ExitInconclusive
	}
}

// Failed lists the names of the scenario checks that failed.
func (r *Result) Failed() []string {
	var out []string
	for _, v := range r.Verdicts {
		if v.Status == check.Fail {
			out = append(out, v.Check)
		}
	}
	return out
}

// overall combines verdicts: any fail fails; else any inconclusive (check or
// validity) is inconclusive; else pass.
func overall(verdicts, validity []check.Verdict) check.Status {
	status := check.Pass
	for _, v := range verdicts {
		if v.Status == check.Fail {
			return check.Fail
		}
		if v.Status == check.Inconclusive {
			status = check.Inconclusive
		}
	}
	for _, v := range validity {
		if v.Status != check.Pass {
			status = check.Inconclusive
		}
	}
	return status
}
