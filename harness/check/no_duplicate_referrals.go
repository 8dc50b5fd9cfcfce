package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// NoDuplicateReferrals checks that no patient was referred twice in e-RS.
//
// e-RS has no idempotency keys: an integration that retries a create after a
// lost answer mints a second referral (a second UBRN) for the same patient.
// The check groups the e-RS "referral.created" effects by NHS number and
// fails for any patient with more than one UBRN.
type NoDuplicateReferrals struct{}

// Name is the check's scenario name.
func (NoDuplicateReferrals) Name() string { return NameNoDuplicateReferrals }

// referral is one e-RS creation.
type referral struct {
	ubrn string
	at   time.Duration
}

// Evaluate judges the run.
func (c NoDuplicateReferrals) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}

	byPatient := map[string][]referral{}
	var order []string // NHS numbers in order of first creation
	for _, e := range in.Effects {
		if e.Service != serviceERS || e.Kind != kindReferralCreated {
			continue
		}
		nhs := e.Key(record.KeyNHSNumber)
		if nhs == "" {
			continue
		}
		if _, seen := byPatient[nhs]; !seen {
			order = append(order, nhs)
		}
		byPatient[nhs] = append(byPatient[nhs], referral{ubrn: e.Key(record.KeyUBRN), at: e.At})
	}
	if len(byPatient) == 0 {
		v.Status = Inconclusive
		v.Message = "No referral was created in e-RS, so there is nothing to judge for duplicates."
		return v
	}

	var dupes []string
	extra := 0
	for _, nhs := range order {
		refs := distinctReferrals(byPatient[nhs])
		if len(refs) < 2 {
			continue
		}
		dupes = append(dupes, nhs)
		extra += len(refs) - 1
		if len(v.Details) < MaxEvidence {
			v.Details = append(v.Details, describeDuplicates(nhs, refs))
		}
	}
	if len(dupes) == 0 {
		v.Status = Pass
		v.Message = fmt.Sprintf("Each of the %d patients referred in e-RS has exactly one referral.", len(order))
		if len(order) == 1 {
			v.Message = "The one patient referred in e-RS has exactly one referral."
		}
		return v
	}
	if len(dupes) > MaxEvidence {
		v.Details = append(v.Details, fmt.Sprintf("… and %d more patients with duplicate referrals.", len(dupes)-MaxEvidence))
	}

	isDupe := map[string]bool{}
	for _, nhs := range dupes {
		isDupe[nhs] = true
	}
	for _, op := range in.Operations {
		if isDupe[op.Key(record.KeyNHSNumber)] {
			v.Evidence = append(v.Evidence, op)
		}
	}
	v.Evidence = capped(v.Evidence)

	v.Status = Fail
	v.Message = fmt.Sprintf("%d of %d %s referred in e-RS %s more than one referral (%d duplicate %s); NHS %s %s.",
		len(dupes), len(order), plural(len(order), "patient", "patients"),
		plural(len(dupes), "has", "have"), extra, plural(extra, "referral", "referrals"),
		plural(len(dupes), "number", "numbers"), listed(dupes, 10))
	return v
}

// distinctReferrals collapses repeated journal entries for one UBRN; entries
// with no UBRN each count as a referral of their own.
func distinctReferrals(refs []referral) []referral {
	var out []referral
	for _, r := range refs {
		if r.ubrn != "" && slices.ContainsFunc(out, func(o referral) bool { return o.ubrn == r.ubrn }) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func describeDuplicates(nhs string, refs []referral) string {
	parts := make([]string, 0, len(refs))
	for _, r := range refs {
		ubrn := r.ubrn
		if ubrn == "" {
			ubrn = "(no UBRN recorded)"
		}
		parts = append(parts, fmt.Sprintf("%s at %s", ubrn, human(r.at)))
	}
	return fmt.Sprintf("NHS number %s: %d referrals, UBRNs %s.", nhs, len(refs), strings.Join(parts, ", "))
}
