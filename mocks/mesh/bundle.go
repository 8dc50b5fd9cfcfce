package mesh

import (
	"bytes"
	"encoding/json"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// systemNHSNumber is the FHIR identifier system of an NHS number.
const systemNHSNumber = "https://fhir.nhs.uk/Id/nhs-number"

// bundleKeys reads a message body as a FHIR Bundle carrying a result (a
// pathology message: Patient, DiagnosticReport, Observations) and returns
// the journal keys that correlate it with what the lab sent: bundle_id
// (Bundle.identifier.value, else Bundle.id), nhs_number (the Patient's
// identifier with the NHS number system) and content_hash
// (synthetic.ResultContentHash of the NHS number, the first
// DiagnosticReport's code.coding[0].code and, for every Observation,
// code.coding[0].code with its value: valueQuantity.value as its JSON
// number text, else valueString, else valueCodeableConcept.coding[0].code,
// else ""). content_hash needs a DiagnosticReport. It is best effort: a
// body that is not a Bundle yields no keys, never an error.
func bundleKeys(body []byte) map[string]string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var b struct {
		ResourceType string          `json:"resourceType"`
		ID           string          `json:"id"`
		Identifier   json.RawMessage `json:"identifier"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil || b.ResourceType != "Bundle" {
		return nil
	}
	keys := map[string]string{}
	id := identifierValue(b.Identifier)
	if id == "" {
		id = b.ID
	}
	if id != "" {
		keys["bundle_id"] = id
	}
	var (
		nhs, report string
		haveReport  bool
		obs         []synthetic.ObsValue
	)
	for _, e := range b.Entry {
		var r resource
		d := json.NewDecoder(bytes.NewReader(e.Resource))
		d.UseNumber()
		if len(e.Resource) == 0 || d.Decode(&r) != nil {
			continue
		}
		switch r.ResourceType {
		case "Patient":
			if nhs != "" {
				continue
			}
			for _, i := range r.Identifier {
				if i.System == systemNHSNumber && i.Value != "" {
					nhs = i.Value
					break
				}
			}
		case "DiagnosticReport":
			if !haveReport {
				haveReport, report = true, r.Code.first()
			}
		case "Observation":
			obs = append(obs, synthetic.ObsValue{Code: r.Code.first(), Value: r.value()})
		}
	}
	if nhs != "" {
		keys["nhs_number"] = nhs
	}
	if haveReport {
		keys["content_hash"] = synthetic.ResultContentHash(nhs, report, obs)
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

type codeableConcept struct {
	Coding []struct {
		Code string `json:"code"`
	} `json:"coding"`
}

func (c *codeableConcept) first() string {
	if c == nil || len(c.Coding) == 0 {
		return ""
	}
	return c.Coding[0].Code
}

type resource struct {
	ResourceType string `json:"resourceType"`
	Identifier   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Code          *codeableConcept `json:"code"`
	ValueQuantity *struct {
		Value json.Number `json:"value"`
	} `json:"valueQuantity"`
	ValueString          *string          `json:"valueString"`
	ValueCodeableConcept *codeableConcept `json:"valueCodeableConcept"`
}

func (r *resource) value() string {
	switch {
	case r.ValueQuantity != nil && r.ValueQuantity.Value != "":
		return r.ValueQuantity.Value.String()
	case r.ValueString != nil:
		return *r.ValueString
	case r.ValueCodeableConcept != nil:
		return r.ValueCodeableConcept.first()
	}
	return ""
}

// identifierValue reads Bundle.identifier (an Identifier; an array of them
// is tolerated, the first taken) and returns its value.
func identifierValue(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	type ident struct {
		Value string `json:"value"`
	}
	if raw[0] == '[' {
		var is []ident
		if json.Unmarshal(raw, &is) != nil || len(is) == 0 {
			return ""
		}
		return is[0].Value
	}
	var i ident
	if json.Unmarshal(raw, &i) != nil {
		return ""
	}
	return i.Value
}

// body assembles a fully uploaded message's chunks and undoes gzip (per
// chunk or over the whole; concatenated gzip members decode as one), for
// looking inside it. Not gzip, or not valid gzip: the bytes as stored.
func (msg *message) body() []byte {
	raw := bytes.Join(msg.chunks, nil)
	if msg.encoding == "gzip" || msg.compressed == "Y" || bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		if plain, err := gunzip(raw); err == nil {
			return plain
		}
	}
	return raw
}
