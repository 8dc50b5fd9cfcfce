package check

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// PerPatientOrder checks that each patient's results reached the practice
// in the order the lab sent them.
//
// A corrected result sent after the preliminary it corrects must not be
// overtaken by it: the practice files the later arrival last, so the wrong
// value is the one that stays in the record. For each NHS number the
// results that reached MESH (first MESH "message.sent" matched by local id
// or content hash) are taken in the order the lab sent them (Intended);
// any result that reached MESH before one the lab sent earlier is an
// inversion.
type PerPatientOrder struct{}

// Name is the check's scenario name.
func (PerPatientOrder) Name() string { return NamePerPatientOrder }

type delivered struct {
	op record.Operation
	at time.Duration
}

// inversion: later was sent after earlier but reached MESH before it.
type inversion struct{ earlier, later delivered }

// Evaluate judges the run.
func (c PerPatientOrder) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	d := newDeliveries(meshMessages(in))
	byPatient := map[string][]delivered{}
	var order []string
	for _, op := range in.Operations {
		nhs := op.Key(record.KeyNHSNumber)
		if !isResult(op) || nhs == "" {
			continue
		}
		at, ok := d.of(op)
		if !ok {
			continue
		}
		if _, seen := byPatient[nhs]; !seen {
			order = append(order, nhs)
		}
		byPatient[nhs] = append(byPatient[nhs], delivered{op: op, at: at})
	}

	var (
		judged  int
		bad     []string
		invs    []inversion
		seenOps = map[int64]bool{}
	)
	for _, nhs := range order {
		rs := byPatient[nhs]
		if len(rs) < 2 {
			continue
		}
		judged++
		slices.SortStableFunc(rs, func(a, b delivered) int {
			return cmp.Or(cmp.Compare(a.op.Intended, b.op.Intended), cmp.Compare(a.op.Call, b.op.Call), cmp.Compare(a.op.Seq, b.op.Seq))
		})
		found := false
		for j := 1; j < len(rs); j++ {
			// The latest-arriving result sent before rs[j].
			var worst *delivered
			for i := range j {
				if rs[i].at > rs[j].at && (worst == nil || rs[i].at > worst.at) {
					worst = &rs[i]
				}
			}
			if worst == nil {
				continue
			}
			found = true
			invs = append(invs, inversion{earlier: *worst, later: rs[j]})
		}
		if found {
			bad = append(bad, nhs)
		}
	}
	if judged == 0 {
		v.Status = Inconclusive
		v.Message = "No patient had two results reach MESH, so the order of a patient's results cannot be judged."
		return v
	}
	if len(invs) == 0 {
		v.Status = Pass
		v.Message = fmt.Sprintf("For each of the %d patients with more than one result, the results reached the practice in the order the lab sent them.", judged)
		if judged == 1 {
			v.Message = "For the one patient with more than one result, the results reached the practice in the order the lab sent them."
		}
		return v
	}
	for i, x := range invs {
		for _, o := range []record.Operation{x.earlier.op, x.later.op} {
			if !seenOps[o.Seq] {
				seenOps[o.Seq] = true
				v.Evidence = append(v.Evidence, o)
			}
		}
		if i < MaxEvidence {
			v.Details = append(v.Details, fmt.Sprintf("NHS number %s: result %s, sent at %s, reached MESH at %s, before result %s, sent earlier at %s, which reached MESH at %s.",
				x.later.op.Key(record.KeyNHSNumber), resultID(x.later.op), human(x.later.op.Intended), human(x.later.at),
				resultID(x.earlier.op), human(x.earlier.op.Intended), human(x.earlier.at)))
		}
	}
	if len(invs) > MaxEvidence {
		v.Details = append(v.Details, fmt.Sprintf("… and %d more results out of order.", len(invs)-MaxEvidence))
	}
	v.Evidence = capped(v.Evidence)
	v.Status = Fail
	v.Message = fmt.Sprintf("For %d of %d %s with more than one result, results reached the practice out of the order the lab sent them (%d %s overtook an earlier one). "+
		"An earlier result filed after a later one (a preliminary after its correction) leaves the wrong value in the record. NHS %s: %s.",
		len(bad), judged, plural(judged, "patient", "patients"), len(invs), plural(len(invs), "result", "results"),
		plural(len(bad), "number", "numbers"), listed(bad, 10))
	return v
}
