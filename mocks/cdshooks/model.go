package cdshooks

import (
	"encoding/json"
	"time"
)

// Hooks this package knows how to build contexts for.
const (
	HookOrderSelect = "order-select"
	HookOrderSign   = "order-sign"
	HookPatientView = "patient-view"
)

// Card indicators (CDS Hooks 1.0+; "hard-stop" and "success" are pre-1.0).
const (
	IndicatorInfo     = "info"
	IndicatorWarning  = "warning"
	IndicatorCritical = "critical"
)

// MaxSummaryChars is the longest card summary this package accepts without
// noting a problem. The spec says "<140 characters"; a summary of exactly 140
// is tolerated, anything longer is a problem (never unsafe).
const MaxSummaryChars = 140

// PAMA (Argonaut CDS Hooks for PAMA) identifiers used by imaging
// appropriateness services such as iRefer-like CDS.
const (
	PAMARatingExtension       = "http://fhir.org/argonaut/Extension/pama-rating"
	PAMARatingSystem          = "http://fhir.org/argonaut/CodeSystem/pama-rating"
	PAMAConsultIDExtension    = "http://fhir.org/argonaut/Extension/pama-rating-consult-id"
	PAMAQCDSMConsultExtension = "http://fhir.org/argonaut/Extension/pama-rating-qcdsm-consulted"
)

// PAMARatingCodes are the rating codes the PAMA IG defines. Services in the
// wild send others (the reference sandbox sends "no-guidelines-apply"); hosts
// tolerate them and this package notes them as problems.
var PAMARatingCodes = []string{"appropriate", "not-appropriate", "no-criteria-apply"}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Service is one entry of a CDS service's discovery response.
type Service struct {
	Hook        string            `json:"hook"`
	ID          string            `json:"id"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description"`
	Prefetch    map[string]string `json:"prefetch,omitempty"`
}

// Discovery is the body of GET {base}/cds-services.
type Discovery struct {
	Services []Service `json:"services"`
}

// MarshalJSON always writes services as an array, never null.
func (d Discovery) MarshalJSON() ([]byte, error) {
	type plain Discovery
	if d.Services == nil {
		d.Services = []Service{}
	}
	return json.Marshal(plain(d))
}

// Source says where a card's advice comes from.
type Source struct {
	Label string  `json:"label"`
	URL   string  `json:"url,omitempty"`
	Icon  string  `json:"icon,omitempty"`
	Topic *Coding `json:"topic,omitempty"`
}

// Card is one piece of advice shown to the clinician.
type Card struct {
	UUID              string       `json:"uuid,omitempty"`
	Summary           string       `json:"summary"`
	Detail            string       `json:"detail,omitempty"`
	Indicator         string       `json:"indicator"`
	Source            Source       `json:"source"`
	Suggestions       []Suggestion `json:"suggestions,omitempty"`
	SelectionBehavior string       `json:"selectionBehavior,omitempty"`
	OverrideReasons   []Coding     `json:"overrideReasons,omitempty"`
	Links             []Link       `json:"links,omitempty"`
}

// Suggestion is a set of actions the clinician can accept together.
type Suggestion struct {
	Label         string   `json:"label"`
	UUID          string   `json:"uuid,omitempty"`
	IsRecommended bool     `json:"isRecommended,omitempty"`
	Actions       []Action `json:"actions,omitempty"`
}

// Action is a create, update or delete of a FHIR resource, proposed in a
// suggestion or applied by the host as a system action.
type Action struct {
	Type        string          `json:"type"`
	Description string          `json:"description,omitempty"`
	Resource    json.RawMessage `json:"resource,omitempty"`
	ResourceID  string          `json:"resourceId,omitempty"`
}

// PAMARating returns the PAMA appropriateness rating code carried by the
// action's resource (the pama-rating extension), if there is one.
func (a Action) PAMARating() (code string, ok bool) {
	if len(a.Resource) == 0 {
		return "", false
	}
	var res struct {
		Extension []struct {
			URL                  string `json:"url"`
			ValueCodeableConcept struct {
				Coding []Coding `json:"coding"`
			} `json:"valueCodeableConcept"`
		} `json:"extension"`
	}
	if json.Unmarshal(a.Resource, &res) != nil {
		return "", false
	}
	for _, e := range res.Extension {
		if e.URL != PAMARatingExtension {
			continue
		}
		for _, c := range e.ValueCodeableConcept.Coding {
			if c.System == PAMARatingSystem || c.System == "" {
				return c.Code, true
			}
		}
	}
	return "", false
}

// ResourceRef returns "Type/id" of the action's resource, or "" when the
// resource has no resourceType or id.
func (a Action) ResourceRef() string {
	var res struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(a.Resource, &res) != nil || res.ResourceType == "" || res.ID == "" {
		return ""
	}
	return res.ResourceType + "/" + res.ID
}

// Link is a link to reference material or to a SMART app.
type Link struct {
	Label      string `json:"label"`
	URL        string `json:"url"`
	Type       string `json:"type,omitempty"`
	AppContext string `json:"appContext,omitempty"`
}

// Response is a CDS service's answer to a hook.
//
// SystemActions holds the actions found at the top level and under
// `extension.systemActions` (the placement used before CDS Hooks 1.0 made it
// top-level, and still used by the PAMA examples), top-level first.
type Response struct {
	Cards         []Card   `json:"cards"`
	SystemActions []Action `json:"systemActions,omitempty"`

	// LegacySystemActions counts the SystemActions that came from
	// `extension.systemActions`. It is never serialised.
	LegacySystemActions int `json:"-"`
}

// MarshalJSON writes the response as a spec-shaped body: cards is always an
// array and system actions are top-level.
func (r Response) MarshalJSON() ([]byte, error) {
	type wire struct {
		Cards         []Card   `json:"cards"`
		SystemActions []Action `json:"systemActions,omitempty"`
	}
	w := wire{Cards: r.Cards, SystemActions: r.SystemActions}
	if w.Cards == nil {
		w.Cards = []Card{}
	}
	return json.Marshal(w)
}

// Ratings maps each system action's resource ("ServiceRequest/id") to the
// PAMA rating the service gave it.
func (r Response) Ratings() map[string]string {
	out := map[string]string{}
	for _, a := range r.SystemActions {
		if code, ok := a.PAMARating(); ok {
			out[a.ResourceRef()] = code
		}
	}
	return out
}

// Request is one hook invocation as the host's workload describes it.
// Hook may be left empty when the service has been discovered; HookInstance
// is minted (a random UUID) when empty.
type Request struct {
	Hook         string
	ServiceID    string
	HookInstance string
	Context      map[string]any
	Prefetch     map[string]any
}

// requestBody is the JSON the host POSTs to a service.
type requestBody struct {
	Hook         string         `json:"hook"`
	HookInstance string         `json:"hookInstance"`
	FHIRServer   string         `json:"fhirServer,omitempty"`
	Context      map[string]any `json:"context"`
	Prefetch     map[string]any `json:"prefetch,omitempty"`
}

// Feedback outcomes.
const (
	OutcomeAccepted   = "accepted"
	OutcomeOverridden = "overridden"
)

// Feedback tells a service what the clinician did with one of its cards.
type Feedback struct {
	Card                string               `json:"card"`
	Outcome             string               `json:"outcome"`
	AcceptedSuggestions []AcceptedSuggestion `json:"acceptedSuggestions,omitempty"`
	OverrideReason      *OverrideReason      `json:"overrideReason,omitempty"`
	OutcomeTimestamp    time.Time            `json:"outcomeTimestamp"`
}

// AcceptedSuggestion names an accepted suggestion by its uuid.
type AcceptedSuggestion struct {
	ID string `json:"id"`
}

// OverrideReason is why the clinician overrode a card.
type OverrideReason struct {
	Reason      *Coding `json:"reason,omitempty"`
	UserComment string  `json:"userComment,omitempty"`
}
