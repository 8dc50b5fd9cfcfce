package ers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// Profiles and code systems of e-RS error bodies.
const (
	stu3OutcomeProfile = "https://fhir.nhs.uk/STU3/StructureDefinition/eRS-OperationOutcome-1"
	stu3ErrorSystem    = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-APIErrorCode-1"
	r4APIMSystem       = "https://fhir.nhs.uk/CodeSystem/NHSD-API-ErrorOrWarningCode"
	r4HTTPSystem       = "https://fhir.nhs.uk/CodeSystem/http-error-codes"
)

// e-RS API error codes (eRS-APIErrorCode-1). Codes marked (inferred) are not
// given by the specification for that status; they are our best reading.
const (
	codeNoAccess            = "NO_ACCESS"
	codeForbidden           = "FORBIDDEN"
	codeMissingHeader       = "MISSING_HEADER"
	codeMissingValue        = "MISSING_VALUE"
	codeInvalidValue        = "INVALID_VALUE"
	codeInvalidCode         = "INVALID_CODE"
	codeUnexpectedField     = "UNEXPECTED_FIELD"
	codeInvalidStructure    = "INVALID_FHIR_STRUCTURE"
	codeInvalidRequestState = "INVALID_REQUEST_STATE"
	codeNoRelationship      = "NO_RELATIONSHIP"
	codeInappropriateValue  = "INAPPROPRIATE_VALUE"
	codeTooManyItems        = "TOO_MANY_ITEMS"
	codeDuplicateService    = "DUPLICATE_SERVICE"
	codeReferenceNotFound   = "REFERENCE_NOT_FOUND"
	codeTooManyRequests     = "TOO_MANY_REQUESTS"
	codeSystemUnavailable   = "SYSTEM_UNAVAILABLE"
	codePASNotResponding    = "PAS_NOT_RESPONDING"
	codePASRespondedWithErr = "PAS_RESPONDED_WITH_ERROR"
	codeInternalServerError = "INTERNAL_SERVER_ERROR" // (inferred)
	codeNotFound            = "NOT_FOUND"             // (inferred)
	codeConflict            = "CONFLICT"              // (inferred) 409 has no documented code
	codeLocked              = "LOCKED"                // (inferred) 423 has no documented code
	codeNotImplemented      = "NOT_IMPLEMENTED"       // mock-only: endpoint outside this mock's scope
	codeMethodNotAllowed    = "METHOD_NOT_ALLOWED"    // (inferred)
)

var displays = map[string]string{
	codeNoAccess:            "No access",
	codeForbidden:           "Forbidden",
	codeMissingHeader:       "Missing header",
	codeMissingValue:        "Missing value",
	codeInvalidValue:        "Invalid value",
	codeInvalidCode:         "Invalid code",
	codeUnexpectedField:     "Unexpected field",
	codeInvalidStructure:    "Invalid FHIR structure",
	codeInvalidRequestState: "Invalid request state",
	codeNoRelationship:      "No relationship",
	codeInappropriateValue:  "Inappropriate value",
	codeTooManyItems:        "Too many items",
	codeDuplicateService:    "Duplicate service found in shortlist",
	codeReferenceNotFound:   "Reference not found",
	codeTooManyRequests:     "Too many requests",
	codeSystemUnavailable:   "System Unavailable",
	codePASNotResponding:    "PAS not responding",
	codePASRespondedWithErr: "PAS responded with error",
	codeInternalServerError: "Internal server error",
	codeNotFound:            "Not found",
	codeConflict:            "Conflict",
	codeLocked:              "Locked",
	codeNotImplemented:      "Not implemented by this mock",
	codeMethodNotAllowed:    "Method not allowed",
}

// apiError is an e-RS error answer: the HTTP status, FHIR issue type, e-RS
// error code and diagnostics.
type apiError struct {
	Status int
	Issue  string
	Code   string
	Diag   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Diag)
}

func errorf(status int, issue, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Issue: issue, Code: code, Diag: fmt.Sprintf(format, args...)}
}

// statusErrors is what e-RS answers for a bare status: the issue code, the
// default eRS-APIErrorCode and the diagnostics.
var statusErrors = map[int]struct{ issue, code, diag string }{
	http.StatusTooManyRequests:    {fhir.IssueThrottled, codeTooManyRequests, "Rate limit exceeded. Back off and retry with exponentially increasing intervals."},
	http.StatusServiceUnavailable: {fhir.IssueTransient, codeSystemUnavailable, "The service is currently unavailable. Retry later."},
	http.StatusGatewayTimeout:     {fhir.IssueTimeout, codePASNotResponding, "No response from PAS."},
	http.StatusBadGateway:         {fhir.IssueException, codePASRespondedWithErr, "PAS responded with an error."},
	http.StatusLocked:             {fhir.IssueLockError, codeLocked, "The resource is being updated by another request. Fetch it again and retry later."},
	http.StatusConflict:           {fhir.IssueConflict, codeConflict, "Version supplied as part of the request does not match current version of the referral request."},
	http.StatusUnauthorized:       {fhir.IssueLogin, codeNoAccess, "Invalid access token."},
	http.StatusForbidden:          {fhir.IssueForbidden, codeForbidden, "Access denied."},
	http.StatusNotFound:           {fhir.IssueNotFound, codeNotFound, "Not found."},
}

// defaultError is the error for status when the caller gives only a status
// (in-band faults); code, when set, replaces the default code.
func defaultError(status int, code string) *apiError {
	d, ok := statusErrors[status]
	if !ok {
		d.issue, d.code, d.diag = fhir.IssueException, codeInternalServerError, http.StatusText(status)
	}
	if code == "" {
		code = d.code
	}
	return &apiError{Status: status, Issue: d.issue, Code: code, Diag: d.diag}
}

// writeError writes e as the real service would for an API version: STU3
// answers are eRS-OperationOutcome-1 bodies, except 406 and 415 which the
// specification gives as text/plain; R4 answers are NHSDigital
// OperationOutcome bodies.
func writeError(w http.ResponseWriter, r4 bool, now func() time.Time, e *apiError) {
	if r4 {
		writeR4Error(w, now, e)
		return
	}
	if e.Status == http.StatusNotAcceptable || e.Status == http.StatusUnsupportedMediaType {
		w.Header().Set("Content-Type", "text/plain;charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = fmt.Fprintln(w, e.Diag)
		return
	}
	b := fhir.OutcomeBuilder{Profile: stu3OutcomeProfile, System: stu3ErrorSystem}
	_ = fhir.WriteJSON(w, e.Status, fhir.MediaTypeFHIRJSON, b.Error(e.Issue, e.Code, displays[e.Code], e.Diag))
}

func writeR4Error(w http.ResponseWriter, now func() time.Time, e *apiError) {
	system, code, issue := r4HTTPSystem, "", e.Issue
	switch e.Status {
	case http.StatusUnauthorized:
		system, code, issue = r4APIMSystem, "ACCESS_DENIED", fhir.IssueLogin
	case http.StatusTooManyRequests:
		system, code, issue = r4APIMSystem, codeTooManyRequests, fhir.IssueThrottled
	case http.StatusBadRequest:
		code, issue = "REC_BAD_REQUEST", fhir.IssueInvalid
	case http.StatusForbidden:
		code, issue = "REC_FORBIDDEN", fhir.IssueForbidden
	case http.StatusNotFound:
		code, issue = "REC_NOT_FOUND", fhir.IssueNotFound
	case http.StatusNotAcceptable:
		code, issue = "REC_NOT_ACCEPTABLE", fhir.IssueNotSupported
	case http.StatusUnsupportedMediaType:
		code, issue = "REC_UNSUPPORTED_MEDIA_TYPE", fhir.IssueNotSupported
	case http.StatusServiceUnavailable:
		code, issue = "REC_UNAVAILABLE", fhir.IssueTransient
	case http.StatusNotImplemented:
		code, issue = codeNotImplemented, fhir.IssueNotSupported
	default:
		if e.Status >= 500 {
			code, issue = "REC_SERVER_ERROR", fhir.IssueException
		} else {
			system, code = "https://fhir.nhs.uk/CodeSystem/ers-error-codes", e.Code
		}
	}
	b := fhir.OutcomeBuilder{System: system, LastUpdated: func() string { return now().UTC().Format(time.RFC3339Nano) }}
	_ = fhir.WriteJSON(w, e.Status, fhir.MediaTypeFHIRJSON, b.Error(issue, code, "", e.Diag))
}
