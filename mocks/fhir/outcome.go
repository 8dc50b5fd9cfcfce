package fhir

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Issue severities and the FHIR issue-type codes the mocks use.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"

	IssueInvalid      = "invalid"
	IssueStructure    = "structure"
	IssueRequired     = "required"
	IssueValue        = "value"
	IssueBusinessRule = "business-rule"
	IssueLogin        = "login"
	IssueForbidden    = "forbidden"
	IssueNotFound     = "not-found"
	IssueNotSupported = "not-supported"
	IssueConflict     = "conflict"
	IssueLockError    = "lock-error"
	IssueThrottled    = "throttled"
	IssueTransient    = "transient"
	IssueTimeout      = "timeout"
	IssueException    = "exception"
)

// OperationOutcome is the FHIR error (and warning) resource.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Meta         *Meta   `json:"meta,omitempty"`
	Issue        []Issue `json:"issue"`
}

// Issue is one problem in an OperationOutcome.
type Issue struct {
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
	Expression  []string         `json:"expression,omitempty"`
}

// Error makes an outcome usable as a Go error: the first issue's detail code
// and diagnostics.
func (o *OperationOutcome) Error() string {
	if o == nil || len(o.Issue) == 0 {
		return "operation outcome with no issues"
	}
	i := o.Issue[0]
	code := i.Code
	if i.Details != nil {
		if c := i.Details.First(); c.Code != "" {
			code = c.Code
		}
	}
	if i.Diagnostics == "" {
		return code
	}
	return code + ": " + i.Diagnostics
}

// OutcomeBuilder builds an OperationOutcome for one service's profile and
// error-code system, so each mock states those once.
type OutcomeBuilder struct {
	// Profile, when set, is put in meta.profile.
	Profile string
	// System is the code system of issue.details codings.
	System string
	// LastUpdated, when set, is put in meta.lastUpdated (R4 NHS outcomes
	// carry it).
	LastUpdated func() string
}

// Error returns an outcome with a single error issue. detailCode may be
// empty (no details); display may be empty.
func (b OutcomeBuilder) Error(issueCode, detailCode, display, diagnostics string) *OperationOutcome {
	return b.Outcome(b.Issue(SeverityError, issueCode, detailCode, display, diagnostics))
}

// Issue builds one issue with this builder's code system.
func (b OutcomeBuilder) Issue(severity, issueCode, detailCode, display, diagnostics string) Issue {
	is := Issue{Severity: severity, Code: issueCode, Diagnostics: diagnostics}
	if detailCode != "" {
		is.Details = &CodeableConcept{Coding: []Coding{{System: b.System, Code: detailCode, Display: display}}}
	}
	return is
}

// Outcome wraps issues in an OperationOutcome with this builder's meta.
func (b OutcomeBuilder) Outcome(issues ...Issue) *OperationOutcome {
	o := &OperationOutcome{ResourceType: "OperationOutcome", Issue: issues}
	var m Meta
	if b.Profile != "" {
		m.Profile = []string{b.Profile}
	}
	if b.LastUpdated != nil {
		m.LastUpdated = b.LastUpdated()
	}
	if m.Profile != nil || m.LastUpdated != "" {
		o.Meta = &m
	}
	return o
}

// WriteJSON writes v as the response body with status and contentType
// (MediaTypeFHIRJSON when empty). Headers already set on w are kept.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write fhir json: %w", err)
	}
	if contentType == "" {
		contentType = MediaTypeFHIRJSON
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write fhir json: %w", err)
	}
	return nil
}
