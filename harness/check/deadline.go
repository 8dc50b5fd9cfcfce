package check

import (
	"fmt"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// The "within" rule shared by the delivery checks (no-lost-referrals,
// no-lost-results, mesh-acknowledged): an accepted operation's effect must
// arrive no later than Within after the later of the operation's return and
// the end of the last fault — an integration may hold work while a
// dependency is down, but must deliver once it is back. An operation whose
// deadline falls after the run ended cannot be judged yet.

// missedDeadline is one accepted operation whose effect did not arrive in
// time.
type missedDeadline struct {
	op       record.Operation
	deadline time.Duration
	// late is when the effect did arrive, after the deadline; 0 if never.
	late time.Duration
}

// deadlines sorts accepted operations by the within rule.
type deadlines struct {
	missed []missedDeadline
	// unresolved had no effect yet, but their deadline is after the run end.
	unresolved []record.Operation
	// slowest is the longest wait from return to effect among those on time.
	slowest time.Duration
}

// judgeDeadlines applies the within rule to ops; arrival gives when an
// operation's effect first arrived.
func judgeDeadlines(in *Input, within time.Duration, ops []record.Operation, arrival func(record.Operation) (time.Duration, bool)) deadlines {
	var out deadlines
	for _, op := range ops {
		deadline := deadlineOf(in, within, op)
		at, arrived := arrival(op)
		switch {
		case arrived && at <= deadline:
			out.slowest = max(out.slowest, at-op.Return)
		case deadline <= in.End:
			m := missedDeadline{op: op, deadline: deadline}
			if arrived {
				m.late = at
			}
			out.missed = append(out.missed, m)
		default:
			out.unresolved = append(out.unresolved, op)
		}
	}
	return out
}

// deadlineOf is op's deadline under the within rule.
func deadlineOf(in *Input, within time.Duration, op record.Operation) time.Duration {
	return max(op.Return, in.LastFaultEnd()) + within
}

// deadlineRule says the rule in words; since names what starts an
// operation's clock ("being accepted", "delivery").
func deadlineRule(in *Input, within time.Duration, since string) string {
	if last := in.LastFaultEnd(); last > 0 {
		return fmt.Sprintf("within %s of the last fault ending at %s, or of %s if that was later", human(within), human(last), since)
	}
	return fmt.Sprintf("within %s of %s", human(within), since)
}
