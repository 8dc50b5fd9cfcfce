package main

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// FHIR systems used in the pathology message (INTERFACES §4.2).
const (
	systemNHSNumber   = "https://fhir.nhs.uk/Id/nhs-number"
	systemODS         = "https://fhir.nhs.uk/Id/ods-organization-code"
	systemMessageEvt  = "https://fhir.nhs.uk/CodeSystem/message-event"
	systemInterpret   = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	systemDRCategory  = "http://terminology.hl7.org/CodeSystem/v2-0074"
	systemObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemURN         = "urn:ietf:rfc:3986"
	systemPlacer      = "https://shakedown.example/Id/placer-order-number"
	systemFiller      = "https://shakedown.example/Id/filler-order-number"
)

// namespace is the UUID (v5) namespace every identifier in a bundle is
// derived in, so the same MSH-10 always gives the same Bundle.identifier.
var namespace = [16]byte{0x6b, 0x1f, 0x3c, 0x52, 0x8e, 0x0a, 0x4d, 0x7b, 0x9c, 0x21, 0x5e, 0x44, 0x0f, 0x93, 0xa2, 0x17}

// uuid5 is an RFC 4122 name-based (SHA-1) UUID of name in namespace.
func uuid5(name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	s := h.Sum(nil)[:16]
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// contentError is a result that parses but cannot be used: it is answered
// with AE (fix the message; do not resend it unchanged).
type contentError struct{ ack hl7.AckError }

func (e *contentError) Error() string { return e.ack.Error() }

func unusable(code, text, seg string, field int) *contentError {
	return &contentError{hl7.AckError{Code: code, Text: text, Segment: seg, Seq: 1, Field: field}}
}

// result is one converted ORU^R01, ready for MESH.
type result struct {
	MSH10     string
	NHSNumber string
	Subject   string // mex-Subject: no patient identifiers
	BundleID  string
	Bundle    []byte // application/fhir+json
}

// nhsNumber returns the NHS number in PID-3: the repetition whose type is
// NH or whose assigning authority is NHS.
func nhsNumber(m *hl7.Message) string {
	pid := m.Segment("PID")
	if pid == nil {
		return ""
	}
	for _, rep := range pid.Field(3) {
		get := func(i int) string {
			if i < len(rep) && len(rep[i]) > 0 {
				return rep[i][0]
			}
			return ""
		}
		if get(4) == "NH" || get(3) == "NHS" {
			return strings.ReplaceAll(get(0), " ", "")
		}
	}
	return ""
}

var reportStatus = map[string]string{"F": "final", "P": "preliminary", "C": "corrected", "X": "cancelled"}

var interpretation = map[string]string{
	"H": "High", "L": "Low", "HH": "Critical high", "LL": "Critical low", "A": "Abnormal", "N": "Normal",
	"AA": "Critical abnormal", "<": "Off scale low", ">": "Off scale high",
}

// hl7Time reads an HL7 DTM (to the second or coarser, optional offset) as a
// FHIR dateTime. Without an offset it is UK local time.
func hl7Time(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	loc := ukTime
	body, off := s, ""
	if i := strings.IndexAny(s, "+-"); i > 0 {
		body, off = s[:i], s[i:]
	}
	if i := strings.IndexByte(body, '.'); i >= 0 {
		body = body[:i]
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(body)]
	if !ok {
		return "", false
	}
	if off != "" {
		t, err := time.Parse(layout+"-0700", body+off)
		if err != nil {
			return "", false
		}
		return t.Format(time.RFC3339), true
	}
	t, err := time.ParseInLocation(layout, body, loc)
	if err != nil {
		return "", false
	}
	if len(body) == 8 {
		return t.Format("2006-01-02"), true
	}
	return t.Format(time.RFC3339), true
}

// ukTime is the zone of HL7 times without an offset (tzdata is embedded, so
// conversion does not depend on the host).
var ukTime = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()

type obj = map[string]any

func ref(fullURL string) obj { return obj{"reference": fullURL} }

func coding(system, code, display string) obj {
	c := obj{"code": code}
	if system != "" {
		c["system"] = system
	}
	if display != "" {
		c["display"] = display
	}
	return c
}

// codeable reads a CE (code^text^system) as a CodeableConcept.
func codeable(m *hl7.Message, path string) obj {
	code, text, sys := m.Get(path+".1"), m.Get(path+".2"), m.Get(path+".3")
	cc := obj{"coding": []any{coding(sys, code, text)}}
	if text != "" {
		cc["text"] = text
	}
	return cc
}

// quantity parses a decimal keeping its precision (json.Number).
func quantity(v, unit string) (obj, bool) {
	v = strings.TrimSpace(v)
	if _, err := strconv.ParseFloat(v, 64); err != nil || v == "" {
		return nil, false
	}
	q := obj{"value": json.Number(strings.TrimPrefix(v, "+"))}
	if unit != "" {
		q["unit"] = unit
	}
	return q, true
}

// referenceRange reads OBX-7: "lo-hi", "<hi", ">lo"; anything else is text.
func referenceRange(s, unit string) obj {
	s = strings.TrimSpace(s)
	if lo, hi, ok := strings.Cut(s, "-"); ok && lo != "" {
		ql, okl := quantity(lo, unit)
		qh, okh := quantity(hi, unit)
		if okl && okh {
			return obj{"low": ql, "high": qh}
		}
	}
	if rest, ok := strings.CutPrefix(s, "<"); ok {
		if q, ok := quantity(strings.TrimPrefix(rest, "="), unit); ok {
			return obj{"high": q}
		}
	}
	if rest, ok := strings.CutPrefix(s, ">"); ok {
		if q, ok := quantity(strings.TrimPrefix(rest, "="), unit); ok {
			return obj{"low": q}
		}
	}
	return obj{"text": s}
}

// convert turns an ORU^R01 into a FHIR R4 pathology message Bundle
// (INTERFACES §4.2). Every id is derived from MSH-10, so converting the same
// message twice gives byte-identical output.
func convert(m *hl7.Message) (*result, error) {
	msh10 := m.ControlID()
	nhs := nhsNumber(m)
	switch {
	case nhs == "":
		return nil, unusable(hl7.ErrRequiredMissing, "no NHS number in PID-3", "PID", 3)
	case !synthetic.ValidNHSNumber(nhs):
		return nil, unusable(hl7.ErrDataType, "NHS number "+nhs+" fails the modulus 11 check", "PID", 3)
	}
	if m.Segment("OBR") == nil {
		return nil, unusable(hl7.ErrRequiredMissing, "no OBR segment", "OBR", 0)
	}
	status, ok := reportStatus[m.Get("OBR-25")]
	if !ok {
		return nil, unusable(hl7.ErrTableValue, fmt.Sprintf("result status %q in OBR-25 is not F, P, C or X", m.Get("OBR-25")), "OBR", 25)
	}
	if m.Get("OBR-4.1") == "" {
		return nil, unusable(hl7.ErrRequiredMissing, "no test code in OBR-4", "OBR", 4)
	}

	id := func(kind string) string { return uuid5(msh10 + "/" + kind) }
	bundleID := uuid5(msh10)
	url := func(u string) string { return "urn:uuid:" + u }
	labURL, gpURL, patURL := url(id("Organization/lab")), url(id("Organization/gp")), url(id("Patient"))
	srURL, drURL := url(id("ServiceRequest")), url(id("DiagnosticReport"))
	mhID := id("MessageHeader")
	var entries []any
	add := func(fullURL string, res obj) {
		res["id"] = strings.TrimPrefix(fullURL, "urn:uuid:")
		entries = append(entries, obj{"fullUrl": fullURL, "resource": res})
	}

	msgTime, _ := hl7Time(m.Get("MSH-7"))
	issued, ok := hl7Time(m.Get("OBR-22"))
	if !ok {
		issued = msgTime
	}
	effective, _ := hl7Time(m.Get("OBR-7"))

	add(url(mhID), obj{
		"resourceType": "MessageHeader",
		"eventCoding":  coding(systemMessageEvt, "unsolicited-observations", "Unsolicited Observations"),
		"sender":       ref(labURL),
		"source":       obj{"name": m.Get("MSH-3.1"), "endpoint": "urn:nhs-mesh:" + m.Get("MSH-4.1")},
		"destination":  []any{obj{"endpoint": "urn:nhs-mesh:" + m.Get("MSH-6.1"), "receiver": ref(gpURL)}},
		"focus":        []any{ref(drURL)},
	})
	org := func(ods string) obj {
		o := obj{"resourceType": "Organization"}
		if ods != "" {
			o["identifier"] = []any{obj{"system": systemODS, "value": ods}}
		}
		return o
	}
	add(labURL, org(m.Get("MSH-4.1")))
	add(gpURL, org(m.Get("MSH-6.1")))

	pat := obj{"resourceType": "Patient", "identifier": []any{obj{"system": systemNHSNumber, "value": nhs}}}
	if fam, giv := m.Get("PID-5.1"), m.Get("PID-5.2"); fam != "" || giv != "" {
		name := obj{"use": "official"}
		if fam != "" {
			name["family"] = fam
		}
		if giv != "" {
			name["given"] = []any{giv}
		}
		pat["name"] = []any{name}
	}
	if bd, ok := hl7Time(m.Get("PID-7")); ok {
		pat["birthDate"] = bd[:min(len(bd), 10)]
	}
	if g, ok := map[string]string{"F": "female", "M": "male", "U": "unknown", "O": "other"}[m.Get("PID-8")]; ok {
		pat["gender"] = g
	}
	add(patURL, pat)

	var requester obj
	if pr := m.Get("OBR-16.1"); pr != "" {
		prURL := url(id("Practitioner"))
		p := obj{"resourceType": "Practitioner", "identifier": []any{obj{"value": pr}}}
		if fam := m.Get("OBR-16.2"); fam != "" {
			name := obj{"family": fam}
			if giv := m.Get("OBR-16.3"); giv != "" {
				name["given"] = []any{giv}
			}
			p["name"] = []any{name}
		}
		add(prURL, p)
		requester = ref(prURL)
	}
	sr := obj{
		"resourceType": "ServiceRequest", "status": "completed", "intent": "order",
		"code": codeable(m, "OBR-4"), "subject": ref(patURL),
	}
	if placer := m.Get("OBR-2.1"); placer != "" {
		sr["identifier"] = []any{obj{"system": systemPlacer, "value": placer}}
	}
	if requester != nil {
		sr["requester"] = requester
	}
	add(srURL, sr)

	var results []any
	var obsEntries []func()
	for i, seg := range m.All("OBX") {
		_ = seg
		p := fmt.Sprintf("OBX[%d]-", i+1)
		ostatus := reportStatus[m.Get(p+"11")]
		if ostatus == "" {
			ostatus = status
		}
		obs := obj{
			"resourceType": "Observation", "status": ostatus,
			"category": []any{obj{"coding": []any{coding(systemObsCategory, "laboratory", "Laboratory")}}},
			"code":     codeable(m, p+"3"), "subject": ref(patURL), "performer": []any{ref(labURL)},
		}
		if effective != "" {
			obs["effectiveDateTime"] = effective
		}
		if issued != "" {
			obs["issued"] = issued
		}
		unit := m.Get(p + "6.1")
		raw := m.Get(p + "5")
		switch vt := m.Get(p + "2"); {
		case ostatus == "cancelled" || raw == "":
			obs["dataAbsentReason"] = obj{"coding": []any{coding("http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-performed", "Not Performed")}}
		case vt == "NM":
			if q, ok := quantity(raw, unit); ok {
				obs["valueQuantity"] = q
			} else {
				return nil, unusable(hl7.ErrDataType, fmt.Sprintf("OBX %d value %q is not a number", i+1, raw), "OBX", 5)
			}
		case vt == "CE" || vt == "CWE":
			obs["valueCodeableConcept"] = codeable(m, p+"5")
		default: // ST, TX, FT, SN and the rest: keep the text
			v := raw
			if unit != "" && vt != "TX" && vt != "FT" {
				v += " " + unit
			}
			obs["valueString"] = v
		}
		if rr := m.Get(p + "7"); rr != "" {
			obs["referenceRange"] = []any{referenceRange(rr, unit)}
		}
		if f := m.Get(p + "8"); f != "" {
			disp, ok := interpretation[f]
			if !ok {
				return nil, unusable(hl7.ErrTableValue, fmt.Sprintf("OBX %d abnormal flag %q is not known", i+1, f), "OBX", 8)
			}
			obs["interpretation"] = []any{obj{"coding": []any{coding(systemInterpret, f, disp)}}}
		}
		obsURL := url(id(fmt.Sprintf("Observation/%d", i+1)))
		results = append(results, ref(obsURL))
		obsEntries = append(obsEntries, func() { add(obsURL, obs) })
	}

	dr := obj{
		"resourceType": "DiagnosticReport", "status": status,
		"category":  []any{obj{"coding": []any{coding(systemDRCategory, "LAB", "Laboratory")}}},
		"code":      codeable(m, "OBR-4"),
		"subject":   ref(patURL),
		"basedOn":   []any{ref(srURL)},
		"performer": []any{ref(labURL)},
	}
	if filler := m.Get("OBR-3.1"); filler != "" {
		dr["identifier"] = []any{obj{"system": systemFiller, "value": filler}}
	}
	if effective != "" {
		dr["effectiveDateTime"] = effective
	}
	if issued != "" {
		dr["issued"] = issued
	}
	if len(results) > 0 {
		dr["result"] = results
	}
	var notes []string
	for i := range m.All("NTE") {
		if n := m.Get(fmt.Sprintf("NTE[%d]-3", i+1)); n != "" {
			notes = append(notes, n)
		}
	}
	if len(notes) > 0 {
		dr["conclusion"] = strings.Join(notes, "\n")
	}
	add(drURL, dr)
	for _, f := range obsEntries {
		f()
	}

	bundle := obj{
		"resourceType": "Bundle", "id": bundleID, "type": "message",
		"identifier": obj{"system": systemURN, "value": "urn:uuid:" + bundleID},
		"entry":      entries,
	}
	if msgTime != "" {
		bundle["meta"] = obj{"lastUpdated": msgTime}
		bundle["timestamp"] = msgTime
	}
	b, err := json.MarshalIndent(bundle, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding bundle: %w", err)
	}
	return &result{
		MSH10: msh10, NHSNumber: nhs, BundleID: bundleID, Bundle: append(b, '\n'),
		Subject: fmt.Sprintf("Pathology result %s (%s) %s", m.Get("OBR-4.1"), status, msh10),
	}, nil
}
