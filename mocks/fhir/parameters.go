package fhir

import (
	"encoding/json"
	"fmt"
	"io"
)

// Parameters is the FHIR resource that carries operation inputs and outputs.
type Parameters struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id,omitempty"`
	Meta         *Meta       `json:"meta,omitempty"`
	Parameter    []Parameter `json:"parameter,omitempty"`
}

// Parameter is one named parameter. Scalars are pointers so that "absent"
// and "zero" can be told apart; Resource is left raw for the caller to decode
// into the type it expects.
type Parameter struct {
	Name                 string           `json:"name"`
	ValueIdentifier      *Identifier      `json:"valueIdentifier,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueString          *string          `json:"valueString,omitempty"`
	ValueCode            *string          `json:"valueCode,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueInteger         *int64           `json:"valueInteger,omitempty"`
	ValueUnsignedInt     *int64           `json:"valueUnsignedInt,omitempty"`
	ValuePositiveInt     *int64           `json:"valuePositiveInt,omitempty"`
	ValueInstant         *string          `json:"valueInstant,omitempty"`
	ValueDateTime        *string          `json:"valueDateTime,omitempty"`
	ValueDate            *string          `json:"valueDate,omitempty"`
	Resource             json.RawMessage  `json:"resource,omitempty"`
	Part                 []Parameter      `json:"part,omitempty"`
}

// NewParameters returns an empty Parameters resource with profile (if any).
func NewParameters(profile string) *Parameters {
	p := &Parameters{ResourceType: "Parameters"}
	if profile != "" {
		p.Meta = &Meta{Profile: []string{profile}}
	}
	return p
}

// Get returns every parameter called name, in order.
func (p *Parameters) Get(name string) []Parameter {
	if p == nil {
		return nil
	}
	var out []Parameter
	for _, q := range p.Parameter {
		if q.Name == name {
			out = append(out, q)
		}
	}
	return out
}

// First returns the first parameter called name, or nil.
func (p *Parameters) First(name string) *Parameter {
	if p == nil {
		return nil
	}
	for i := range p.Parameter {
		if p.Parameter[i].Name == name {
			return &p.Parameter[i]
		}
	}
	return nil
}

// Count returns how many parameters are called name.
func (p *Parameters) Count(name string) int { return len(p.Get(name)) }

// Unknown returns the positions of parameters whose name is not in allowed.
func (p *Parameters) Unknown(allowed ...string) []int {
	if p == nil {
		return nil
	}
	ok := make(map[string]bool, len(allowed))
	for _, a := range allowed {
		ok[a] = true
	}
	var out []int
	for i, q := range p.Parameter {
		if !ok[q.Name] {
			out = append(out, i)
		}
	}
	return out
}

// AddResource appends a parameter whose value is resource v.
func (p *Parameters) AddResource(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("parameters: add resource %q: %w", name, err)
	}
	p.Parameter = append(p.Parameter, Parameter{Name: name, Resource: b})
	return nil
}

// DecodeParameters reads a Parameters resource of at most limit bytes from r,
// strictly: unknown fields and a resourceType other than "Parameters" are
// errors. Errors are *DecodeError.
func DecodeParameters(r io.Reader, limit int64) (*Parameters, error) {
	var p Parameters
	if err := DecodeResource(r, limit, "Parameters", true, &p); err != nil {
		return nil, err
	}
	for i, q := range p.Parameter {
		if q.Name == "" {
			return nil, &DecodeError{Op: "decode Parameters", Path: fmt.Sprintf("parameter[%d].name", i), Msg: "every parameter needs a name", Offset: -1}
		}
	}
	return &p, nil
}
