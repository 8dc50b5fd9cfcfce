package check

import (
	"fmt"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// NoLostResults checks that every pathology result the SUT acknowledged
// with AA reached the practice through MESH.
//
// An AA tells the lab it may forget the result: from then on the SUT alone
// holds it. Each OK "result" operation must show up as a MESH
// "message.sent" effect whose local_id is its MSH-10 or whose content_hash
// is its content hash, no later than Within after the later of the AA and
// the end of the last fault. A result whose deadline falls after the run
// ended cannot be judged, which makes the check inconclusive.
type NoLostResults struct {
	Within time.Duration
}

// Name is the check's scenario name.
func (c NoLostResults) Name() string { return NameNoLostResults }

// Evaluate judges the run.
func (c NoLostResults) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	d := newDeliveries(meshMessages(in))
	var results int
	var ackedOps []record.Operation
	for _, op := range in.Operations {
		if !isResult(op) {
			continue
		}
		results++
		if op.Outcome == record.OK {
			ackedOps = append(ackedOps, op)
		}
	}
	acked := len(ackedOps)
	judged := judgeDeadlines(in, c.Within, ackedOps, d.of)
	lostOnes, unresolved, slowest := judged.missed, judged.unresolved, judged.slowest
	rule := deadlineRule(in, c.Within, "being acknowledged")
	switch {
	case acked == 0:
		v.Status = Inconclusive
		v.Message = fmt.Sprintf("The SUT acknowledged no result with AA, so none can be judged lost: the lab sent %d %s and none was accepted.",
			results, plural(results, "result", "results"))
		return v
	case len(lostOnes) > 0:
		v.Status = Fail
		var nhs []string
		for i, l := range lostOnes {
			nhs = append(nhs, l.op.Key(record.KeyNHSNumber))
			if i >= MaxEvidence {
				continue
			}
			v.Evidence = append(v.Evidence, l.op)
			s := fmt.Sprintf("NHS number %s, result %s: acknowledged (AA) at %s, deadline %s, ",
				l.op.Key(record.KeyNHSNumber), resultID(l.op), human(l.op.Return), human(l.deadline))
			if l.late > 0 {
				s += fmt.Sprintf("reached MESH only at %s, %s late.", human(l.late), human(l.late-l.deadline))
			} else {
				s += "never reached MESH."
			}
			v.Details = append(v.Details, s)
		}
		if len(lostOnes) > MaxEvidence {
			v.Details = append(v.Details, fmt.Sprintf("… and %d more lost results.", len(lostOnes)-MaxEvidence))
		}
		v.Message = fmt.Sprintf("%d of %d pathology %s the SUT acknowledged (AA) never reached the practice through MESH %s. "+
			"The lab was told each was safely received, so it will not send them again. NHS %s: %s.",
			len(lostOnes), acked, plural(acked, "result", "results"), rule,
			plural(len(nhs), "number", "numbers"), listed(nhs, 10))
		if len(unresolved) > 0 {
			v.Details = append(v.Details, fmt.Sprintf("%d more acknowledged %s had not reached MESH when the run ended, before their deadline; they could not be judged.",
				len(unresolved), plural(len(unresolved), "result", "results")))
		}
		return v
	case len(unresolved) > 0:
		v.Status = Inconclusive
		v.Evidence = capped(unresolved)
		v.Message = fmt.Sprintf("%d of %d acknowledged %s had not reached MESH by the end of the run at %s, but %s deadline had not yet passed. The run ended too early to judge %s; let it run longer after the last fault.",
			len(unresolved), acked, plural(acked, "result", "results"), human(in.End),
			plural(len(unresolved), "its", "their"), plural(len(unresolved), "it", "them"))
		for _, op := range capped(unresolved) {
			v.Details = append(v.Details, fmt.Sprintf("NHS number %s, result %s: acknowledged at %s, deadline %s, not in MESH by the end of the run.",
				op.Key(record.KeyNHSNumber), resultID(op), human(op.Return), human(deadlineOf(in, c.Within, op))))
		}
		return v
	}
	v.Status = Pass
	v.Message = fmt.Sprintf("All %d pathology results the SUT acknowledged (AA) reached the practice through MESH %s.", acked, rule)
	if acked == 1 {
		v.Message = fmt.Sprintf("The one pathology result the SUT acknowledged (AA) reached the practice through MESH %s.", rule)
	}
	v.Details = []string{fmt.Sprintf("The longest wait from the AA to MESH was %s.", human(slowest))}
	return v
}

// Settled reports whether waiting longer cannot change the verdict: every
// acknowledged result has already reached MESH (on time or late).
func (c NoLostResults) Settled(in *Input) bool { return allAADelivered(in) }
