package mesh

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/pathology"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

type obj = map[string]any

// routerBundle converts an ORU^R01 to a FHIR message Bundle the way
// examples/pathology-router does (see its testdata/*.golden.json): a
// Bundle.identifier urn:uuid, a Patient with the NHS number, a
// DiagnosticReport coded with OBR-4, and an Observation per OBX coded with
// OBX-3 whose value is valueQuantity (NM, the number's text kept),
// valueCodeableConcept (CE/CWE), dataAbsentReason (no value, or cancelled)
// or valueString (anything else, the unit appended).
func routerBundle(t *testing.T, m *hl7.Message, bundleID string) []byte {
	t.Helper()
	coding := func(code, display string) obj {
		return obj{"coding": []any{obj{"system": "LOCAL", "code": code, "display": display}}}
	}
	entry := func(id string, r obj) obj {
		r["id"] = id
		return obj{"fullUrl": "urn:uuid:" + id, "resource": r}
	}
	status := map[string]string{"F": "final", "P": "preliminary", "C": "corrected", "X": "cancelled"}[m.Get("OBR-25")]
	entries := []any{
		entry("hdr", obj{"resourceType": "MessageHeader", "eventCoding": obj{"system": "https://fhir.nhs.uk/CodeSystem/message-event", "code": "unsolicited-observations"}, "focus": []any{obj{"reference": "urn:uuid:dr"}}}),
		entry("org", obj{"resourceType": "Organization", "identifier": []any{obj{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": m.Get("MSH-4")}}}),
		entry("pat", obj{"resourceType": "Patient", "identifier": []any{obj{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": pathology.NHSNumber(m)}},
			"name": []any{obj{"family": m.Get("PID-5.1"), "given": []any{m.Get("PID-5.2")}, "use": "official"}}}),
		entry("sr", obj{"resourceType": "ServiceRequest", "code": coding(m.Get("OBR-4.1"), m.Get("OBR-4.2")), "identifier": []any{obj{"system": "https://shakedown.example/Id/placer-order-number", "value": m.Get("OBR-2")}}}),
	}
	var results []any
	var obsEntries []any
	for i := range m.All("OBX") {
		p := fmt.Sprintf("OBX[%d]-", i+1)
		id := fmt.Sprintf("obs%d", i+1)
		o := obj{"resourceType": "Observation", "status": status, "code": coding(m.Get(p+"3.1"), m.Get(p+"3.2")), "subject": obj{"reference": "urn:uuid:pat"}}
		raw, unit := m.Get(p+"5"), m.Get(p+"6.1")
		switch vt := m.Get(p + "2"); {
		case status == "cancelled" || raw == "":
			o["dataAbsentReason"] = coding("not-performed", "Not Performed")
		case vt == "NM":
			q := obj{"value": json.Number(strings.TrimPrefix(strings.TrimSpace(raw), "+"))}
			if unit != "" {
				q["unit"] = unit
			}
			o["valueQuantity"] = q
		case vt == "CE" || vt == "CWE":
			o["valueCodeableConcept"] = coding(m.Get(p+"5.1"), m.Get(p+"5.2"))
		default:
			if unit != "" {
				raw += " " + unit
			}
			o["valueString"] = raw
		}
		results = append(results, obj{"reference": "urn:uuid:" + id})
		obsEntries = append(obsEntries, entry(id, o))
	}
	entries = append(entries, entry("dr", obj{"resourceType": "DiagnosticReport", "status": status,
		"code":       coding(m.Get("OBR-4.1"), m.Get("OBR-4.2")),
		"identifier": []any{obj{"system": "https://shakedown.example/Id/filler-order-number", "value": m.Get("OBR-3")}},
		"subject":    obj{"reference": "urn:uuid:pat"}, "result": results}))
	entries = append(entries, obsEntries...)
	b, err := json.MarshalIndent(obj{
		"resourceType": "Bundle", "id": bundleID, "type": "message",
		"identifier": obj{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + bundleID},
		"timestamp":  "2025-01-01T09:00:00Z", "entry": entries,
	}, "", "  ")
	require.NoError(t, err)
	return b
}

func sentEntries(m *Mock) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, e := range m.Journal().Entries() {
		if e.Kind == "message.sent" {
			out[e.Keys["message_id"]] = e.Keys
		}
	}
	return out
}

// TestBundleKeysMatchTheLab: for the same clinical content, the hash the
// lab journals for an ORU^R01 is the content_hash the MESH mock journals
// for the FHIR Bundle a router made of it — however the Bundle is sent.
func TestBundleKeysMatchTheLab(t *testing.T) {
	e := start(t)
	lab := pathology.NewLab("", pathology.WithSeed(21), pathology.WithVersion(hl7.V251))
	gen := synthetic.NewLabReports(21, "X26ABC2", time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC))
	statuses := map[string]bool{}
	for i := range 24 {
		rep := gen.Next()
		statuses[rep.Status] = true
		wire, err := hl7.Parse(lab.Message(rep).Bytes())
		require.NoError(t, err)
		labHash := pathology.ContentHash(wire)
		bundleID := fmt.Sprintf("00000000-0000-5000-8000-%012d", i)
		body := routerBundle(t, wire, bundleID)

		var id string
		switch i % 4 {
		case 0: // plain
			id = e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", rep.ControlID, body, nil)
		case 1: // gzip
			id = e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", rep.ControlID, gz(t, body), map[string]string{"Content-Encoding": "gzip"})
		case 2: // chunked, gzip per chunk
			half := len(body) / 2
			id = e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", rep.ControlID, gz(t, body[:half]), map[string]string{"mex-Chunk-Range": "1:2", "Content-Encoding": "gzip"})
			r := e.do(http.MethodPost, "X26ABC1", "/X26ABC1/outbox/"+id+"/2", map[string]string{"mex-Chunk-Range": "2:2", "Content-Encoding": "gzip", "Accept": v2}, gz(t, body[half:]))
			require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
		case 3: // delivered straight into the inbox
			id, err = e.m.Deliver(context.Background(), "X26ABC2", "PATH_BS_R4", body, rep.ControlID)
			require.NoError(t, err)
		}
		keys := sentEntries(e.m)[id]
		require.NotNil(t, keys, "message %d", i)
		require.Equal(t, "urn:uuid:"+bundleID, keys["bundle_id"])
		require.Equal(t, rep.Patient.NHSNumber, keys["nhs_number"])
		require.Equal(t, labHash, keys["content_hash"], "report %d (%s %s)", i, rep.PanelCode, rep.Status)
		require.Equal(t, rep.ControlID, keys["local_id"])
	}
	require.Len(t, statuses, 4, "final, preliminary, corrected and cancelled results all compared")
}

// TestBundleKeysHandBuilt: one ORU^R01 built with hl7's helpers, with a
// value whose text differs from its JSON form ("5.20" and 5.2) and a coded
// value.
func TestBundleKeysHandBuilt(t *testing.T) {
	oru := hl7.BuildORU(hl7.ORU{
		Header:     hl7.Header{SendingApp: "LIMS", SendingFacility: "RXX01", ReceivingApp: "GPSYS", ReceivingFacility: "A12345", ControlID: "MSG0001", Time: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)},
		PatientIDs: []hl7.CX{{ID: "9434765919", Authority: pathology.NHSAuthority, Type: pathology.NHSIdentifierType}},
		Family:     "SMITH", Given: "JANE", Placer: "PL123", Filler: "FL456",
		Service: hl7.CE{Code: "UE", Text: "Urea and electrolytes", System: "LOCAL"}, Status: "F",
		Observations: []hl7.OBX{
			{ValueType: "NM", Code: hl7.CE{Code: "NA", Text: "Sodium", System: "LOCAL"}, Value: "150", Units: "mmol/L", Status: "F"},
			{ValueType: "NM", Code: hl7.CE{Code: "K", Text: "Potassium", System: "LOCAL"}, Value: "5.20", Units: "mmol/L", Status: "F"},
			{ValueType: "CE", Code: hl7.CE{Code: "HAEM", Text: "Haemolysis", System: "LOCAL"}, Value: "POS^Positive^LOCAL", Status: "F"},
			{ValueType: "ST", Code: hl7.CE{Code: "CMT", Text: "Comment", System: "LOCAL"}, Value: "repeat advised", Status: "F"},
		},
	})
	wire, err := hl7.Parse(oru.Bytes())
	require.NoError(t, err)
	want := synthetic.ResultContentHash("9434765919", "UE", []synthetic.ObsValue{
		{Code: "K", Value: "5.2"}, {Code: "NA", Value: "150"}, {Code: "HAEM", Value: "POS"}, {Code: "CMT", Value: "repeat advised"},
	})
	require.Equal(t, want, pathology.ContentHash(wire))

	body := routerBundle(t, wire, "b9c72733-9587-51d8-a0f8-afdbec926f68")
	require.Contains(t, string(body), `"value": 5.20`, "the number's text is kept, as the router does")
	e := start(t)
	id := e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", "MSG0001", body, nil)
	keys := sentEntries(e.m)[id]
	require.Equal(t, "urn:uuid:b9c72733-9587-51d8-a0f8-afdbec926f68", keys["bundle_id"])
	require.Equal(t, "9434765919", keys["nhs_number"])
	require.Equal(t, want, keys["content_hash"])
}

// TestBundleKeysRouterGolden reads a Bundle exactly as the router writes
// it (a copy of examples/pathology-router/testdata/final-abnormal.golden.json).
func TestBundleKeysRouterGolden(t *testing.T) {
	body, err := os.ReadFile("testdata/pathology-bundle.golden.json")
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"bundle_id":    "urn:uuid:2992ce44-9aa9-53b2-9f5f-3761ac4308c5",
		"nhs_number":   "9434765919",
		"content_hash": synthetic.ResultContentHash("9434765919", "UE", []synthetic.ObsValue{{Code: "NA", Value: "150"}, {Code: "K", Value: "2.9"}}),
	}, bundleKeys(body))
}

func TestBundleKeysBestEffort(t *testing.T) {
	rows := []struct {
		name string
		body string
		want map[string]string
	}{
		{"empty", "", nil},
		{"text", "hello", nil},
		{"not json", "{not json", nil},
		{"truncated bundle", `{"resourceType":"Bundle","id":"b1","entry":[`, nil},
		{"another resource", `{"resourceType":"Patient","id":"p1"}`, nil},
		{"json array", `[{"resourceType":"Bundle"}]`, nil},
		{"bundle without identifier uses id", `{"resourceType":"Bundle","id":"b1"}`, map[string]string{"bundle_id": "b1"}},
		{"identifier as an array", `{"resourceType":"Bundle","id":"b1","identifier":[{"value":"urn:uuid:x"}]}`, map[string]string{"bundle_id": "urn:uuid:x"}},
		{"no report, no hash", `{"resourceType":"Bundle","identifier":{"value":"u"},"entry":[{"resource":{"resourceType":"Patient","identifier":[{"system":"other","value":"1"},{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]}}]}`,
			map[string]string{"bundle_id": "u", "nhs_number": "9434765919"}},
		{"odd entries skipped", `{"resourceType":"Bundle","entry":[{},{"resource":7},{"resource":{"resourceType":"DiagnosticReport","code":{"coding":[{"code":"UE"}]}}},{"resource":{"resourceType":"Observation","code":{"coding":[{"code":"K"}]},"valueQuantity":{"value":5.20}}}]}`,
			map[string]string{"content_hash": synthetic.ResultContentHash("", "UE", []synthetic.ObsValue{{Code: "K", Value: "5.2"}})}},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e := start(t)
			require.Equal(t, row.want, bundleKeys([]byte(row.body)))
			if row.body == "" {
				return
			}
			id := e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", fmt.Sprint("l", i), []byte(row.body), nil)
			keys := sentEntries(e.m)[id]
			for _, k := range []string{"bundle_id", "nhs_number", "content_hash"} {
				require.Equal(t, row.want[k], keys[k], k)
			}
			require.Equal(t, fmt.Sprint("l", i), keys["local_id"])
		})
	}
}
