package check

import (
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Status is the outcome of a check.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Inconclusive means the run cannot support a verdict (for example too
	// little traffic in the phase, or the run ended before a deadline).
	Inconclusive Status = "inconclusive"
)

// Verdict is a check's judgement with its evidence.
type Verdict struct {
	Check   string `json:"check"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Evidence lists the offending (or, for inconclusive, the unresolved)
	// operations, capped at MaxEvidence.
	Evidence []record.Operation `json:"evidence,omitempty"`
	// Details are extra facts in words (UBRNs, counts, figures).
	Details []string `json:"details,omitempty"`
}

// MaxEvidence caps the operations a verdict carries.
const MaxEvidence = 20

// Input is everything a check may read.
type Input struct {
	Operations []record.Operation
	// Effects from every mock journal, in time order.
	Effects []record.Effect
	Faults  []record.FaultWindow
	SUT     []record.SUTEvent
	Load    []record.LoadReport
	// LoadEnd is when the last workload stopped issuing arrivals.
	LoadEnd time.Duration
	// End is when the run stopped recording (after the drain).
	End time.Duration
}

// LastFaultEnd is the latest actual end of any fault window (0 if none).
func (in *Input) LastFaultEnd() time.Duration {
	var last time.Duration
	for _, w := range in.Faults {
		end := w.Reverted
		if end == 0 {
			end = w.End
		}
		if end > last {
			last = end
		}
	}
	return last
}

// Check judges a run.
type Check interface {
	// Name is the check's name as written in scenarios (with its params, when
	// several instances may exist, e.g. "latency[steady]").
	Name() string
	Evaluate(in *Input) Verdict
}
