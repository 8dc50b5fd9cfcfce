package check

import (
	"slices"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// What the pathology checks read: the lab-results workload's operations
// and the MESH mock's journal.
const (
	serviceMESH       = "mesh"
	kindMESHSent      = "message.sent"
	actionResult      = "result"
	keyMSH10          = "msh10"
	keyContentHash    = "content_hash"
	keyMismatchedACKs = "mismatched_acks"
	keyStrayACKs      = "stray_acks"
	keyMESHWorkflow   = "workflow"
	// workflowPathReport is the MESH workflow of a FHIR pathology report.
	workflowPathReport = "PATH_BS_R4"
	keyMESHLocalID     = "local_id"
	keyMESHBundleID    = "bundle_id"
	keyMESHMessageID   = "message_id"
	workloadLabResults = "lab-results"
)

// meshMessage is one message the SUT sent through MESH (accepted by MESH
// for the recipient's mailbox).
type meshMessage struct {
	at        time.Duration
	messageID string
	localID   string
	bundleID  string
	hash      string
	nhs       string
}

// meshMessages lists the MESH "message.sent" effects in time order, each
// MESH message id once.
func meshMessages(in *Input) []meshMessage {
	var out []meshMessage
	seen := map[string]bool{}
	for _, e := range in.Effects {
		if e.Service != serviceMESH || e.Kind != kindMESHSent {
			continue
		}
		// Only pathology reports count: a FHIR report Bundle (it has a
		// content hash) or anything on the report workflow. Other traffic,
		// such as the practice's acknowledgements delivered to the SUT's own
		// mailbox, is not a result reaching the practice.
		if e.Key(keyContentHash) == "" && e.Key(keyMESHWorkflow) != workflowPathReport {
			continue
		}
		id := e.Key(keyMESHMessageID)
		if id != "" {
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		out = append(out, meshMessage{
			at: e.At, messageID: id, localID: e.Key(keyMESHLocalID), bundleID: e.Key(keyMESHBundleID),
			hash: e.Key(keyContentHash), nhs: e.Key(record.KeyNHSNumber),
		})
	}
	slices.SortStableFunc(out, func(a, b meshMessage) int { return cmpDuration(a.at, b.at) })
	return out
}

func cmpDuration(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// deliveries finds when results reached MESH: the earliest message whose
// local id is the result's MSH-10, else the earliest whose content hash is
// the result's.
type deliveries struct {
	byLocal map[string]time.Duration
	byHash  map[string]time.Duration
}

func newDeliveries(msgs []meshMessage) deliveries {
	d := deliveries{byLocal: map[string]time.Duration{}, byHash: map[string]time.Duration{}}
	for _, m := range msgs { // in time order: the first seen is the earliest
		if _, ok := d.byLocal[m.localID]; m.localID != "" && !ok {
			d.byLocal[m.localID] = m.at
		}
		if _, ok := d.byHash[m.hash]; m.hash != "" && !ok {
			d.byHash[m.hash] = m.at
		}
	}
	return d
}

// of returns when op's result first reached MESH.
func (d deliveries) of(op record.Operation) (time.Duration, bool) {
	if id := op.Key(keyMSH10); id != "" {
		if at, ok := d.byLocal[id]; ok {
			return at, true
		}
	}
	if h := op.Key(keyContentHash); h != "" {
		if at, ok := d.byHash[h]; ok {
			return at, true
		}
	}
	return 0, false
}

// isResult: op is a lab result the lab sent (lab-results workload).
func isResult(op record.Operation) bool {
	return op.Action == actionResult && (op.Workload == "" || op.Workload == workloadLabResults)
}

// resultID names a result for a reader: its MSH-10, else its content hash.
func resultID(op record.Operation) string {
	if id := op.Key(keyMSH10); id != "" {
		return id
	}
	if h := op.Key(keyContentHash); h != "" {
		return "content " + shortHash(h)
	}
	return "(no id recorded)"
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// allAADelivered: every result the SUT AA'd has reached MESH.
func allAADelivered(in *Input) bool {
	d := newDeliveries(meshMessages(in))
	for _, op := range in.Operations {
		if isResult(op) && op.Outcome == record.OK {
			if _, ok := d.of(op); !ok {
				return false
			}
		}
	}
	return true
}
