package check

import (
	"fmt"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// ErrorRate checks the fraction of operations in a phase that did not end
// OK: refused by the SUT (Fail) or left without an answer (Unknown).
type ErrorRate struct {
	Phase string
	// Max is the largest acceptable fraction, 0 to 1.
	Max float64
}

// Name is the check's scenario name with its phase, e.g. "error-rate[all]".
func (c ErrorRate) Name() string { return fmt.Sprintf("%s[%s]", NameErrorRate, c.Phase) }

// Evaluate judges the run.
func (c ErrorRate) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	ops := PhaseOps(in, c.Phase)
	where := describePhase(c.Phase)
	if len(ops) == 0 {
		v.Status = Inconclusive
		v.Message = fmt.Sprintf("No operations were sent %s, so their error rate cannot be judged.", where)
		return v
	}
	s := Stats(ops)
	bad := s.Fail + s.Unknown
	rate := float64(bad) / float64(s.Count)
	summary := fmt.Sprintf("%d of %d %s %s (%s) failed or got no answer (%d refused, %d with no answer)",
		bad, s.Count, plural(s.Count, "operation", "operations"), where, percent(rate), s.Fail, s.Unknown)
	if rate <= c.Max {
		v.Status = Pass
		v.Message = fmt.Sprintf("%s, within the limit of %s.", summary, percent(c.Max))
		return v
	}
	v.Status = Fail
	v.Message = fmt.Sprintf("%s, above the limit of %s.", summary, percent(c.Max))
	for _, op := range ops {
		if op.Outcome != record.OK {
			v.Evidence = append(v.Evidence, op)
			if len(v.Evidence) == MaxEvidence {
				break
			}
		}
	}
	return v
}
