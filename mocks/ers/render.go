package ers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// ersTime formats t the way e-RS does: UTC with milliseconds.
func ersTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func etag(version int) string { return fmt.Sprintf(`W/"%d"`, version) }

// referralRequestJSON is an eRS-ReferralRequest-1 resource.
type referralRequestJSON struct {
	ID             string                `json:"id"`
	Meta           fhir.Meta             `json:"meta"`
	ResourceType   string                `json:"resourceType"`
	Extension      []fhir.Extension      `json:"extension"`
	Contained      []any                 `json:"contained"`
	Status         string                `json:"status"`
	Specialty      *fhir.CodeableConcept `json:"specialty,omitempty"`
	Subject        fhir.Reference        `json:"subject"`
	SupportingInfo []fhir.Reference      `json:"supportingInfo"`
	Intent         string                `json:"intent"`
	Identifier     []fhir.Identifier     `json:"identifier"`
}

type containedParameters struct {
	ID           string           `json:"id"`
	Meta         fhir.Meta        `json:"meta"`
	ResourceType string           `json:"resourceType"`
	Parameter    []fhir.Parameter `json:"parameter"`
}

type listEntry struct {
	Extension []fhir.Extension `json:"extension,omitempty"`
	Item      fhir.Reference   `json:"item"`
}

type containedList struct {
	ID           string           `json:"id"`
	Meta         fhir.Meta        `json:"meta"`
	ResourceType string           `json:"resourceType"`
	Extension    []fhir.Extension `json:"extension"`
	Status       string           `json:"status"`
	Mode         string           `json:"mode"`
	Entry        []listEntry      `json:"entry"`
}

type appointmentJSON struct {
	ID               string                 `json:"id"`
	Meta             fhir.Meta              `json:"meta"`
	Language         string                 `json:"language"`
	ResourceType     string                 `json:"resourceType"`
	Status           string                 `json:"status"`
	Description      string                 `json:"description"`
	Created          string                 `json:"created"`
	Reason           []fhir.CodeableConcept `json:"reason,omitempty"`
	IncomingReferral []fhir.Reference       `json:"incomingReferral"`
	Participant      []participant          `json:"participant"`
}

type participant struct {
	Actor  fhir.Reference `json:"actor"`
	Status string         `json:"status"`
}

func (m *Mock) priorityConcept(code string) *fhir.CodeableConcept {
	return &fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemPriority, Code: code, Display: priorityDisplay[code]}}}
}

// stateExtension is Extension-eRS-ReferralState-1 for r.
func stateExtension(r *referral, base string) fhir.Extension {
	ext := fhir.Extension{URL: extReferralState, Extension: []fhir.Extension{{
		URL:         "state",
		ValueCoding: &fhir.Coding{System: systemReferralState, Code: r.State, Display: stateDisplay[r.State]},
	}}}
	if r.StateReason != "" {
		reason := &fhir.Coding{System: systemReviewReason, Code: r.StateReason}
		if cr, ok := cancellationReasons[r.StateReason]; ok && r.State == StateCancelledReferral {
			reason = &fhir.Coding{System: base + suffixRequestCancelReas, Code: r.StateReason, Display: cr.Display}
		}
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "reason", ValueCoding: reason})
	}
	if r.StateComment != "" {
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "comments", ValueString: r.StateComment})
	}
	return ext
}

// renderReferral builds the ReferralRequest for r, in the shape of the e-RS
// examples (createReferral/responses, retrieveReferralRequest/responses).
func (m *Mock) renderReferral(r *referral, base string) referralRequestJSON {
	var exts []fhir.Extension
	if r.Triage {
		exts = append(exts,
			fhir.Extension{URL: extAppointment, ValueReference: &fhir.Reference{Reference: "#appointment"}},
			fhir.Extension{URL: extAppointmentReference, ValueReference: &fhir.Reference{Reference: "Appointment/" + r.AppointmentID}},
		)
	}
	exts = append(exts, fhir.Extension{URL: extPriority, ValueCodeableConcept: m.priorityConcept(r.Priority)})
	if r.PathwayStart != "" {
		exts = append(exts, fhir.Extension{URL: extPathwayStart, ValueInstant: r.PathwayStart})
	}
	exts = append(exts,
		fhir.Extension{URL: extShortlist, ValueReference: &fhir.Reference{Reference: "#shortlist"}},
		fhir.Extension{URL: extCommissioningRuleOrg, ValueIdentifier: &fhir.Identifier{System: systemODS, Value: m.providerODS}},
		stateExtension(r, base),
	)

	entries := make([]listEntry, len(r.Services))
	for i, s := range r.Services {
		entries[i] = listEntry{Item: fhir.Reference{Identifier: &fhir.Identifier{System: systemERSService, Value: s.ID}, Display: s.Display}}
	}
	contained := []any{
		containedParameters{ID: "serviceSearchCriteria", Meta: fhir.Meta{Profile: []string{profileSearchCriteria}}, ResourceType: "Parameters", Parameter: r.Criteria},
		containedList{
			ID: "shortlist", Meta: fhir.Meta{Profile: []string{profileShortlist}}, ResourceType: "List",
			Extension: []fhir.Extension{{URL: extShortlistCriteria, ValueReference: &fhir.Reference{Reference: "#serviceSearchCriteria"}}},
			Status:    "current", Mode: "snapshot", Entry: entries,
		},
	}
	if r.Triage && len(r.Services) > 0 {
		status := "proposed"
		if r.State == StateCancelledReferral {
			status = "cancelled"
		}
		contained = append(contained, appointmentJSON{
			ID:               "appointment",
			Meta:             fhir.Meta{VersionID: "1", Profile: []string{profileAppointment, profileCCAppointment}},
			Language:         "en",
			ResourceType:     "Appointment",
			Status:           status,
			Description:      "e-Referral Appointment",
			Created:          ersTime(r.Created),
			Reason:           []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: systemReviewReason, Code: "TRIAGE"}}}},
			IncomingReferral: []fhir.Reference{{Reference: fmt.Sprintf("ReferralRequest/%s/_history/%d", r.UBRN, r.Version)}},
			Participant: []participant{
				{Actor: fhir.Reference{Identifier: &fhir.Identifier{System: systemERSService, Value: r.Services[0].ID}, Display: r.Services[0].Display}, Status: "accepted"},
				{Actor: fhir.Reference{Identifier: &fhir.Identifier{System: systemNHSNumber, Value: r.NHSNumber}}, Status: "accepted"},
			},
		})
	}
	out := referralRequestJSON{
		ID:             r.UBRN,
		Meta:           fhir.Meta{VersionID: fmt.Sprint(r.Version), Profile: []string{profileReferralRequest}},
		ResourceType:   "ReferralRequest",
		Extension:      exts,
		Contained:      contained,
		Status:         r.Status,
		Subject:        fhir.Reference{Identifier: &fhir.Identifier{System: systemNHSNumber, Value: r.NHSNumber}},
		SupportingInfo: []fhir.Reference{},
		Intent:         "plan",
		Identifier:     []fhir.Identifier{{System: systemRequestID, Value: r.RequestID}},
	}
	// As in the e-RS examples, a referral carries its specialty once it has
	// moved on from NOT_BOOKED (sent for triage, cancelled, ...).
	if r.State != StateNotBooked && r.Specialty != "" {
		out.Specialty = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: base + suffixSpecialty, Code: r.Specialty, Display: titleCase(r.Specialty)}}}
	}
	return out
}

// writeReferral answers with r and its ETag.
func (m *Mock) writeReferral(w http.ResponseWriter, status int, r *referral, base string) {
	w.Header().Set(headerETag, etag(r.Version))
	_ = fhir.WriteJSON(w, status, fhir.MediaTypeFHIRJSON, m.renderReferral(r, base))
}
