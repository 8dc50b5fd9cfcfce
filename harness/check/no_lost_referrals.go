package check

import (
	"fmt"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// The e-RS mock's journal names.
const (
	serviceERS          = "ers"
	kindReferralCreated = "referral.created"
)

// NoLostReferrals checks that every referral the SUT accepted reached e-RS.
//
// An accepted referral is an operation with Outcome OK and an NHS number. It
// must show up as an e-RS "referral.created" effect for the same NHS number
// no later than Within after the later of its own return and the end of the
// last fault: the integration may hold referrals while e-RS is down, but must
// deliver them once it is back. A referral whose deadline falls after the
// run ended cannot be judged, which makes the check inconclusive rather than
// failed.
type NoLostReferrals struct {
	Within time.Duration
}

// Name is the check's scenario name.
func (c NoLostReferrals) Name() string { return NameNoLostReferrals }

// Evaluate judges the run.
func (c NoLostReferrals) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}

	// Earliest e-RS creation per NHS number.
	created := map[string]time.Duration{}
	for _, e := range in.Effects {
		if e.Service != serviceERS || e.Kind != kindReferralCreated {
			continue
		}
		nhs := e.Key(record.KeyNHSNumber)
		if nhs == "" {
			continue
		}
		if at, seen := created[nhs]; !seen || e.At < at {
			created[nhs] = e.At
		}
	}

	var acceptedOps []record.Operation
	for _, op := range in.Operations {
		if op.Outcome == record.OK && op.Key(record.KeyNHSNumber) != "" {
			acceptedOps = append(acceptedOps, op)
		}
	}
	accepted := len(acceptedOps)
	judged := judgeDeadlines(in, c.Within, acceptedOps, func(op record.Operation) (time.Duration, bool) {
		at, ok := created[op.Key(record.KeyNHSNumber)]
		return at, ok
	})
	lost, unresolved, slowest := judged.missed, judged.unresolved, judged.slowest
	rule := deadlineRule(in, c.Within, "being accepted")

	switch {
	case accepted == 0:
		v.Status = Inconclusive
		v.Message = fmt.Sprintf("Nothing was accepted, so nothing can be judged lost: none of the %d operations got an OK answer for a patient.",
			len(in.Operations))
		return v
	case len(lost) > 0:
		v.Status = Fail
		var nhs []string
		for i, l := range lost {
			nhs = append(nhs, l.op.Key(record.KeyNHSNumber))
			if i < MaxEvidence {
				v.Evidence = append(v.Evidence, l.op)
				v.Details = append(v.Details, describeLost(l))
			}
		}
		if len(lost) > MaxEvidence {
			v.Details = append(v.Details, fmt.Sprintf("… and %d more lost referrals.", len(lost)-MaxEvidence))
		}
		v.Message = fmt.Sprintf("%d of %d accepted %s never reached e-RS %s. NHS %s: %s.",
			len(lost), accepted, plural(accepted, "referral", "referrals"), rule,
			plural(len(nhs), "number", "numbers"), listed(nhs, 10))
		if len(unresolved) > 0 {
			v.Details = append(v.Details, fmt.Sprintf("%d more accepted %s had not reached e-RS when the run ended, before their deadline; they could not be judged.",
				len(unresolved), plural(len(unresolved), "referral", "referrals")))
		}
		return v
	case len(unresolved) > 0:
		v.Status = Inconclusive
		v.Evidence = capped(unresolved)
		v.Message = fmt.Sprintf("%d of %d accepted %s had not reached e-RS by the end of the run at %s, but %s deadline had not yet passed. The run ended too early to judge %s; let it run longer after the last fault.",
			len(unresolved), accepted, plural(accepted, "referral", "referrals"), human(in.End),
			plural(len(unresolved), "its", "their"), plural(len(unresolved), "it", "them"))
		for _, op := range capped(unresolved) {
			v.Details = append(v.Details, fmt.Sprintf("NHS number %s: accepted at %s, deadline %s, not in e-RS by the end of the run.",
				op.Key(record.KeyNHSNumber), human(op.Return), human(deadlineOf(in, c.Within, op))))
		}
		return v
	}
	v.Status = Pass
	v.Message = fmt.Sprintf("All %d accepted referrals reached e-RS %s.", accepted, rule)
	if accepted == 1 {
		v.Message = fmt.Sprintf("The one accepted referral reached e-RS %s.", rule)
	}
	v.Details = []string{fmt.Sprintf("The longest wait from acceptance to e-RS was %s.", human(slowest))}
	return v
}

func describeLost(l missedDeadline) string {
	op := l.op
	s := fmt.Sprintf("NHS number %s (request %s): accepted at %s, deadline %s, ",
		op.Key(record.KeyNHSNumber), op.Key(record.KeyRequestID), human(op.Return), human(l.deadline))
	if l.late > 0 {
		return s + fmt.Sprintf("reached e-RS only at %s, %s late.", human(l.late), human(l.late-l.deadline))
	}
	return s + "never reached e-RS."
}

// Settled reports whether waiting longer cannot change the verdict: every
// accepted referral has already reached e-RS (on time or late). The engine
// uses it to end the drain early.
func (c NoLostReferrals) Settled(in *Input) bool {
	created := map[string]bool{}
	for _, e := range in.Effects {
		if e.Service == serviceERS && e.Kind == kindReferralCreated {
			created[e.Key(record.KeyNHSNumber)] = true
		}
	}
	for _, op := range in.Operations {
		nhs := op.Key(record.KeyNHSNumber)
		if op.Outcome == record.OK && nhs != "" && !created[nhs] {
			return false
		}
	}
	return true
}
