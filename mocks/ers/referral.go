package ers

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// related reports whether the caller's organisation has a legitimate
// relationship with r: it referred it, or (as a provider) it provides a
// shortlisted service.
func (m *Mock) related(r *referral, rq *request) bool {
	if strings.EqualFold(r.ReferrerODS, rq.ods) && isReferrer(rq.bf) {
		return true
	}
	return strings.EqualFold(m.providerODS, rq.ods) && isProvider(rq.bf)
}

func isReferrer(bf string) bool {
	return bf == BFReferringClinician || bf == BFReferringClinicianAdmin || bf == BFReferringAdmin
}

func isProvider(bf string) bool {
	return bf == BFServiceProviderClinician || bf == BFServiceProviderClinicianAdmin || bf == BFServiceProviderAdmin
}

func noRelationship(ubrn string) *apiError {
	return invalid(codeNoRelationship, "The user does not have a legitimate relationship with the referral request %s.", ubrn)
}

// handleRead serves A005, current and versioned. e-RS only supports reading
// the most recent version: any other version is 404.
func (m *Mock) handleRead(w http.ResponseWriter, r *http.Request, rq *request) {
	ubrn := rq.vars["ubrn"]
	ref, ok := m.get(ubrn)
	if !ok {
		writeError(w, false, m.now, errorf(http.StatusNotFound, fhir.IssueNotFound, codeReferenceNotFound, "Referral request %s not found.", ubrn))
		return
	}
	if !m.related(ref, rq) {
		writeError(w, false, m.now, noRelationship(ubrn))
		return
	}
	if v, versioned := rq.vars["version"]; versioned {
		n, err := strconv.Atoi(v)
		if err != nil || n != ref.Version {
			writeError(w, false, m.now, errorf(http.StatusNotFound, fhir.IssueNotFound, codeReferenceNotFound,
				"Referral request %s version %s not found: resource version does not match version requested (only the current version %d can be retrieved).", ubrn, v, ref.Version))
			return
		}
	}
	m.writeReferral(w, http.StatusOK, ref, rq.base)
}

var ifMatchPattern = regexp.MustCompile(`^W/"([0-9]+)"$`)

// handleCancel serves A036.
func (m *Mock) handleCancel(w http.ResponseWriter, r *http.Request, rq *request) {
	ubrn := rq.vars["ubrn"]
	fail := func(e *apiError) { writeError(w, false, m.now, e) }

	im := strings.TrimSpace(r.Header.Get(headerIfMatch))
	if im == "" {
		fail(errorf(http.StatusPreconditionFailed, fhir.IssueRequired, codeMissingValue, "Mandatory data is missing: the If-Match header (W/\"<version>\") is required to cancel a referral."))
		return
	}
	sm := ifMatchPattern.FindStringSubmatch(im)
	if sm == nil {
		fail(errorf(http.StatusBadRequest, fhir.IssueValue, codeInvalidValue, "If-Match header %q must match W/\"<version>\".", im))
		return
	}
	want, err := strconv.Atoi(sm[1])
	if err != nil {
		fail(errorf(http.StatusBadRequest, fhir.IssueValue, codeInvalidValue, "If-Match version %q is out of range.", sm[1]))
		return
	}

	p, err := fhir.DecodeParameters(r.Body, bodyLimit)
	if err != nil {
		fail(decodeFailure(err))
		return
	}
	if e := checkParameterNames(p, "", []string{"cancellationReason", "cancellationComments"}, []string{"cancellationReason"}); e != nil {
		fail(e)
		return
	}
	cr := p.First("cancellationReason")
	if cr.ValueCoding == nil {
		fail(invalid(codeInvalidStructure, "'parameter' (cancellationReason) must have a valueCoding"))
		return
	}
	if !hasSuffixSystem(cr.ValueCoding.System, suffixCancellationReason) {
		fail(invalid(codeInvalidCode, "'parameter' (cancellationReason) system %q must be the REFERRAL-CANCELLATION-REASON code system", cr.ValueCoding.System))
		return
	}
	reason, ok := cancellationReasons[cr.ValueCoding.Code]
	if !ok {
		fail(invalid(codeInvalidCode, "'parameter' (cancellationReason) code %q is not a REFERRAL-CANCELLATION-REASON usable to cancel a referral", cr.ValueCoding.Code))
		return
	}
	if !containsString(reason.Functions, rq.bf) {
		fail(invalid(codeInappropriateValue, "'parameter' (cancellationReason) %s cannot be used by business function %s", cr.ValueCoding.Code, rq.bf))
		return
	}
	comment := ""
	if c := p.First("cancellationComments"); c != nil {
		if c.ValueString == nil {
			fail(invalid(codeInvalidStructure, "'parameter' (cancellationComments) must have a valueString"))
			return
		}
		comment = *c.ValueString
	}
	if reason.CommentMandatory && strings.TrimSpace(comment) == "" {
		fail(invalid(codeMissingValue, "'parameter' (cancellationComments) is mandatory for cancellation reason %s", cr.ValueCoding.Code))
		return
	}
	if n := utf8.RuneCountInString(comment); n > maxCancellationComment {
		fail(invalid(codeInvalidValue, "'parameter' (cancellationComments) has %d characters; at most %d are allowed", n, maxCancellationComment))
		return
	}

	updated, e := m.update(ubrn, func(cur *referral) (*referral, *apiError) {
		if !m.related(cur, rq) {
			return nil, noRelationship(ubrn)
		}
		if want != cur.Version {
			return nil, errorf(http.StatusConflict, fhir.IssueConflict, codeConflict,
				"Version supplied as part of the request (%d) does not match current version of the referral request %s (%d).", want, ubrn, cur.Version)
		}
		if cur.State == StateCancelledReferral {
			return nil, invalid(codeInvalidRequestState, "Referral request %s is already cancelled (state %s); it cannot be cancelled again.", ubrn, cur.State)
		}
		cur.State, cur.StateReason, cur.StateComment = StateCancelledReferral, cr.ValueCoding.Code, comment
		cur.Status = "cancelled"
		cur.CancelledBy = rq.ods
		cur.Updated = m.now()
		m.stats.ReferralsCancelled++
		return cur, nil
	})
	if e != nil {
		fail(e)
		return
	}
	m.record("referral.cancelled", map[string]string{
		keyUBRN:          ubrn,
		keyNHSNumber:     updated.NHSNumber,
		keyCorrelationID: rq.correlationID,
		keyRequestID:     rq.requestID,
	}, map[string]string{
		"ods":               rq.ods,
		"business_function": rq.bf,
		"version":           strconv.Itoa(updated.Version),
		"reason":            updated.StateReason,
	})
	m.log.Info("ers mock: referral cancelled", "ubrn", ubrn, "version", updated.Version, "correlation_id", rq.correlationID)

	out := fhir.NewParameters(profileCancelResponse)
	if err := out.AddResource("updatedReferralRequest", m.renderReferral(updated, rq.base)); err != nil {
		fail(errorf(http.StatusInternalServerError, fhir.IssueException, codeInternalServerError, "%v", fmt.Errorf("cancel referral %s: %w", ubrn, err)))
		return
	}
	w.Header().Set(headerETag, etag(updated.Version))
	_ = fhir.WriteJSON(w, http.StatusOK, fhir.MediaTypeFHIRJSON, out)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
