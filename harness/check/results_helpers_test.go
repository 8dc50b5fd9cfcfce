package check_test

import (
	"fmt"
	"strconv"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// result is a lab-results operation: result n for patient p, sent at `at`
// seconds and answered `took` seconds later with outcome o.
func result(n, p int, at, took float64, o record.Outcome) record.Operation {
	return record.Operation{
		Seq:      int64(n + 1),
		Workload: "lab-results",
		Action:   "result",
		Intended: sec(at),
		Call:     sec(at),
		Return:   sec(at + took),
		Outcome:  o,
		Keys: map[string]string{
			"msh10":             msh10(n),
			record.KeyNHSNumber: nhs(p),
			"content_hash":      hash(n),
			"attempts":          "1",
		},
	}
}

func msh10(n int) string { return fmt.Sprintf("LAB%05d", n) }
func hash(n int) string  { return fmt.Sprintf("%064x", n+1) }

// withKey returns op with key k set to v.
func withKey(op record.Operation, k, v string) record.Operation {
	keys := map[string]string{}
	for kk, vv := range op.Keys {
		keys[kk] = vv
	}
	keys[k] = v
	op.Keys = keys
	return op
}

// mismatched returns op with n stray ACKs recorded.
func mismatched(op record.Operation, n int) record.Operation {
	return withKey(op, "mismatched_acks", strconv.Itoa(n))
}

// stray marks n of a result's mismatched ACKs as naming no message the lab
// sent (the SUT's fault); the rest are late ACKs.
func stray(op record.Operation, n int) record.Operation {
	return withKey(op, "stray_acks", strconv.Itoa(n))
}

// sent is a MESH message.sent effect carrying result n of patient p, with
// MESH message id id, at `at` seconds.
func sent(id string, n, p int, at float64) record.Effect {
	return record.Effect{
		Service: "mesh",
		Kind:    "message.sent",
		At:      sec(at),
		Keys: map[string]string{
			"message_id": id, "local_id": msh10(n), "bundle_id": "bundle-" + msh10(n),
			record.KeyNHSNumber: nhs(p), "content_hash": hash(n), "from": "X26SUT01", "to": "X26GP001",
		},
	}
}

// reminted is sent with a new local id and Bundle id but the same content.
func reminted(id string, n, p int, at float64) record.Effect {
	e := sent(id, n, p, at)
	e.Keys["local_id"] = "NEW-" + id
	e.Keys["bundle_id"] = "bundle-NEW-" + id
	return e
}
