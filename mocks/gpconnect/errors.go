package gpconnect

import (
	"fmt"
	"net/http"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Profiles and code systems of error bodies.
const (
	outcomeProfile = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
	spineSystem    = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
	// sspSystem is the code system of the Spine Secure Proxy's own errors.
	sspSystem = "http://fhir.nhs.net/ValueSet/gpconnect-schedule-response-code-1-0"
)

// Spine error or warning codes (Spine-ErrorOrWarningCode-1). Codes marked
// (inferred) are not given by the specification for that case.
const (
	CodeBadRequest          = "BAD_REQUEST"
	CodeInvalidIdentifierSy = "INVALID_IDENTIFIER_SYSTEM"
	CodeInvalidIdentifierVa = "INVALID_IDENTIFIER_VALUE"
	CodeInvalidNHSNumber    = "INVALID_NHS_NUMBER"
	CodeInvalidParameter    = "INVALID_PARAMETER"
	CodeInvalidResource     = "INVALID_RESOURCE"
	CodeReferenceNotFound   = "REFERENCE_NOT_FOUND"
	CodePatientNotFound     = "PATIENT_NOT_FOUND"
	CodeOrganisationNotFnd  = "ORGANISATION_NOT_FOUND"
	CodePractitionerNotFnd  = "PRACTITIONER_NOT_FOUND"
	CodeNoRecordFound       = "NO_RECORD_FOUND" // locations, appointments and unknown paths
	CodeDuplicateRejected   = "DUPLICATE_REJECTED"
	CodeAccessDenied        = "ACCESS DENIED" // sic: the code system spells it with a space
	CodeInternalServerError = "INTERNAL_SERVER_ERROR"
	CodeNotImplemented      = "NOT_IMPLEMENTED"
	CodeConflict            = "CONFLICT"          // (inferred) stale If-Match; the specification gives 409 without a code
	CodeTooManyRequests     = "TOO_MANY_REQUESTS" // (inferred) in-band 429
)

var displays = map[string]string{
	CodeBadRequest:          "Bad request",
	CodeInvalidIdentifierSy: "Invalid identifier system",
	CodeInvalidIdentifierVa: "Invalid identifier value",
	CodeInvalidNHSNumber:    "Invalid NHS number",
	CodeInvalidParameter:    "Submitted parameter is not valid.",
	CodeInvalidResource:     "Submitted resource is not valid.",
	CodeReferenceNotFound:   "Reference not found",
	CodePatientNotFound:     "Patient not found",
	CodeOrganisationNotFnd:  "Organisation record not found",
	CodePractitionerNotFnd:  "Practitioner record not found",
	CodeNoRecordFound:       "No record found",
	CodeDuplicateRejected:   "Create would lead to creation of a duplicate resource",
	CodeAccessDenied:        "Access denied",
	CodeInternalServerError: "Internal server error",
	CodeNotImplemented:      "Not implemented",
	CodeConflict:            "Conflict",
	CodeTooManyRequests:     "Too many requests",
}

// apiError is a GP Connect error answer.
type apiError struct {
	Status int
	Issue  string // FHIR issue type
	Code   string // Spine code
	Diag   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Diag) }

func errorf(status int, issue, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Issue: issue, Code: code, Diag: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, fhir.IssueInvalid, CodeBadRequest, format, args...)
}

func invalidParameter(format string, args ...any) *apiError {
	return errorf(http.StatusUnprocessableEntity, fhir.IssueInvalid, CodeInvalidParameter, format, args...)
}

func invalidResource(format string, args ...any) *apiError {
	return errorf(http.StatusUnprocessableEntity, fhir.IssueInvalid, CodeInvalidResource, format, args...)
}

// outcomeBuilder builds GPConnect-OperationOutcome-1 bodies.
func outcomeBuilder() fhir.OutcomeBuilder {
	return fhir.OutcomeBuilder{Profile: outcomeProfile, System: spineSystem}
}

// writeError writes e as a GPConnect-OperationOutcome-1.
func writeError(w http.ResponseWriter, e *apiError) {
	_ = fhir.WriteJSON(w, e.Status, fhir.MediaTypeFHIRJSON, outcomeBuilder().Error(e.Issue, e.Code, displays[e.Code], e.Diag))
}

// defaultError is the provider's error for an in-band status fault.
func defaultError(status int, code string) *apiError {
	e := &apiError{Status: status}
	switch status {
	case http.StatusBadRequest:
		e.Issue, e.Code, e.Diag = fhir.IssueInvalid, CodeBadRequest, "Bad request."
	case http.StatusForbidden:
		e.Issue, e.Code, e.Diag = fhir.IssueForbidden, CodeAccessDenied, "The provider is not accepting this interaction at present (read-only)."
	case http.StatusNotFound:
		e.Issue, e.Code, e.Diag = fhir.IssueNotFound, CodeNoRecordFound, "No record found."
	case http.StatusMethodNotAllowed:
		e.Issue, e.Code, e.Diag = fhir.IssueNotSupported, CodeNotImplemented, "The provider is not accepting writes at present (read-only)."
	case http.StatusConflict:
		e.Issue, e.Code, e.Diag = "duplicate", CodeDuplicateRejected, "Duplicate rejected."
	case http.StatusUnprocessableEntity:
		e.Issue, e.Code, e.Diag = fhir.IssueInvalid, CodeInvalidResource, "Submitted resource is not valid."
	case http.StatusTooManyRequests:
		e.Issue, e.Code, e.Diag = fhir.IssueThrottled, CodeTooManyRequests, "Too many requests; retry later."
	case http.StatusNotImplemented:
		e.Issue, e.Code, e.Diag = fhir.IssueNotSupported, CodeNotImplemented, "Not implemented."
	case http.StatusServiceUnavailable:
		e.Issue, e.Code, e.Diag = fhir.IssueTransient, CodeInternalServerError, "The GP system is unavailable; retry later."
	default:
		if status >= 500 {
			e.Issue, e.Code, e.Diag = "processing", CodeInternalServerError, http.StatusText(status)
		} else {
			e.Issue, e.Code, e.Diag = fhir.IssueInvalid, CodeBadRequest, http.StatusText(status)
		}
	}
	if code != "" {
		e.Code = code
	}
	return e
}

// writeSSPError writes an error as the Spine Secure Proxy words its own:
// an OperationOutcome with an id, no profile, and a details coding in the
// SSP's system whose code is the HTTP status and whose display the
// diagnostics repeat.
func writeSSPError(w http.ResponseWriter, id string, status int, issue, display string) {
	body := obj{
		"resourceType": "OperationOutcome",
		"id":           id,
		"issue": arr{obj{
			"code":     issue,
			"severity": "error",
			"details": obj{"coding": arr{obj{
				"system":  sspSystem,
				"code":    fmt.Sprint(status),
				"display": display,
			}}},
			"diagnostics": display,
		}},
	}
	_ = fhir.WriteJSON(w, status, fhir.MediaTypeFHIRJSON, body)
}

// writeSSPMethodNotAllowed writes the SSP's 405 body, which (as published)
// differs from its other errors: no id, severity fatal, and the Spine
// operation outcome system.
func writeSSPMethodNotAllowed(w http.ResponseWriter) {
	body := obj{
		"resourceType": "OperationOutcome",
		"issue": arr{obj{
			"code":     fhir.IssueForbidden,
			"severity": "fatal",
			"details": obj{"coding": arr{obj{
				"code":    "405",
				"system":  "https://fhir.nhs.uk/StructureDefinition/spine-operationoutcome-1",
				"display": "405: Method Not Allowed",
			}}},
		}},
	}
	_ = fhir.WriteJSON(w, http.StatusMethodNotAllowed, fhir.MediaTypeFHIRJSON, body)
}

// respondFault writes the error body of an in-band status fault: the SSP's
// own bodies for 502 (ERROR_COMMUNICATING_TO_ENDPOINT_URL_), 504 and 599
// (the SSP timing out; 599 is what its Tornado stack was seen to answer),
// and the provider's GPConnect-OperationOutcome-1 otherwise.
func (m *Mock) respondFault(w http.ResponseWriter, r *http.Request, spec inband.Spec) {
	target := "http://" + r.Host + r.URL.Path
	switch spec.Status {
	case http.StatusBadGateway:
		writeSSPError(w, m.sspID(), spec.Status, fhir.IssueTransient, "ERROR_COMMUNICATING_TO_ENDPOINT_URL_"+target)
		return
	case http.StatusGatewayTimeout, 599:
		// (inferred) The SSP's timeout body is not published; this follows
		// the shape of its 502 body.
		writeSSPError(w, m.sspID(), spec.Status, fhir.IssueTimeout, "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_"+target)
		return
	}
	writeError(w, defaultError(spec.Status, spec.Code))
}

// sspID returns an id for an SSP error body.
func (m *Mock) sspID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return newID(m.idRNG)
}

// observeFault journals a request an in-band fault hit.
func (m *Mock) observeFault(r *http.Request, op string, spec inband.Spec) {
	attrs := map[string]string{"op": op, "kind": string(spec.Kind)}
	if spec.Status != 0 {
		attrs["status"] = fmt.Sprint(spec.Status)
	}
	if spec.Code != "" {
		attrs["code"] = spec.Code
	}
	if spec.Malform != "" {
		attrs["malform"] = spec.Malform
	}
	if t := tenantOf(r); t != "" {
		attrs["tenant"] = t
	}
	m.journalRecord("request.faulted", map[string]string{keyCorrelationID: r.Header.Get(headerTraceID)}, attrs)
}
