package ers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// decodeFailure turns a body decoding error into the e-RS 422.
func decodeFailure(err error) *apiError {
	var de *fhir.DecodeError
	if errors.As(err, &de) && strings.HasPrefix(de.Msg, "unexpected field") {
		return errorf(http.StatusUnprocessableEntity, fhir.IssueValue, codeUnexpectedField, "%v", err)
	}
	if errors.Is(err, fhir.ErrTooLarge) {
		return errorf(http.StatusUnprocessableEntity, fhir.IssueValue, codeInvalidValue, "%v", err)
	}
	return errorf(http.StatusUnprocessableEntity, fhir.IssueStructure, codeInvalidStructure, "%v", err)
}

// checkParameterNames rejects unknown names and repeated 0..1 / 1..1
// parameters, and reports missing mandatory ones. prefix locates the
// Parameters in the request for diagnostics ("" for the body itself).
func checkParameterNames(p *fhir.Parameters, prefix string, allowed, mandatory []string) *apiError {
	if u := p.Unknown(allowed...); len(u) > 0 {
		i := u[0]
		return errorf(http.StatusUnprocessableEntity, fhir.IssueValue, codeUnexpectedField, "'%sparameter[%d]' (%s) unknown parameter name", prefix, i, p.Parameter[i].Name)
	}
	for _, name := range allowed {
		if n := p.Count(name); n > 1 {
			return errorf(http.StatusUnprocessableEntity, fhir.IssueStructure, codeInvalidStructure, "'%sparameter' (%s) may appear at most once, found %d", prefix, name, n)
		}
	}
	for _, name := range mandatory {
		if p.First(name) == nil {
			return errorf(http.StatusUnprocessableEntity, fhir.IssueRequired, codeMissingValue, "'%sparameter' (%s) is mandatory and was not supplied", prefix, name)
		}
	}
	return nil
}

func invalid(code, format string, args ...any) *apiError {
	issue := fhir.IssueValue
	if code == codeMissingValue {
		issue = fhir.IssueRequired
	}
	return errorf(http.StatusUnprocessableEntity, issue, code, format, args...)
}

type shortlistIn struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *fhir.Meta        `json:"meta,omitempty"`
	Status       string            `json:"status"`
	Mode         string            `json:"mode"`
	Contained    []json.RawMessage `json:"contained"`
	Entry        []struct {
		Item fhir.Reference `json:"item"`
	} `json:"entry"`
	Extension []fhir.Extension `json:"extension"`
}

var (
	createParams = []string{"patient", "referringClinician", "shortlist", "intentionToAddReferralLetter", "firstReminderLetterFollowUpDays", "eReferralPathwayStart"}
	createNeeded = []string{"patient", "shortlist", "intentionToAddReferralLetter", "firstReminderLetterFollowUpDays"}
	criteriaKeys = []string{"priority", "specialty", "clinicType", "indicativeAppointmentWaitTimeLimit", "postcode", "distanceLimit", "clinicalTerm", "namedClinician", "ageAndGenderAppropriate", "commissioningProvisioning", "organisation", "place"}
)

// parseCreate validates an A011 / A021 body and returns the referral it
// describes (without UBRN).
func (m *Mock) parseCreate(r *http.Request, rq *request, triage bool) (*referral, *apiError) {
	p, err := fhir.DecodeParameters(r.Body, bodyLimit)
	if err != nil {
		return nil, decodeFailure(err)
	}
	if e := checkParameterNames(p, "", createParams, createNeeded); e != nil {
		return nil, e
	}
	now := m.now()
	ref := &referral{
		ReferrerODS:      rq.ods,
		BusinessFunction: rq.bf,
		UserID:           m.creds.UserID,
		Created:          now,
		Updated:          now,
		State:            StateNotBooked,
		Status:           "active",
		Triage:           triage,
	}
	if triage {
		ref.State, ref.StateReason = StateAwaitingTriage, "TRIAGE"
	}

	// patient
	pat := p.First("patient")
	if pat.ValueIdentifier == nil {
		return nil, invalid(codeInvalidStructure, "'parameter' (patient) must have a valueIdentifier")
	}
	if pat.ValueIdentifier.System != systemNHSNumber {
		return nil, invalid(codeInvalidValue, "'parameter' (patient) identifier system must be %s, got %q", systemNHSNumber, pat.ValueIdentifier.System)
	}
	if err := synthetic.ValidateNHSNumber(pat.ValueIdentifier.Value); err != nil {
		return nil, invalid(codeInvalidValue, "'parameter' (patient) %v", err)
	}
	ref.NHSNumber = pat.ValueIdentifier.Value

	// referringClinician
	if rc := p.First("referringClinician"); rc != nil {
		if rc.ValueIdentifier == nil || rc.ValueIdentifier.Value == "" {
			return nil, invalid(codeInvalidStructure, "'parameter' (referringClinician) must have a valueIdentifier with a value")
		}
		if rc.ValueIdentifier.System != systemSDSUserSTU3 {
			return nil, invalid(codeInvalidValue, "'parameter' (referringClinician) identifier system must be %s, got %q", systemSDSUserSTU3, rc.ValueIdentifier.System)
		}
		ref.ReferringClinician = rc.ValueIdentifier.Value
	}

	// intentionToAddReferralLetter
	in := p.First("intentionToAddReferralLetter")
	if in.ValueCoding == nil {
		return nil, invalid(codeInvalidStructure, "'parameter' (intentionToAddReferralLetter) must have a valueCoding")
	}
	if in.ValueCoding.System != systemLetterIntention {
		return nil, invalid(codeInvalidCode, "'parameter' (intentionToAddReferralLetter) system must be %s, got %q", systemLetterIntention, in.ValueCoding.System)
	}
	switch in.ValueCoding.Code {
	case "NEED_TO_ADD_LATER":
	case "NOT_INTENDING_TO_ADD":
		if triage {
			return nil, invalid(codeInappropriateValue, "'parameter' (intentionToAddReferralLetter) must be NEED_TO_ADD_LATER when sending for triage: a referral letter is always required")
		}
	default:
		return nil, invalid(codeInvalidCode, "'parameter' (intentionToAddReferralLetter) code %q is not one of NEED_TO_ADD_LATER, NOT_INTENDING_TO_ADD", in.ValueCoding.Code)
	}
	ref.LetterIntention = in.ValueCoding.Code

	// firstReminderLetterFollowUpDays
	fd := p.First("firstReminderLetterFollowUpDays")
	if fd.ValueUnsignedInt == nil {
		return nil, invalid(codeInvalidStructure, "'parameter' (firstReminderLetterFollowUpDays) must have a valueUnsignedInt")
	}
	if *fd.ValueUnsignedInt < 0 || *fd.ValueUnsignedInt > 1<<31-1 {
		return nil, invalid(codeInvalidValue, "'parameter' (firstReminderLetterFollowUpDays) must be an unsigned 32-bit integer, got %d", *fd.ValueUnsignedInt)
	}
	ref.ReminderDays = *fd.ValueUnsignedInt

	// eReferralPathwayStart
	if ps := p.First("eReferralPathwayStart"); ps != nil {
		if ps.ValueInstant == nil {
			return nil, invalid(codeInvalidStructure, "'parameter' (eReferralPathwayStart) must have a valueInstant")
		}
		t, err := time.Parse(time.RFC3339Nano, *ps.ValueInstant)
		if err != nil {
			return nil, invalid(codeInvalidValue, "'parameter' (eReferralPathwayStart) %q must be an instant with a date, time and time zone (e.g. 2024-05-01T09:55:00.000Z)", *ps.ValueInstant)
		}
		if t.After(now) {
			return nil, invalid(codeInvalidValue, "'parameter' (eReferralPathwayStart) %s must be in the past", *ps.ValueInstant)
		}
		if now.Sub(t) > 365*24*time.Hour {
			return nil, invalid(codeInvalidValue, "'parameter' (eReferralPathwayStart) %s must be no longer than 365 days ago", *ps.ValueInstant)
		}
		ref.PathwayStart = *ps.ValueInstant
	} else if triage {
		// e-RS derives the pathway start; for a new referral it is now.
		ref.PathwayStart = ersTime(now)
	}

	if e := m.parseShortlist(p, ref); e != nil {
		return nil, e
	}
	return ref, nil
}

func (m *Mock) parseShortlist(p *fhir.Parameters, ref *referral) *apiError {
	idx := slices.IndexFunc(p.Parameter, func(q fhir.Parameter) bool { return q.Name == "shortlist" })
	prefix := fmt.Sprintf("parameter[%d]/resource/", idx)
	sl := p.Parameter[idx]
	if len(sl.Resource) == 0 {
		return invalid(codeInvalidStructure, "'parameter' (shortlist) must have a List resource")
	}
	var list shortlistIn
	if err := fhir.DecodeRaw(sl.Resource, "List", true, &list); err != nil {
		e := decodeFailure(err)
		e.Diag = "'" + prefix + "' " + e.Diag
		return e
	}
	if len(list.Entry) == 0 {
		return invalid(codeMissingValue, "'%sentry' the shortlist must contain at least one service", prefix)
	}
	if len(list.Entry) > maxShortlist {
		return invalid(codeTooManyItems, "'%sentry' the shortlist has %d services; at most %d are allowed", prefix, len(list.Entry), maxShortlist)
	}
	seen := map[string]bool{}
	for i, e := range list.Entry {
		id := e.Item.Identifier
		if id == nil || id.Value == "" {
			return invalid(codeMissingValue, "'%sentry[%d]/item/identifier' a shortlisted service needs an identifier", prefix, i)
		}
		if id.System != systemERSService {
			return invalid(codeInvalidValue, "'%sentry[%d]/item/identifier/system' must be %s, got %q", prefix, i, systemERSService, id.System)
		}
		if _, err := strconv.ParseUint(id.Value, 10, 64); err != nil {
			return invalid(codeInvalidValue, "'%sentry[%d]/item/identifier/value' service id %q must be numeric", prefix, i, id.Value)
		}
		if seen[id.Value] {
			return invalid(codeDuplicateService, "'Shortlist/Service Id' (%s) cannot be added to a shortlist more than once.", id.Value)
		}
		seen[id.Value] = true
		ref.Services = append(ref.Services, service{ID: id.Value, Display: "Synthetic e-RS Service " + id.Value})
	}

	// The search criteria: one extension referencing a contained Parameters.
	critRef := ""
	for _, x := range list.Extension {
		if x.URL == extShortlistCriteria && x.ValueReference != nil {
			critRef = x.ValueReference.Reference
		}
	}
	if critRef == "" {
		return invalid(codeMissingValue, "'%sextension' (%s) the shortlist must reference its search criteria", prefix, extShortlistCriteria)
	}
	ci := -1
	for i, raw := range list.Contained {
		var h fhir.ResourceHeader
		if json.Unmarshal(raw, &h) == nil && "#"+h.ID == critRef {
			ci = i
		}
	}
	if ci < 0 {
		return invalid(codeReferenceNotFound, "'%sextension' search criteria reference %q does not match a contained resource", prefix, critRef)
	}
	cprefix := fmt.Sprintf("%scontained[%d]/", prefix, ci)
	var crit fhir.Parameters
	if err := fhir.DecodeRaw(list.Contained[ci], "Parameters", true, &crit); err != nil {
		e := decodeFailure(err)
		e.Diag = "'" + cprefix + "' " + e.Diag
		return e
	}
	if e := checkParameterNames(&crit, cprefix, criteriaKeys, []string{"priority", "ageAndGenderAppropriate"}); e != nil {
		return e
	}
	pr := crit.First("priority")
	if pr.ValueCoding == nil {
		return invalid(codeInvalidStructure, "'%sparameter' (priority) must have a valueCoding", cprefix)
	}
	if _, ok := priorityDisplay[pr.ValueCoding.Code]; !ok || pr.ValueCoding.System != systemPriority {
		return invalid(codeInvalidCode, "'%sparameter' (priority) %s|%s is not a known priority (ROUTINE, URGENT, TWO_WEEK_WAIT)", cprefix, pr.ValueCoding.System, pr.ValueCoding.Code)
	}
	ref.Priority = pr.ValueCoding.Code
	if ag := crit.First("ageAndGenderAppropriate"); ag.ValueBoolean == nil {
		return invalid(codeInvalidStructure, "'%sparameter' (ageAndGenderAppropriate) must have a valueBoolean", cprefix)
	}
	if sp := crit.First("specialty"); sp != nil {
		if sp.ValueCoding == nil || sp.ValueCoding.Code == "" {
			return invalid(codeInvalidStructure, "'%sparameter' (specialty) must have a valueCoding with a code", cprefix)
		}
		ref.Specialty = sp.ValueCoding.Code
	}
	if ct := crit.First("clinicType"); ct != nil && ct.ValueCoding != nil {
		ref.ClinicType = ct.ValueCoding.Code
	}
	// Echo the criteria as e-RS stores them: organisation is not returned and
	// commissioningProvisioning is always ALL_AVAILABLE_FOR_BOOKING.
	for _, q := range crit.Parameter {
		if q.Name == "organisation" || q.Name == "commissioningProvisioning" {
			continue
		}
		ref.Criteria = append(ref.Criteria, q)
	}
	ref.Criteria = append(ref.Criteria, fhir.Parameter{Name: "commissioningProvisioning", ValueCoding: &fhir.Coding{System: systemCommissioning, Code: "ALL_AVAILABLE_FOR_BOOKING"}})
	return nil
}

func (m *Mock) handleCreate(w http.ResponseWriter, r *http.Request, rq *request) {
	m.create(w, r, rq, false)
}

func (m *Mock) handleCreateTriage(w http.ResponseWriter, r *http.Request, rq *request) {
	m.create(w, r, rq, true)
}

func (m *Mock) create(w http.ResponseWriter, r *http.Request, rq *request, triage bool) {
	ref, e := m.parseCreate(r, rq, triage)
	if e != nil {
		writeError(w, false, m.now, e)
		return
	}
	stored := m.insert(ref)
	ids := make([]string, len(stored.Services))
	for i, s := range stored.Services {
		ids[i] = s.ID
	}
	m.record("referral.created", map[string]string{
		keyUBRN:          stored.UBRN,
		keyNHSNumber:     stored.NHSNumber,
		keyCorrelationID: rq.correlationID,
		keyRequestID:     rq.requestID,
	}, map[string]string{
		"ods":               stored.ReferrerODS,
		"business_function": stored.BusinessFunction,
		"version":           strconv.Itoa(stored.Version),
		"services":          strings.Join(ids, ","),
		"priority":          stored.Priority,
		"state":             stored.State,
		"op":                rq.ep.op,
	})
	m.log.Info("ers mock: referral created", "ubrn", stored.UBRN, "state", stored.State, "correlation_id", rq.correlationID)
	m.writeReferral(w, http.StatusCreated, stored, rq.base)
}
