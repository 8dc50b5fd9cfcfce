package ers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// Worklist selectors (eRS-ReferralListSelector-1).
const (
	ListAwaitingBooking          = "AWAITING_BOOKING"
	ListLettersOutstanding       = "LETTERS_OUTSTANDING"
	ListRejectedTriageResponse   = "REJECTED_TRIAGE_RESPONSE"
	ListAssessmentReturnedCancel = "ASSESSMENT_RETURNED_CANCELLED_DNA"
	ListReferralsForReview       = "REFERRALS_FOR_REVIEW"
	ListAppointmentSlotIssues    = "APPOINTMENT_SLOT_ISSUES"
)

var (
	referrerLists  = []string{ListAwaitingBooking, ListLettersOutstanding, ListRejectedTriageResponse, ListAssessmentReturnedCancel}
	providerLists  = []string{ListReferralsForReview, ListAppointmentSlotIssues}
	worklistParams = []string{"listType", "service", "specialtyAssignedIndicator", "specialty", "location", "clinicianAssignedIndicator", "clinician"}
)

type worklistJSON struct {
	Meta         fhir.Meta   `json:"meta"`
	ResourceType string      `json:"resourceType"`
	Contained    []any       `json:"contained,omitempty"`
	Status       string      `json:"status"`
	Mode         string      `json:"mode"`
	Entry        []listEntry `json:"entry,omitempty"`
}

type containedPatient struct {
	ID           string            `json:"id"`
	Meta         fhir.Meta         `json:"meta"`
	ResourceType string            `json:"resourceType"`
	Identifier   []fhir.Identifier `json:"identifier"`
}

// worklistFilter is the provider-list filter a request asked for.
type worklistFilter struct {
	service, specialty, clinician string
	specialtyAssigned             string
	clinicianAssigned             string
}

// handleWorklist serves A008.
func (m *Mock) handleWorklist(w http.ResponseWriter, r *http.Request, rq *request) {
	fail := func(e *apiError) { writeError(w, false, m.now, e) }
	p, err := fhir.DecodeParameters(r.Body, bodyLimit)
	if err != nil {
		fail(decodeFailure(err))
		return
	}
	if e := checkParameterNames(p, "", worklistParams, []string{"listType"}); e != nil {
		fail(e)
		return
	}
	lt := p.First("listType")
	if lt.ValueCodeableConcept == nil || len(lt.ValueCodeableConcept.Coding) != 1 {
		fail(invalid(codeInvalidStructure, "'parameter' (listType) must have a valueCodeableConcept with exactly one coding"))
		return
	}
	c := lt.ValueCodeableConcept.Coding[0]
	switch {
	case c.System == systemCommsSelector:
		fail(invalid(codeInvalidCode, "'parameter' (listType) %s is a communication worklist; use CommunicationRequest/$ers.fetchworklist (A023)", c.Code))
		return
	case c.System != systemListSelector:
		fail(invalid(codeInvalidCode, "'parameter' (listType) system %q must be %s", c.System, systemListSelector))
		return
	}
	provider := slices.Contains(providerLists, c.Code)
	if !provider && !slices.Contains(referrerLists, c.Code) {
		fail(invalid(codeInvalidCode, "'parameter' (listType) code %q is not a referral worklist", c.Code))
		return
	}
	if provider && !isProvider(rq.bf) {
		fail(errorf(http.StatusForbidden, fhir.IssueForbidden, codeForbidden, "Business function %s cannot retrieve the %s worklist: it is a service provider worklist.", rq.bf, c.Code))
		return
	}
	if !provider && !isReferrer(rq.bf) {
		fail(errorf(http.StatusForbidden, fhir.IssueForbidden, codeForbidden, "Business function %s cannot retrieve the %s worklist: it is a referring organisation worklist.", rq.bf, c.Code))
		return
	}
	var f worklistFilter
	for i, q := range p.Parameter {
		if q.Name == "listType" {
			continue
		}
		if !provider {
			fail(invalid(codeUnexpectedField, "'parameter[%d]' (%s) filters cannot be used with referring organisation worklists", i, q.Name))
			return
		}
		switch q.Name {
		case "service", "clinician":
			if q.ValueIdentifier == nil || q.ValueIdentifier.Value == "" {
				fail(invalid(codeInvalidStructure, "'parameter[%d]' (%s) must have a valueIdentifier with a value", i, q.Name))
				return
			}
			if q.Name == "service" {
				f.service = q.ValueIdentifier.Value
			} else {
				f.clinician = q.ValueIdentifier.Value
			}
		case "specialty":
			if q.ValueCodeableConcept == nil || q.ValueCodeableConcept.First().Code == "" {
				fail(invalid(codeInvalidStructure, "'parameter[%d]' (specialty) must have a valueCodeableConcept with a code", i))
				return
			}
			f.specialty = q.ValueCodeableConcept.First().Code
		case "specialtyAssignedIndicator", "clinicianAssignedIndicator":
			if q.ValueCodeableConcept == nil || q.ValueCodeableConcept.First().Code == "" {
				fail(invalid(codeInvalidStructure, "'parameter[%d]' (%s) must have a valueCodeableConcept with a code", i, q.Name))
				return
			}
			if q.Name == "specialtyAssignedIndicator" {
				f.specialtyAssigned = q.ValueCodeableConcept.First().Code
			} else {
				f.clinicianAssigned = q.ValueCodeableConcept.First().Code
			}
		}
	}

	out := worklistJSON{Meta: fhir.Meta{Profile: []string{profileWorklist}}, ResourceType: "List", Status: "current", Mode: "snapshot"}
	patients := map[string]bool{}
	for _, ref := range m.snapshot() {
		var e *listEntry
		if provider {
			e = m.providerEntry(c.Code, ref, rq, f)
		} else {
			e = m.referrerEntry(c.Code, ref, rq)
		}
		if e == nil {
			continue
		}
		out.Entry = append(out.Entry, *e)
		if provider && c.Code == ListReferralsForReview && !patients[ref.NHSNumber] {
			patients[ref.NHSNumber] = true
			out.Contained = append(out.Contained, containedPatient{
				ID: "Patient-" + ref.NHSNumber, Meta: fhir.Meta{Profile: []string{profilePatient}}, ResourceType: "Patient",
				Identifier: []fhir.Identifier{{System: systemNHSNumber, Value: ref.NHSNumber}},
			})
		}
	}
	_ = fhir.WriteJSON(w, http.StatusOK, fhir.MediaTypeFHIRJSON, out)
}

func patientByIdentifier(nhs string) fhir.Extension {
	return fhir.Extension{URL: "patient", ValueReference: &fhir.Reference{Identifier: &fhir.Identifier{System: systemNHSNumber, Value: nhs}}}
}

func (m *Mock) workPriority(code string) fhir.Extension {
	return fhir.Extension{URL: "priority", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemPriority, Code: code}}}}
}

func specialtyExt(base, code string) fhir.Extension {
	return fhir.Extension{URL: "specialty", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: base + suffixSpecialty, Code: code}}}}
}

func clinicalContext(r *referral) string {
	switch {
	case r.Specialty != "" && r.ClinicType != "":
		return r.Specialty + "/" + r.ClinicType
	default:
		return r.Specialty
	}
}

// referrerEntry is r's entry on a referring organisation's worklist, or nil.
// Referrer worklists show the caller organisation's own referrals.
func (m *Mock) referrerEntry(list string, r *referral, rq *request) *listEntry {
	if !strings.EqualFold(r.ReferrerODS, rq.ods) {
		return nil
	}
	var url string
	switch list {
	case ListAwaitingBooking:
		if !slices.Contains([]string{StateNotBooked, StateAwaitingTriage, StateDeferredToProvider, StateApptCancelledByPatient, StateApptCancelledByProvider}, r.State) {
			return nil
		}
		url = extAwaitingBookingItem
	case ListLettersOutstanding:
		if r.LetterIntention != "NEED_TO_ADD_LATER" || r.State == StateCancelledReferral {
			return nil
		}
		url = extLettersOutstandingItem
	case ListRejectedTriageResponse:
		if r.State != StateRejected && r.State != StateTriageResponse {
			return nil
		}
		url = extRejectedTriageItem
	case ListAssessmentReturnedCancel:
		cancelledElsewhere := r.State == StateCancelledReferral && !strings.EqualFold(r.CancelledBy, r.ReferrerODS)
		if !cancelledElsewhere && r.State != StateAssessmentResult && r.State != StateDidNotAttend {
			return nil
		}
		url = extAssessmentReturnedItem
	default:
		return nil
	}
	exts := []fhir.Extension{
		patientByIdentifier(r.NHSNumber),
		m.workPriority(r.Priority),
		{URL: "referralCreated", ValueDateTime: ersTime(r.Created)},
	}
	if cc := clinicalContext(r); cc != "" {
		exts = append(exts, fhir.Extension{URL: "clinicalContext", ValueString: cc})
	}
	exts = append(exts, fhir.Extension{URL: "referrer", ValueReference: &fhir.Reference{Identifier: &fhir.Identifier{System: systemSDSUserSTU3, Value: r.UserID}}})
	if list == ListLettersOutstanding {
		due := r.Created.AddDate(0, 0, int(r.ReminderDays))
		exts = append(exts, fhir.Extension{URL: "letterDue", ValueDate: due.UTC().Format("2006-01-02")})
	} else {
		exts = append(exts,
			fhir.Extension{URL: "referralLastUpdated", ValueDateTime: ersTime(r.Updated)},
			fhir.Extension{URL: "status", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemReferralState, Code: r.State, Display: stateDisplay[r.State]}}}},
		)
		if r.StateReason != "" && r.State != StateAwaitingTriage {
			exts = append(exts, fhir.Extension{URL: "reason", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{reasonCoding(r, rq.base)}}})
		}
	}
	return &listEntry{
		Extension: []fhir.Extension{{URL: url, Extension: exts}},
		Item:      fhir.Reference{Reference: "ReferralRequest/" + r.UBRN},
	}
}

func reasonCoding(r *referral, base string) fhir.Coding {
	if cr, ok := cancellationReasons[r.StateReason]; ok {
		return fhir.Coding{System: base + suffixCancellationReason, Code: r.StateReason, Display: cr.Display}
	}
	return fhir.Coding{System: systemReviewReason, Code: r.StateReason, Display: titleCase(r.StateReason)}
}

// providerEntry is r's entry on the provider's worklist, or nil. Every
// service in this mock is provided by ProviderODS.
func (m *Mock) providerEntry(list string, r *referral, rq *request, f worklistFilter) *listEntry {
	if !strings.EqualFold(rq.ods, m.providerODS) || len(r.Services) == 0 {
		return nil
	}
	svc := r.Services[0]
	if f.service != "" && svc.ID != f.service {
		return nil
	}
	if f.specialty != "" && r.Specialty != f.specialty {
		return nil
	}
	if f.specialtyAssigned == "UNASSIGNED" && r.Specialty != "" {
		return nil
	}
	// No referral in this mock is allocated to a clinician.
	if f.clinician != "" || f.clinicianAssigned == "ASSIGNED" {
		return nil
	}
	serviceExt := fhir.Extension{URL: "service", ValueReference: &fhir.Reference{Identifier: &fhir.Identifier{System: systemERSService, Value: svc.ID}, Display: svc.Display}}
	var exts []fhir.Extension
	var url string
	switch list {
	case ListReferralsForReview:
		if r.State != StateAwaitingTriage && r.State != StateBooked {
			return nil
		}
		url = extReferralsForReviewItem
		exts = append(exts, m.workPriority(r.Priority))
		if r.Specialty != "" {
			exts = append(exts, specialtyExt(rq.base, r.Specialty))
		}
		exts = append(exts, fhir.Extension{URL: "patient", ValueReference: &fhir.Reference{Reference: "#Patient-" + r.NHSNumber}})
		exts = append(exts, fhir.Extension{URL: "eReferralPathwayStart", ValueDateTime: r.pathwayStart()})
		referralType := "APPOINTMENT"
		if r.Triage {
			referralType = "TRIAGE_DEFERRAL"
		}
		exts = append(exts,
			fhir.Extension{URL: "clinicalInfoPrinted", ValueBoolean: fhir.Bool(false)},
			fhir.Extension{URL: "requestContextStatus", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemRequestContext, Code: "NEVER_REVIEWED", Display: "Never Reviewed"}}}},
			fhir.Extension{URL: "referralType", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemReferralType, Code: referralType}}}},
			serviceExt,
			fhir.Extension{URL: "referralRequestVersion", ValueInteger: fhir.Int(r.Version)},
		)
	case ListAppointmentSlotIssues:
		if r.State != StateDeferredToProvider {
			return nil
		}
		url = extSlotIssuesItem
		exts = append(exts, m.workPriority(r.Priority))
		if r.Specialty != "" {
			exts = append(exts, specialtyExt(rq.base, r.Specialty))
		}
		exts = append(exts, patientByIdentifier(r.NHSNumber))
		exts = append(exts, fhir.Extension{URL: "eReferralPathwayStart", ValueDateTime: r.pathwayStart()})
		reason := r.StateReason
		if reason == "" {
			reason = "NO_SLOTS_AT_SERVICE"
		}
		exts = append(exts,
			fhir.Extension{URL: "clinicalInfoPrinted", ValueBoolean: fhir.Bool(false)},
			fhir.Extension{URL: "ubrnReceived", ValueDateTime: ersTime(r.Updated)},
			fhir.Extension{URL: "patientContactExpected", ValueDate: r.Updated.AddDate(0, 0, 4).UTC().Format("2006-01-02")},
			fhir.Extension{URL: "clinicalInformationStatus", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemClinicalInfo, Code: "ABSENT"}}}},
			fhir.Extension{URL: "reason", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemReviewReason, Code: reason}}}},
			serviceExt,
		)
	default:
		return nil
	}
	return &listEntry{
		Extension: []fhir.Extension{{URL: url, Extension: exts}},
		Item:      fhir.Reference{Reference: "ReferralRequest/" + r.UBRN},
	}
}
