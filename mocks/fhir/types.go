package fhir

import "encoding/json"

// Meta is a resource's metadata.
type Meta struct {
	VersionID   string   `json:"versionId,omitempty"`
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept given by one or more codings.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// First returns the first coding, or the zero Coding.
func (c *CodeableConcept) First() Coding {
	if c == nil || len(c.Coding) == 0 {
		return Coding{}
	}
	return c.Coding[0]
}

// Identifier is a business identifier (NHS number, UBRN, ODS code, ...).
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Reference points at another resource, by URL or by identifier.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Extension is a FHIR extension with the value[x] types the mocks use.
// Exactly one value (or nested Extension) is expected to be set.
type Extension struct {
	URL                  string           `json:"url"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueIdentifier      *Identifier      `json:"valueIdentifier,omitempty"`
	ValueInstant         string           `json:"valueInstant,omitempty"`
	ValueDateTime        string           `json:"valueDateTime,omitempty"`
	ValueDate            string           `json:"valueDate,omitempty"`
	ValueString          string           `json:"valueString,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueInteger         *int             `json:"valueInteger,omitempty"`
	Extension            []Extension      `json:"extension,omitempty"`
}

// Bool returns a pointer to b, for optional boolean fields.
func Bool(b bool) *bool { return &b }

// Int returns a pointer to n, for optional integer fields.
func Int(n int) *int { return &n }

// ResourceHeader is the part of any resource needed to tell what it is.
type ResourceHeader struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id,omitempty"`
	Meta         *Meta  `json:"meta,omitempty"`
}

// PeekResourceType returns the resourceType of a JSON resource, or "" when
// raw is not a JSON object or has none.
func PeekResourceType(raw json.RawMessage) string {
	var h struct {
		ResourceType any `json:"resourceType"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return ""
	}
	s, _ := h.ResourceType.(string)
	return s
}
