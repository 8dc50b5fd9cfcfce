package gpconnect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// RecordBodyLimit is the largest $gpc.getstructuredrecord request body read.
const RecordBodyLimit = 1 << 20

// Parameter names of $gpc.getstructuredrecord.
const (
	paramNHSNumber      = "patientNHSNumber"
	paramAllergies      = "includeAllergies"
	paramMedication     = "includeMedication"
	paramProblems       = "includeProblems"
	paramInvestigations = "includeInvestigations"
	paramReferrals      = "includeReferrals"
)

// period is a FHIR Period.
type period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// param is one Parameters.parameter (or part) with the value types
// $gpc.getstructuredrecord uses.
type param struct {
	Name             string           `json:"name"`
	ValueIdentifier  *fhir.Identifier `json:"valueIdentifier,omitempty"`
	ValueBoolean     *bool            `json:"valueBoolean,omitempty"`
	ValueDate        *string          `json:"valueDate,omitempty"`
	ValueDateTime    *string          `json:"valueDateTime,omitempty"`
	ValueCode        *string          `json:"valueCode,omitempty"`
	ValueString      *string          `json:"valueString,omitempty"`
	ValuePositiveInt *int64           `json:"valuePositiveInt,omitempty"`
	ValueInteger     *int64           `json:"valueInteger,omitempty"`
	ValuePeriod      *period          `json:"valuePeriod,omitempty"`
	Part             []param          `json:"part,omitempty"`
}

func (p param) hasValue() bool {
	return p.ValueIdentifier != nil || p.ValueBoolean != nil || p.ValueDate != nil || p.ValueDateTime != nil ||
		p.ValueCode != nil || p.ValueString != nil || p.ValuePositiveInt != nil || p.ValueInteger != nil || p.ValuePeriod != nil
}

type parameters struct {
	ResourceType string     `json:"resourceType"`
	ID           string     `json:"id,omitempty"`
	Meta         *fhir.Meta `json:"meta,omitempty"`
	Parameter    []param    `json:"parameter,omitempty"`
}

// recordRequest is a checked $gpc.getstructuredrecord request.
type recordRequest struct {
	nhs        string
	allergies  *struct{ resolved bool }
	medication *struct {
		issues bool
		from   time.Time
	}
	problems       *struct{ status, significance string }
	investigations *dateRange
	referrals      *dateRange
	warnings       []string // parameter names answered with a not-supported warning
	includes       []string // parameter names asked for, in order
}

type dateRange struct{ from, to time.Time }

func (d *dateRange) contains(t time.Time) bool {
	if d == nil {
		return true
	}
	if !d.from.IsZero() && t.Before(d.from) {
		return false
	}
	return d.to.IsZero() || t.Before(d.to.AddDate(0, 0, 1))
}

// fullRequest asks for every clinical area the mock holds, with resolved
// allergies and prescription issues.
func fullRequest() *recordRequest {
	return &recordRequest{
		allergies: &struct{ resolved bool }{true},
		medication: &struct {
			issues bool
			from   time.Time
		}{issues: true},
		problems:       &struct{ status, significance string }{},
		investigations: &dateRange{},
		referrals:      &dateRange{},
	}
}

// decodeRecordRequest reads and checks a $gpc.getstructuredrecord body:
// 422 INVALID_RESOURCE when it is not a valid Parameters resource, 422
// INVALID_PARAMETER when a parameter is missing, repeated or malformed, 400
// INVALID_IDENTIFIER_SYSTEM / INVALID_NHS_NUMBER for the NHS number.
// Parameters the mock does not model are kept as warnings (GP Connect's
// forward compatibility: ignore and warn).
func decodeRecordRequest(body io.Reader, today time.Time) (*recordRequest, *apiError) {
	var ps parameters
	if err := fhir.DecodeResource(body, RecordBodyLimit, "Parameters", true, &ps); err != nil {
		return nil, invalidResource("The request body is not a valid Parameters resource: %v.", err)
	}
	rr := &recordRequest{}
	seen := map[string]bool{}
	for i, p := range ps.Parameter {
		if p.Name == "" {
			return nil, invalidResource("parameter[%d] has no name.", i)
		}
		if seen[p.Name] {
			return nil, invalidParameter("Parameter %s is given more than once.", p.Name)
		}
		seen[p.Name] = true
		if p.Name != paramNHSNumber {
			rr.includes = append(rr.includes, p.Name)
		}
		var e *apiError
		switch p.Name {
		case paramNHSNumber:
			e = rr.nhsNumber(p)
		case paramAllergies:
			e = rr.allergyParts(p)
		case paramMedication:
			e = rr.medicationParts(p, today)
		case paramProblems:
			e = rr.problemParts(p)
		case paramInvestigations:
			rr.investigations, e = rr.periodPart(p, "investigationSearchPeriod", today)
		case paramReferrals:
			rr.referrals, e = rr.periodPart(p, "referralsSearchPeriod", today)
		default:
			rr.warnings = append(rr.warnings, p.Name)
		}
		if e != nil {
			return nil, e
		}
	}
	if rr.nhs == "" {
		return nil, invalidParameter("Parameter %s is missing; want the patient's NHS number as a valueIdentifier.", paramNHSNumber)
	}
	return rr, nil
}

func (rr *recordRequest) nhsNumber(p param) *apiError {
	if p.ValueIdentifier == nil || len(p.Part) > 0 {
		return invalidParameter("Parameter %s must carry a valueIdentifier.", paramNHSNumber)
	}
	if p.ValueIdentifier.System != systemNHSNumber {
		return errorf(http.StatusBadRequest, fhir.IssueValue, CodeInvalidIdentifierSy, "%s system %q is not %s.", paramNHSNumber, p.ValueIdentifier.System, systemNHSNumber)
	}
	if err := synthetic.ValidateNHSNumber(p.ValueIdentifier.Value); err != nil {
		return errorf(http.StatusBadRequest, fhir.IssueValue, CodeInvalidNHSNumber, "%v.", err)
	}
	rr.nhs = p.ValueIdentifier.Value
	return nil
}

// parts checks an include parameter carries only parts, and returns them by
// name; parts the mock does not know become warnings.
func (rr *recordRequest) parts(p param, known ...string) (map[string]param, *apiError) {
	if p.hasValue() {
		return nil, invalidParameter("Parameter %s takes parts, not a value.", p.Name)
	}
	out := map[string]param{}
	for _, q := range p.Part {
		if !slices.Contains(known, q.Name) {
			rr.warnings = append(rr.warnings, p.Name+"."+q.Name)
			continue
		}
		if _, dup := out[q.Name]; dup {
			return nil, invalidParameter("Part %s.%s is given more than once.", p.Name, q.Name)
		}
		if len(q.Part) > 0 {
			return nil, invalidParameter("Part %s.%s must not have parts.", p.Name, q.Name)
		}
		out[q.Name] = q
	}
	return out, nil
}

func (rr *recordRequest) allergyParts(p param) *apiError {
	parts, e := rr.parts(p, "includeResolvedAllergies")
	if e != nil {
		return e
	}
	q, ok := parts["includeResolvedAllergies"]
	if !ok || q.ValueBoolean == nil {
		return invalidParameter("%s needs the part includeResolvedAllergies with a valueBoolean.", paramAllergies)
	}
	rr.allergies = &struct{ resolved bool }{*q.ValueBoolean}
	return nil
}

func (rr *recordRequest) medicationParts(p param, today time.Time) *apiError {
	parts, e := rr.parts(p, "includePrescriptionIssues", "medicationSearchFromDate")
	if e != nil {
		return e
	}
	rr.medication = &struct {
		issues bool
		from   time.Time
	}{issues: true}
	if q, ok := parts["includePrescriptionIssues"]; ok {
		if q.ValueBoolean == nil {
			return invalidParameter("%s.includePrescriptionIssues needs a valueBoolean.", paramMedication)
		}
		rr.medication.issues = *q.ValueBoolean
	}
	if q, ok := parts["medicationSearchFromDate"]; ok {
		if q.ValueDate == nil {
			return invalidParameter("%s.medicationSearchFromDate needs a valueDate.", paramMedication)
		}
		d, err := time.Parse("2006-01-02", *q.ValueDate)
		if err != nil {
			return invalidParameter("%s.medicationSearchFromDate %q must be a whole date (YYYY-MM-DD).", paramMedication, *q.ValueDate)
		}
		if d.After(today) {
			return invalidParameter("%s.medicationSearchFromDate %s is in the future.", paramMedication, *q.ValueDate)
		}
		rr.medication.from = d
	}
	return nil
}

func (rr *recordRequest) problemParts(p param) *apiError {
	parts, e := rr.parts(p, "filterStatus", "filterSignificance")
	if e != nil {
		return e
	}
	rr.problems = &struct{ status, significance string }{}
	if q, ok := parts["filterStatus"]; ok {
		if q.ValueCode == nil || (*q.ValueCode != "active" && *q.ValueCode != "inactive") {
			return invalidParameter("%s.filterStatus needs a valueCode of active or inactive.", paramProblems)
		}
		rr.problems.status = *q.ValueCode
	}
	if q, ok := parts["filterSignificance"]; ok {
		if q.ValueCode == nil || (*q.ValueCode != "major" && *q.ValueCode != "minor") {
			return invalidParameter("%s.filterSignificance needs a valueCode of major or minor.", paramProblems)
		}
		rr.problems.significance = *q.ValueCode
	}
	return nil
}

func (rr *recordRequest) periodPart(p param, name string, today time.Time) (*dateRange, *apiError) {
	parts, e := rr.parts(p, name)
	if e != nil {
		return nil, e
	}
	d := &dateRange{}
	q, ok := parts[name]
	if !ok {
		return d, nil
	}
	if q.ValuePeriod == nil {
		return nil, invalidParameter("%s.%s needs a valuePeriod.", p.Name, name)
	}
	parse := func(s, which string) (time.Time, *apiError) {
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return time.Time{}, invalidParameter("%s.%s %s %q must be a whole date (YYYY-MM-DD).", p.Name, name, which, s)
		}
		return t, nil
	}
	var pe *apiError
	if d.from, pe = parse(q.ValuePeriod.Start, "start"); pe != nil {
		return nil, pe
	}
	if d.to, pe = parse(q.ValuePeriod.End, "end"); pe != nil {
		return nil, pe
	}
	if !d.from.IsZero() && d.from.After(today) {
		return nil, invalidParameter("%s.%s start %s is in the future.", p.Name, name, q.ValuePeriod.Start)
	}
	if !d.from.IsZero() && !d.to.IsZero() && d.from.After(d.to) {
		return nil, invalidParameter("%s.%s start %s is after its end %s.", p.Name, name, q.ValuePeriod.Start, q.ValuePeriod.End)
	}
	return d, nil
}

func (m *Mock) handleStructuredRecord(w http.ResponseWriter, r *http.Request, rq *request) {
	today := m.now().UTC().Truncate(24 * time.Hour)
	rr, e := decodeRecordRequest(r.Body, today)
	if e != nil {
		writeError(w, e)
		return
	}
	i, ok := m.byNHS[rr.nhs]
	if !ok {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodePatientNotFound, "No patient with NHS number %s is registered at %s.", rr.nhs, m.creds.ODSCode))
		return
	}
	b, err := m.renderRecord(i, m.record(i), rr)
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "processing", CodeInternalServerError, "Rendering the record failed: %v.", err))
		return
	}
	m.journalRecord("record.served", map[string]string{keyNHSNumber: rr.nhs, keyCorrelationID: r.Header.Get(headerTraceID)},
		map[string]string{"bytes": itoa(len(b)), "includes": strings.Join(rr.includes, ",")})
	writeBody(w, rq, http.StatusOK, b)
}

// renderRecord encodes patient i's record r as the Bundle answering rr.
func (m *Mock) renderRecord(i int, r synthetic.ClinicalRecord, rr *recordRequest) ([]byte, error) {
	c := &recordCtx{m: m, i: i, patient: "Patient/" + patientID(i), gp: m.usualGP(i)}
	c.recorder = "PractitionerRole/role-" + c.gp.id
	c.add(m.patientResource(i), m.organizationResource(), m.practitionerResource(c.gp), m.practitionerRoleResource(c.gp))
	if rr.allergies != nil {
		c.allergies(r, rr.allergies.resolved)
	}
	if rr.medication != nil {
		c.medications(r, rr.medication.issues, rr.medication.from)
	}
	if rr.problems != nil {
		c.problems(r, rr.problems.status, rr.problems.significance)
	}
	if rr.investigations != nil {
		c.investigations(r, rr.investigations)
	}
	if rr.referrals != nil {
		c.referrals(r, rr.referrals)
	}
	if len(rr.warnings) > 0 {
		c.add(m.warnings(rr.warnings))
	}
	bundle := obj{
		"resourceType": "Bundle",
		"meta":         obj{"profile": arr{profileBundle}},
		"type":         "collection",
		"entry":        c.entries,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bundle); err != nil {
		return nil, fmt.Errorf("encode structured record of %s: %w", r.NHSNumber, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// warnings is the OperationOutcome that tells a consumer which parameters
// this provider ignored.
func (m *Mock) warnings(names []string) obj {
	issues := make(arr, 0, len(names))
	for _, n := range names {
		issues = append(issues, obj{
			"severity": "warning",
			"code":     fhir.IssueNotSupported,
			"details": obj{
				"coding": arr{coding(spineSystem, CodeNotImplemented, displays[CodeNotImplemented])},
				"text":   n + " is an unrecognised parameter",
			},
			"diagnostics": n,
		})
	}
	return obj{"resourceType": "OperationOutcome", "id": "structured-record-warnings", "meta": obj{"profile": arr{outcomeProfile}}, "issue": issues}
}
