package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// SUTAlive checks that the system under test never exited when the harness
// did not make it (a crash fault, a planned stop): the iRefer incident was an
// integration taking the clinical system down with it.
type SUTAlive struct{}

// Name is the check's scenario name.
func (SUTAlive) Name() string { return NameSUTAlive }

// Evaluate judges the run.
func (c SUTAlive) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	if len(in.SUT) == 0 {
		v.Status = Inconclusive
		v.Message = "No lifecycle events were recorded for the system under test (for example, it was already running at a URL), so there is nothing to judge."
		return v
	}
	var exits []string
	for _, e := range in.SUT {
		if e.Kind != record.SUTExited || e.Expected {
			continue
		}
		exits = append(exits, fmt.Sprintf("at %s with exit code %d", human(e.At), e.ExitCode))
		d := fmt.Sprintf("Exited unexpectedly at %s with exit code %d", human(e.At), e.ExitCode)
		if e.PID != 0 {
			d += fmt.Sprintf(" (process %d)", e.PID)
		}
		if e.Detail != "" {
			d += ": " + e.Detail
		}
		v.Details = append(v.Details, d+".")
		v.Evidence = append(v.Evidence, inFlightAt(in.Operations, e.At)...)
	}
	if len(exits) == 0 {
		v.Status = Pass
		v.Message = "The system under test never exited unexpectedly."
		return v
	}
	v.Status = Fail
	if len(exits) == 1 {
		v.Message = "The system under test exited unexpectedly " + exits[0] + "."
	} else {
		v.Message = fmt.Sprintf("The system under test exited unexpectedly %d times: %s.", len(exits), strings.Join(exits, "; "))
	}
	v.Evidence = capped(v.Evidence)
	return v
}

// inFlightAt returns the operations that were due or running at t.
func inFlightAt(ops []record.Operation, t time.Duration) []record.Operation {
	var out []record.Operation
	for _, op := range ops {
		if op.Intended <= t && t <= op.Return {
			out = append(out, op)
		}
	}
	return out
}
