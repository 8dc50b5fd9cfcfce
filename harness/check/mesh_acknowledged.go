package check

import (
	"fmt"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// What mesh-acknowledged reads: the mesh-inbound workload's operations and
// the MESH mock's journal.
const (
	kindMESHAcknowledged = "message.acknowledged"
	kindMESHDownloaded   = "message.downloaded"
	actionMESHDeliver    = "mesh-deliver"
	workloadMESHInbound  = "mesh-inbound"
)

// MESHAcknowledged checks that the SUT collected every message delivered
// into its MESH mailbox: downloaded it and acknowledged it.
//
// MESH keeps an unacknowledged message in the inbox and, after its expiry,
// returns it to the sender as undeliverable; a message the SUT downloaded
// but never acknowledged is one it may have processed or may not. Each OK
// "mesh-deliver" operation must show up as a MESH "message.acknowledged"
// effect with the same message_id no later than Within after the later of
// the delivery and the end of the last fault. A message whose deadline
// falls after the run ended cannot be judged, which makes the check
// inconclusive, as does a run in which nothing was delivered.
type MESHAcknowledged struct {
	Within time.Duration
}

// Name is the check's scenario name.
func (c MESHAcknowledged) Name() string { return NameMESHAcknowledged }

// isMESHDeliver: op delivered a message into the SUT's mailbox
// (mesh-inbound workload).
func isMESHDeliver(op record.Operation) bool {
	return op.Action == actionMESHDeliver && (op.Workload == "" || op.Workload == workloadMESHInbound)
}

// firstMESHEffects maps message id to the earliest MESH effect of kind.
func firstMESHEffects(in *Input, kind string) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, e := range in.Effects {
		if e.Service != serviceMESH || e.Kind != kind {
			continue
		}
		id := e.Key(keyMESHMessageID)
		if at, ok := out[id]; id != "" && (!ok || e.At < at) {
			out[id] = e.At
		}
	}
	return out
}

// Evaluate judges the run.
func (c MESHAcknowledged) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	acked := firstMESHEffects(in, kindMESHAcknowledged)
	downloaded := firstMESHEffects(in, kindMESHDownloaded)
	var attempted int
	var deliveredOps []record.Operation
	for _, op := range in.Operations {
		if !isMESHDeliver(op) {
			continue
		}
		attempted++
		if op.Outcome == record.OK && op.Key(keyMESHMessageID) != "" {
			deliveredOps = append(deliveredOps, op)
		}
	}
	delivered := len(deliveredOps)
	judged := judgeDeadlines(in, c.Within, deliveredOps, func(op record.Operation) (time.Duration, bool) {
		at, ok := acked[op.Key(keyMESHMessageID)]
		return at, ok
	})
	missedOnes, unresolved, slowest := judged.missed, judged.unresolved, judged.slowest
	rule := deadlineRule(in, c.Within, "delivery")
	switch {
	case delivered == 0:
		v.Status = Inconclusive
		v.Message = fmt.Sprintf("No message was delivered into the SUT's MESH mailbox, so none can be judged unacknowledged (%d %s attempted).",
			attempted, plural(attempted, "delivery", "deliveries"))
		return v
	case len(missedOnes) > 0:
		v.Status = Fail
		var ids []string
		for i, m := range missedOnes {
			id := m.op.Key(keyMESHMessageID)
			ids = append(ids, id)
			if i >= MaxEvidence {
				continue
			}
			v.Evidence = append(v.Evidence, m.op)
			s := fmt.Sprintf("MESH message %s (local id %s): delivered at %s, deadline %s, ",
				id, orNone(m.op.Key(keyMESHLocalID)), human(m.op.Return), human(m.deadline))
			switch dl, wasDownloaded := downloaded[id]; {
			case m.late > 0:
				s += fmt.Sprintf("acknowledged only at %s, %s late.", human(m.late), human(m.late-m.deadline))
			case wasDownloaded:
				s += fmt.Sprintf("downloaded at %s but never acknowledged.", human(dl))
			default:
				s += "never downloaded or acknowledged."
			}
			v.Details = append(v.Details, s)
		}
		if len(missedOnes) > MaxEvidence {
			v.Details = append(v.Details, fmt.Sprintf("… and %d more unacknowledged messages.", len(missedOnes)-MaxEvidence))
		}
		v.Message = fmt.Sprintf("%d of %d %s delivered into the SUT's MESH mailbox %s not acknowledged %s. "+
			"MESH keeps an unacknowledged message in the inbox and in time returns it to the sender as undeliverable. "+
			"Unacknowledged MESH message %s: %s.",
			len(missedOnes), delivered, plural(delivered, "message", "messages"), plural(len(missedOnes), "was", "were"), rule,
			plural(len(ids), "id", "ids"), listed(ids, 10))
		if len(unresolved) > 0 {
			v.Details = append(v.Details, fmt.Sprintf("%d more delivered %s had not been acknowledged when the run ended, before their deadline; they could not be judged.",
				len(unresolved), plural(len(unresolved), "message", "messages")))
		}
		return v
	case len(unresolved) > 0:
		v.Status = Inconclusive
		v.Evidence = capped(unresolved)
		v.Message = fmt.Sprintf("%d of %d delivered %s had not been acknowledged by the end of the run at %s, but %s deadline had not yet passed. The run ended too early to judge %s; let it run longer after the last fault.",
			len(unresolved), delivered, plural(delivered, "message", "messages"), human(in.End),
			plural(len(unresolved), "its", "their"), plural(len(unresolved), "it", "them"))
		for _, op := range capped(unresolved) {
			v.Details = append(v.Details, fmt.Sprintf("MESH message %s: delivered at %s, deadline %s, not acknowledged by the end of the run.",
				op.Key(keyMESHMessageID), human(op.Return), human(deadlineOf(in, c.Within, op))))
		}
		return v
	}
	v.Status = Pass
	v.Message = fmt.Sprintf("All %d messages delivered into the SUT's MESH mailbox were acknowledged %s.", delivered, rule)
	if delivered == 1 {
		v.Message = fmt.Sprintf("The one message delivered into the SUT's MESH mailbox was acknowledged %s.", rule)
	}
	v.Details = []string{fmt.Sprintf("The longest wait from delivery to acknowledgement was %s.", human(slowest))}
	return v
}

// Settled reports whether waiting longer cannot change the verdict: every
// delivered message has already been acknowledged (on time or late).
func (c MESHAcknowledged) Settled(in *Input) bool {
	acked := firstMESHEffects(in, kindMESHAcknowledged)
	for _, op := range in.Operations {
		if isMESHDeliver(op) && op.Outcome == record.OK && op.Key(keyMESHMessageID) != "" {
			if _, ok := acked[op.Key(keyMESHMessageID)]; !ok {
				return false
			}
		}
	}
	return true
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
