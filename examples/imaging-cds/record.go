package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// record is what the rules read from a patient's structured record.
type record struct {
	problems     []problem
	observations []observation
}

// problem is a Condition from the problem list.
type problem struct {
	codes   []string
	display string // text for matching; sanitised in resilient mode
	// displayRaw is the display exactly as GP Connect sent it, of whatever
	// JSON type. Only naive mode uses it (that is the bug it demonstrates).
	displayRaw any
	active     bool
	onset      time.Time // zero when unknown
}

// observation is a test result.
type observation struct {
	codes    []string
	display  string
	value    float64
	hasValue bool
	unit     string
	when     time.Time // zero when unknown
}

// Typed STU3 shapes for resilient parsing: a wrong JSON type anywhere in
// them fails the decode.
type codeableConcept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

func (c codeableConcept) codes() []string {
	var out []string
	for _, cd := range c.Coding {
		if cd.Code != "" {
			out = append(out, cd.Code)
		}
	}
	return out
}

func (c codeableConcept) label() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	return ""
}

type stu3Condition struct {
	ClinicalStatus string          `json:"clinicalStatus"`
	Code           codeableConcept `json:"code"`
	OnsetDateTime  string          `json:"onsetDateTime"`
	AssertedDate   string          `json:"assertedDate"`
}

type stu3Observation struct {
	Code              codeableConcept `json:"code"`
	EffectiveDateTime string          `json:"effectiveDateTime"`
	Issued            string          `json:"issued"`
	ValueQuantity     *struct {
		Value *float64 `json:"value"`
		Unit  string   `json:"unit"`
	} `json:"valueQuantity"`
}

// errMalformedRecord is a record whose shape or JSON types are wrong.
var errMalformedRecord = errors.New("structured record is malformed")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMalformedRecord, fmt.Sprintf(format, a...))
}

// parseRecord is the resilient parser. The body must be a Bundle; every
// Condition and Observation must have the STU3 JSON types. A record with
// any malformed clinical resource is refused as a whole rather than rated
// from the part that parsed: a red flag could be in the part that did not.
// Text is sanitised (control characters stripped, length clamped) here, at
// the boundary.
func parseRecord(body []byte) (record, error) {
	var rec record
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &bundle); err != nil {
		return rec, malformed("not a JSON Bundle: %v", err)
	}
	if bundle.ResourceType != "Bundle" {
		return rec, malformed("resourceType is %q, not Bundle", clamp(bundle.ResourceType, 40))
	}
	for i, e := range bundle.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if len(e.Resource) == 0 {
			continue
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return rec, malformed("entry %d: %v", i, err)
		}
		switch head.ResourceType {
		case "Condition":
			var c stu3Condition
			if err := json.Unmarshal(e.Resource, &c); err != nil {
				return rec, malformed("entry %d (Condition): %v", i, err)
			}
			onset := parseFHIRTime(c.OnsetDateTime)
			if onset.IsZero() {
				onset = parseFHIRTime(c.AssertedDate)
			}
			rec.problems = append(rec.problems, problem{
				codes:   sanitiseCodes(c.Code.codes()),
				display: sanitise(c.Code.label(), maxEvidenceText),
				active:  c.ClinicalStatus == "" || c.ClinicalStatus == "active",
				onset:   onset,
			})
		case "Observation":
			var o stu3Observation
			if err := json.Unmarshal(e.Resource, &o); err != nil {
				return rec, malformed("entry %d (Observation): %v", i, err)
			}
			obs := observation{
				codes:   sanitiseCodes(o.Code.codes()),
				display: sanitise(o.Code.label(), maxEvidenceText),
				when:    parseFHIRTime(o.EffectiveDateTime),
			}
			if obs.when.IsZero() {
				obs.when = parseFHIRTime(o.Issued)
			}
			if o.ValueQuantity != nil && o.ValueQuantity.Value != nil {
				obs.value, obs.hasValue = *o.ValueQuantity.Value, true
				obs.unit = sanitise(o.ValueQuantity.Unit, 20)
			}
			rec.observations = append(rec.observations, obs)
		}
	}
	return rec, nil
}

// naiveRecord walks the record as map[string]any the way the naive mode
// does: it never checks a leaf's type and keeps the problem display exactly
// as it came, to be forwarded to the host.
func naiveRecord(bundle map[string]any) record {
	var rec record
	entries, _ := bundle["entry"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		res, _ := em["resource"].(map[string]any)
		code, _ := res["code"].(map[string]any)
		var codes []string
		var firstDisplay any
		codings, _ := code["coding"].([]any)
		for _, c := range codings {
			cm, _ := c.(map[string]any)
			if s, ok := cm["code"].(string); ok {
				codes = append(codes, s)
			}
			if firstDisplay == nil {
				firstDisplay = cm["display"]
			}
		}
		display := code["text"]
		if display == nil {
			display = firstDisplay
		}
		text := fmt.Sprint(display)
		switch res["resourceType"] {
		case "Condition":
			status, _ := res["clinicalStatus"].(string)
			onset, _ := res["onsetDateTime"].(string)
			rec.problems = append(rec.problems, problem{
				codes: codes, display: text, displayRaw: display,
				active: status == "" || status == "active",
				onset:  parseFHIRTime(onset),
			})
		case "Observation":
			obs := observation{codes: codes, display: text}
			if eff, ok := res["effectiveDateTime"].(string); ok {
				obs.when = parseFHIRTime(eff)
			}
			if vq, ok := res["valueQuantity"].(map[string]any); ok {
				obs.value, obs.hasValue = vq["value"].(float64)
				obs.unit, _ = vq["unit"].(string)
			}
			rec.observations = append(rec.observations, obs)
		}
	}
	return rec
}

func parseFHIRTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly, "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Text limits for what resilient mode sends the host.
const (
	maxSummary      = 140
	maxDetail       = 1000
	maxEvidenceText = 200
)

// sanitise makes upstream text safe to show: valid UTF-8, no control
// characters (newlines become spaces), whitespace collapsed, at most max
// runes (an ellipsis marks a cut).
func sanitise(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' ||
			unicode.Is(unicode.Cf, r) { // format characters: bidi overrides, zero-width
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return clamp(strings.TrimSpace(b.String()), max)
}

// clamp cuts s to at most max runes, ending with "…" when it cut.
func clamp(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

func sanitiseCodes(codes []string) []string {
	out := codes[:0]
	for _, c := range codes {
		if c = sanitise(c, 40); c != "" {
			out = append(out, c)
		}
	}
	return out
}
