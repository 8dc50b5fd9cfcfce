package check

import (
	"fmt"
	"strconv"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// ACKIntegrity checks that the SUT's HL7 acknowledgements can be trusted.
//
// Two ways an ACK lies: an ACK whose MSA-2 names no message the lab sent
// (stray_acks: the SUT answered with the wrong control id, which a sender
// matching MSA-2 to MSH-10 cannot use and one that does not would take as
// the answer to the wrong result); and an AA for a result that never reached
// MESH by the end of the run, so the AA did not stand for a result durably
// passed on. A late ACK — a correct answer for one of the lab's earlier
// messages that arrived after the lab moved on, because the ACK was slow —
// is not the SUT's fault: the lab matches MSA-2 as senders must (the Mirth
// #1441 failure is a sender that does not); it is reported, not failed.
type ACKIntegrity struct{}

// Name is the check's scenario name.
func (ACKIntegrity) Name() string { return NameACKIntegrity }

// Evaluate judges the run.
func (c ACKIntegrity) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	d := newDeliveries(meshMessages(in))
	var (
		results, acked, strayACKs, lateACKs int
		mismatched, hollow                  []record.Operation
	)
	for _, op := range in.Operations {
		if !isResult(op) {
			continue
		}
		results++
		stray, _ := strconv.Atoi(op.Key(keyStrayACKs))
		if all, err := strconv.Atoi(op.Key(keyMismatchedACKs)); err == nil && all > stray {
			lateACKs += all - stray
		}
		if stray > 0 {
			mismatched = append(mismatched, op)
			strayACKs += stray
		}
		if op.Outcome == record.OK {
			acked++
			if _, ok := d.of(op); !ok {
				hollow = append(hollow, op)
			}
		}
	}
	if results == 0 {
		v.Status = Inconclusive
		v.Message = "The lab sent no result, so there is no acknowledgement to judge."
		return v
	}
	if lateACKs > 0 {
		v.Details = append(v.Details, fmt.Sprintf("%d late %s arrived after the lab had moved on (correct answers to its earlier messages, delayed); the lab matched MSA-2 to MSH-10 and did not take them for the message in flight.",
			lateACKs, plural(lateACKs, "ACK", "ACKs")))
	}
	if len(mismatched) == 0 && len(hollow) == 0 {
		v.Status = Pass
		v.Message = fmt.Sprintf("Every ACK the SUT sent answered the message in flight, and all %d %s it acknowledged with AA reached MESH.",
			acked, plural(acked, "result", "results"))
		if acked == 0 {
			v.Message = fmt.Sprintf("Every ACK the SUT sent answered the message in flight, for all %d %s; none was acknowledged with AA.",
				results, plural(results, "result", "results"))
		}
		return v
	}

	v.Status = Fail
	var parts []string
	if len(mismatched) > 0 {
		parts = append(parts, fmt.Sprintf("%d %s named no message the lab had sent, while %d of %d %s in flight; a sender that does not match MSA-2 to MSH-10 would take them as the answer to the wrong result",
			strayACKs, plural(strayACKs, "ACK", "ACKs"), len(mismatched), results, plural(results, "result was", "results were")))
		for _, op := range capped(mismatched) {
			v.Details = append(v.Details, fmt.Sprintf("NHS number %s, result %s: %s ACK(s) naming no message the lab sent arrived while it was in flight (sent at %s, answered at %s).",
				op.Key(record.KeyNHSNumber), resultID(op), op.Key(keyStrayACKs), human(op.Call), human(op.Return)))
		}
	}
	if len(hollow) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s acknowledged with AA never reached MESH by the end of the run at %s, so the AA did not stand for a result passed on",
			len(hollow), acked, plural(acked, "result", "results"), human(in.End)))
		for _, op := range capped(hollow) {
			v.Details = append(v.Details, fmt.Sprintf("NHS number %s, result %s: AA at %s, not in MESH by the end of the run.",
				op.Key(record.KeyNHSNumber), resultID(op), human(op.Return)))
		}
	}
	v.Message = "The SUT's acknowledgements cannot be trusted: " + joinSentences(parts) + "."
	v.Evidence = capped(append(append([]record.Operation(nil), mismatched...), hollow...))
	return v
}

// Settled reports whether waiting longer cannot change the verdict: every
// AA'd result has reached MESH (stray ACKs are already on record).
func (c ACKIntegrity) Settled(in *Input) bool { return allAADelivered(in) }

func joinSentences(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return parts[0] + "; and " + parts[1]
}
