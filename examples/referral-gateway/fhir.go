package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// FHIR systems and profiles used by createReferral (A011), fetchworklist
// (A008) and the read (A005), as in the e-RS sandbox examples.
const (
	systemNHSNumber      = "http://fhir.nhs.net/Id/nhs-number"
	systemERSService     = "http://fhir.nhs.net/Id/ers-service"
	systemLetterIntent   = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralLetterIntention-1"
	systemPriority       = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1"
	systemClinicType     = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1"
	systemListSelector   = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1"
	profileCreateParams  = "https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CreateReferral-Parameters-1"
	profileShortlist     = "https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Shortlist-List-1"
	profileSearchCrit    = "https://fhir.nhs.uk/STU3/StructureDefinition/eRS-ServiceSearchCriteria-Parameters-1"
	profileWorklistParam = "https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-Parameters-1"
	extShortlistCriteria = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Shortlist-SearchCriteria-1"

	listAwaitingBooking  = "AWAITING_BOOKING"
	letterNeedToAddLater = "NEED_TO_ADD_LATER"

	// fhirInstant is a FHIR instant with milliseconds and a zone, as e-RS
	// requires since 2025 (INTERFACES.md §1.7).
	fhirInstant = "2006-01-02T15:04:05.000Z07:00"
)

// priorities are the eRS-Priority-1 codes.
var priorities = []string{"ROUTINE", "URGENT", "TWO_WEEK_WAIT"}

// referral is one clinician referral request, as the inbound API receives it.
type referral struct {
	RequestID  string `json:"requestId"`
	NHSNumber  string `json:"nhsNumber"`
	ServiceID  string `json:"serviceId"`
	Priority   string `json:"priority"`
	Specialty  string `json:"specialty"`
	ClinicType string `json:"clinicType,omitempty"`
}

type obj = map[string]any

func coding(system, code string) obj { return obj{"system": system, "code": code} }

// createReferralBody builds the A011 Parameters exactly in the shape of the
// sandbox's createReferral/requests/MinimalRequest.json. base is the e-RS base
// URL, which e-RS uses as the prefix of its SPECIALTY code system (the
// "_baseUrl_" placeholder in the examples).
func createReferralBody(base string, r referral, pathwayStart time.Time) ([]byte, error) {
	criteria := []any{
		obj{"name": "priority", "valueCoding": coding(systemPriority, r.Priority)},
		obj{"name": "specialty", "valueCoding": coding(base+"/STU3/CodeSystem/SPECIALTY", r.Specialty)},
	}
	if r.ClinicType != "" {
		criteria = append(criteria, obj{"name": "clinicType", "valueCoding": coding(systemClinicType, r.ClinicType)})
	}
	criteria = append(criteria, obj{"name": "ageAndGenderAppropriate", "valueBoolean": false})

	body := obj{
		"resourceType": "Parameters",
		"meta":         obj{"profile": []string{profileCreateParams}},
		"parameter": []any{
			obj{"name": "patient", "valueIdentifier": obj{"system": systemNHSNumber, "value": r.NHSNumber}},
			obj{"name": "intentionToAddReferralLetter", "valueCoding": coding(systemLetterIntent, letterNeedToAddLater)},
			obj{"name": "firstReminderLetterFollowUpDays", "valueUnsignedInt": 0},
			obj{"name": "eReferralPathwayStart", "valueInstant": pathwayStart.UTC().Format(fhirInstant)},
			obj{"name": "shortlist", "resource": obj{
				"meta":         obj{"profile": []string{profileShortlist}},
				"resourceType": "List",
				"status":       "current",
				"mode":         "snapshot",
				"contained": []any{obj{
					"resourceType": "Parameters",
					"meta":         obj{"profile": []string{profileSearchCrit}},
					"id":           "ServiceSearchCriteria-1",
					"parameter":    criteria,
				}},
				"entry": []any{obj{"item": obj{"identifier": obj{"system": systemERSService, "value": r.ServiceID}}}},
				"extension": []any{obj{
					"url":            extShortlistCriteria,
					"valueReference": obj{"reference": "#ServiceSearchCriteria-1"},
				}},
			}},
		},
	}
	return json.Marshal(body)
}

// fetchWorklistBody builds the A008 Parameters for a referrer worklist.
func fetchWorklistBody(listType string) ([]byte, error) {
	return json.Marshal(obj{
		"resourceType": "Parameters",
		"meta":         obj{"profile": []string{profileWorklistParam}},
		"parameter": []any{obj{
			"name":                 "listType",
			"valueCodeableConcept": obj{"coding": []any{coding(systemListSelector, listType)}},
		}},
	})
}

// referralRequest is the part of an e-RS ReferralRequest the gateway reads.
type referralRequest struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Subject      struct {
		Identifier struct {
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"identifier"`
	} `json:"subject"`
}

func parseReferralRequest(b []byte) (referralRequest, error) {
	var rr referralRequest
	if err := json.Unmarshal(b, &rr); err != nil {
		return rr, fmt.Errorf("ReferralRequest is not JSON: %w", err)
	}
	if rr.ResourceType != "ReferralRequest" {
		return rr, fmt.Errorf("expected a ReferralRequest, got resourceType %q", rr.ResourceType)
	}
	if rr.ID == "" {
		return rr, fmt.Errorf("ReferralRequest has no id (UBRN)")
	}
	return rr, nil
}

// worklistEntry is one referral on a referrer worklist.
type worklistEntry struct {
	UBRN      string
	NHSNumber string
	Created   time.Time // zero if e-RS gave none we could read
}

type extension struct {
	URL            string      `json:"url"`
	Extension      []extension `json:"extension"`
	ValueDateTime  string      `json:"valueDateTime"`
	ValueReference *struct {
		Reference  string `json:"reference"`
		Identifier struct {
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"identifier"`
	} `json:"valueReference"`
}

// parseWorklist reads an eRS-FetchWorklist-List-1 response. Each entry's
// worklist-item extension carries sub-extensions "patient" (NHS number) and
// "referralCreated"; item.reference is "ReferralRequest/{ubrn}".
func parseWorklist(b []byte) ([]worklistEntry, error) {
	var list struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Extension []extension `json:"extension"`
			Item      struct {
				Reference string `json:"reference"`
			} `json:"item"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("worklist is not JSON: %w", err)
	}
	if list.ResourceType != "List" {
		return nil, fmt.Errorf("expected a List, got resourceType %q", list.ResourceType)
	}
	out := make([]worklistEntry, 0, len(list.Entry))
	for _, e := range list.Entry {
		ubrn, ok := strings.CutPrefix(e.Item.Reference, "ReferralRequest/")
		if !ok || ubrn == "" {
			continue
		}
		// A versioned reference ends in /_history/{v}.
		ubrn, _, _ = strings.Cut(ubrn, "/")
		we := worklistEntry{UBRN: ubrn}
		for _, outer := range e.Extension {
			for _, sub := range outer.Extension {
				switch sub.URL {
				case "patient":
					if sub.ValueReference != nil {
						we.NHSNumber = sub.ValueReference.Identifier.Value
					}
				case "referralCreated":
					if t, err := parseFHIRDateTime(sub.ValueDateTime); err == nil {
						we.Created = t
					}
				}
			}
		}
		out = append(out, we)
	}
	return out, nil
}

// parseFHIRDateTime reads a FHIR dateTime; values without a zone are taken as
// UTC.
func parseFHIRDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a FHIR dateTime", s)
}

// operationOutcomeSummary returns "CODE: diagnostics" from an e-RS
// OperationOutcome, or a prefix of the body when it is something else.
func operationOutcomeSummary(b []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code    string `json:"code"`
			Details struct {
				Coding []struct {
					Code string `json:"code"`
				} `json:"coding"`
			} `json:"details"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
	}
	if json.Unmarshal(b, &oo) == nil && oo.ResourceType == "OperationOutcome" && len(oo.Issue) > 0 {
		is := oo.Issue[0]
		code := is.Code
		if len(is.Details.Coding) > 0 && is.Details.Coding[0].Code != "" {
			code = is.Details.Coding[0].Code
		}
		if is.Diagnostics != "" {
			return code + ": " + is.Diagnostics
		}
		return code
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
