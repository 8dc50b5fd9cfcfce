package ers

import (
	"net/http"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

type bundleJSON struct {
	ID           string        `json:"id"`
	Meta         fhir.Meta     `json:"meta"`
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        int           `json:"total"`
	Timestamp    string        `json:"timestamp"`
	Link         []bundleLink  `json:"link"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string            `json:"fullUrl"`
	Resource practitionerRole  `json:"resource"`
	Search   map[string]string `json:"search"`
}

type practitionerRole struct {
	ID           string                 `json:"id"`
	Meta         fhir.Meta              `json:"meta"`
	ResourceType string                 `json:"resourceType"`
	Practitioner fhir.Reference         `json:"practitioner"`
	Organization fhir.Reference         `json:"organization"`
	Code         []fhir.CodeableConcept `json:"code"`
}

// handlePractitionerRole serves A030: the business functions the token's
// user holds at each organisation. The user comes from the token; a user
// query parameter naming someone else finds nothing.
func (m *Mock) handlePractitionerRole(w http.ResponseWriter, r *http.Request, rq *request) {
	now := ersTime(m.now())
	self := rq.base + "/R4/PractitionerRole"
	b := bundleJSON{
		ID:           m.nextRequestID(),
		Meta:         fhir.Meta{LastUpdated: now},
		ResourceType: "Bundle",
		Type:         "searchset",
		Timestamp:    now,
		Link:         []bundleLink{{Relation: "self", URL: self}},
	}
	if u := r.URL.Query().Get("user"); u == "" || strings.HasSuffix(u, m.creds.UserID) {
		for _, role := range m.roles {
			id := "PractitionerRole-" + role.ODSCode + "-" + m.creds.UserID
			codes := make([]fhir.CodeableConcept, len(role.BusinessFunctions))
			for i, bf := range role.BusinessFunctions {
				codes[i] = fhir.CodeableConcept{Coding: []fhir.Coding{{System: systemBusinessFunc, Code: bf}}}
			}
			b.Entry = append(b.Entry, bundleEntry{
				FullURL: self + "/" + id,
				Resource: practitionerRole{
					ID:           id,
					Meta:         fhir.Meta{LastUpdated: now},
					ResourceType: "PractitionerRole",
					Practitioner: fhir.Reference{Identifier: &fhir.Identifier{System: systemSDSUserR4, Value: m.creds.UserID}},
					Organization: fhir.Reference{Identifier: &fhir.Identifier{System: systemODS, Value: role.ODSCode}},
					Code:         codes,
				},
				Search: map[string]string{"mode": "match"},
			})
		}
	}
	b.Total = len(b.Entry)
	_ = fhir.WriteJSON(w, http.StatusOK, fhir.MediaTypeFHIRJSON, b)
}
