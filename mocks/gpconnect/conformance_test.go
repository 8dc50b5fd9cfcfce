package gpconnect

import (
	"encoding/json"
	"github.com/shakedown-harness/shakedown/mocks/fhir/fhirtest"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestShapeDiff(t *testing.T) {
	tests := []struct {
		name    string
		want    string
		got     string
		allowed []string
		diffs   int
	}{
		{name: "same keys, different values", want: `{"a":1,"b":{"c":"x"}}`, got: `{"a":2,"b":{"c":"y"}}`},
		{name: "missing key", want: `{"a":1,"b":2}`, got: `{"a":1}`, diffs: 1},
		{name: "unexpected key", want: `{"a":1}`, got: `{"a":1,"z":2}`, diffs: 1},
		{name: "allowed missing key", want: `{"a":1,"b":2}`, got: `{"a":1}`, allowed: []string{".b"}},
		{name: "wildcard allowance", want: `{"a":{"b":1,"c":2}}`, got: `{"a":{}}`, allowed: []string{".a*"}},
		{name: "keyed extensions in another order", want: `{"extension":[{"url":"x/A","valueString":"s"},{"url":"x/B","valueBoolean":true}]}`, got: `{"extension":[{"url":"x/B","valueBoolean":false},{"url":"x/A","valueString":"t"}]}`},
		{name: "keyed extension missing", want: `{"extension":[{"url":"x/A"},{"url":"x/B"}]}`, got: `{"extension":[{"url":"x/A"}]}`, diffs: 1},
		{name: "entries keyed by resource type", want: `{"entry":[{"resource":{"resourceType":"Patient","id":"1"}},{"resource":{"resourceType":"List","x":1}}]}`, got: `{"entry":[{"resource":{"resourceType":"List","x":2}},{"resource":{"resourceType":"Patient","id":"2"}}]}`},
		{name: "entry type missing", want: `{"entry":[{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"List"}}]}`, got: `{"entry":[{"resource":{"resourceType":"Patient"}}]}`, diffs: 1},
		{name: "name-only objects are not keyed", want: `{"contact":[{"name":"a"}]}`, got: `{"contact":[{"name":"b"}]}`},
		{name: "first element compared", want: `{"entry":[{"item":{"a":1}},{"other":1}]}`, got: `{"entry":[{"item":{"a":2}}]}`},
		{name: "empty got array", want: `{"entry":[{"item":1}]}`, got: `{"entry":[]}`, diffs: 1},
		{name: "type mismatch", want: `{"a":{"b":1}}`, got: `{"a":[1]}`, diffs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w, g any
			require.NoError(t, json.Unmarshal([]byte(tt.want), &w))
			require.NoError(t, json.Unmarshal([]byte(tt.got), &g))
			require.Len(t, fhirtest.ShapeDiff("$", w, g, tt.allowed), tt.diffs)
		})
	}
}

// Differences the mock makes on purpose, named once.
var (
	// The read/find Patient examples show a preferred branch surgery and a
	// language; the structured examples show a registration period and a
	// usual GP. A real provider sends what it holds; this mock holds all of
	// them and sends the same Patient everywhere.
	patientElements = []string{
		"extension[Extension-CareConnect-GPC-RegistrationDetails-1].extension[registrationPeriod]",
		"extension[Extension-CareConnect-GPC-RegistrationDetails-1].extension[preferredBranchSurgery]",
		"extension[Extension-CareConnect-GPC-NHSCommunication-1]",
		"[Patient].generalPractitioner",
		"$.generalPractitioner",
	}
	// The foundations Practitioner examples give no name.use; the
	// structured ones do (and a meta.lastUpdated, which is optional).
	practitionerShape = []string{"[Practitioner].name[0].use", "$.name[0].use", "[Practitioner].meta.lastUpdated", "$.meta.lastUpdated"}
	// The slot search example gives Location and Organization address and
	// telecom as single objects, which FHIR STU3 makes arrays.
	slotExampleErrors = []string{"[Location].address", "[Location].telecom", "[Organization].address", "[Organization].telecom"}
	// Structured example patients carry a PractitionerRole the mock also
	// sends, a meta.versionId some examples leave out, and identifiers the
	// mock does not keep for every item.
	structuredCommon = append(slices.Clone(patientElements), append(slices.Clone(practitionerShape),
		"[Organization].meta.versionId",
		"[PractitionerRole].meta.versionId",
		// A description other than the preferred term is optional.
		"extension[Extension-coding-sctdescid].extension[DescriptionDisplay]",
	)...)
	// Examples whose first allergy is minimal (no reaction, criticality,
	// identifier or note): all are optional.
	minimalAllergy = []string{"[AllergyIntolerance].criticality", "[AllergyIntolerance].identifier", "[AllergyIntolerance].note", "[AllergyIntolerance].reaction"}
	// Medication examples differ on optional elements: repeat information
	// (the mock's first plan may be a repeat), the 1.6 effectivePeriod
	// against effectiveDateTime, group identifiers, and quantity given as a
	// value or as text.
	medicationOptional = []string{
		"[MedicationStatement].effectiveDateTime", "[MedicationStatement].effectivePeriod", "[MedicationStatement].identifier",
		"[MedicationRequest].extension[Extension-CareConnect-GPC-MedicationRepeatInformation-1]", "[MedicationRequest].groupIdentifier",
		"[MedicationRequest].identifier", "[MedicationRequest].basedOn", "[MedicationRequest].note",
		"[MedicationRequest].dispenseRequest*", "[MedicationRequest].dosageInstruction[0].patientInstruction",
		"[Medication].code.coding[0].userSelected",
	}
	// Clinical areas the mock does not hold (consultations, immunisations,
	// diary entries, uncategorised data): it answers them with a warning
	// OperationOutcome, as a provider that does not support them does, so
	// the example's area List and resources are absent and the
	// OperationOutcome is extra.
	unmodelledArea = []string{
		"entry[List]", "entry[Encounter]", "entry[Immunization]", "entry[Observation]", "entry[Location]",
		"entry[Condition]", "entry[ProcedureRequest]", "entry[OperationOutcome]",
	}
	// The pathology examples hold one lab Organization; the mock's
	// Practitioner, Patient and Organization entries follow the allergy
	// examples, and it also sends the PractitionerRole (recorder).
	// They also carry skeletal Patient, Practitioner and Organization
	// resources (with an older NHS number verification extension URL), so
	// those are not compared; a specimen quantity is optional.
	pathologyExtras = []string{"entry[PractitionerRole]", "entry[Patient]*", "entry[Practitioner]*", "entry[Organization]*",
		"[Specimen].collection.quantity", "[DiagnosticReport].identifier"}
)

// conformanceRow says what the mock must do with one example file.
type conformanceRow struct {
	// send makes the request for this file (body is the file's content with
	// its Jekyll wrapper removed) and returns the answer.
	send func(t *testing.T, m *Mock, body []byte) reply
	// status is the expected HTTP status.
	status int
	// response is the example (relative to examples/) the answer must have
	// the shape of; "" when the row checks no shape.
	response string
	// allowed are the shape differences accepted, see above.
	allowed []string
	// typesOnly compares only which resource types the Bundles hold.
	typesOnly bool
	// code is the expected Spine code of an error answer.
	code string
	// placeholder: the file is the specification site's "Add example
	// here" placeholder, not JSON.
	placeholder bool
	// unparseable: the published example is not valid JSON.
	unparseable bool
	// pairedWith names the request row that checks this response file.
	pairedWith string
	// why explains rows that check no shape.
	why string
}

func get(path, interaction, scope string) func(*testing.T, *Mock, []byte) reply {
	return func(t *testing.T, m *Mock, _ []byte) reply {
		return call(t, m, http.MethodGet, strings.ReplaceAll(path, "{ODS}", m.Credentials().ODSCode), interaction, scope, nil, nil)
	}
}

// patientFor picks the patient a structured row uses.
type patientFor func(t *testing.T, m *Mock) int

func firstPatient(*testing.T, *Mock) int { return 0 }

// patientWithFirstReport picks a patient whose first investigation has
// panel (more than one result) or a single result.
func patientWithFirstReport(panel bool) patientFor {
	return func(t *testing.T, m *Mock) int {
		for i := range m.Patients() {
			r := m.record(i)
			if (len(r.Investigations[0].Results) > 1) == panel {
				return i
			}
		}
		t.Fatalf("no synthetic patient whose first report is a panel=%v; add patients", panel)
		return 0
	}
}

// editStructured points an example's $gpc.getstructuredrecord body at a
// synthetic patient, and moves its search periods to the last ten years of
// the mock's clock (the examples' periods date from 2017-2019).
func editStructured(t *testing.T, body []byte, nhs string) []byte {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	var walk func(ps []any)
	walk = func(ps []any) {
		for _, p := range ps {
			o := p.(map[string]any)
			if o["name"] == paramNHSNumber {
				o["valueIdentifier"].(map[string]any)["value"] = nhs
			}
			if per, ok := o["valuePeriod"].(map[string]any); ok {
				per["start"] = fmtDate(testNow.AddDate(-10, 0, 0))
				per["end"] = fmtDate(testNow)
			}
			if parts, ok := o["part"].([]any); ok {
				walk(parts)
			}
		}
	}
	walk(v["parameter"].([]any))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func structured(pick patientFor) func(*testing.T, *Mock, []byte) reply {
	return func(t *testing.T, m *Mock, body []byte) reply {
		nhs := m.Patients()[pick(t, m)].NHSNumber
		return structuredRecord(t, m, editStructured(t, body, nhs))
	}
}

// structuredWith sends a request of its own (for response files whose
// request is a placeholder or absent).
func structuredWith(params ...string) func(*testing.T, *Mock, []byte) reply {
	return func(t *testing.T, m *Mock, _ []byte) reply {
		return structuredRecord(t, m, recordRequestBody(m.Patients()[0].NHSNumber, params...))
	}
}

func sendPlaceholder(t *testing.T, m *Mock, body []byte) reply {
	return structuredRecord(t, m, body)
}

// freeSlot returns the first free slot's id, start and end.
func freeSlot(t *testing.T, m *Mock) (string, string, string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.slots {
		if s.booked == "" {
			return s.id, fmtDateTime(s.start), fmtDateTime(s.end)
		}
	}
	t.Fatal("no free slot")
	return "", "", ""
}

// editAppointment points an example Appointment at a free slot of the mock
// and at its patient 1 and location.
func editAppointment(t *testing.T, body []byte, slotID, start, end string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	v["slot"] = []any{map[string]any{"reference": "Slot/" + slotID}}
	v["start"], v["end"] = start, end
	v["participant"] = []any{
		map[string]any{"actor": map[string]any{"reference": "Patient/1"}, "status": "accepted"},
		map[string]any{"actor": map[string]any{"reference": "Location/1"}, "status": "accepted"},
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// bookExample books the published booking example in a free slot and
// returns the created Appointment.
func bookExample(t *testing.T, m *Mock) map[string]any {
	t.Helper()
	id, start, end := freeSlot(t, m)
	body := editAppointment(t, readExample(t, "appointments/book_appt_request_example.json"), id, start, end)
	rep := call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, mustJSON(t, body), nil)
	require.Equal(t, http.StatusCreated, rep.status, "body: %s", rep.body)
	return rep.json(t)
}

func sendBook(t *testing.T, m *Mock, body []byte) reply {
	id, start, end := freeSlot(t, m)
	return call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, mustJSON(t, editAppointment(t, body, id, start, end)), nil)
}

// sendUpdate books an appointment, then sends the example as its amendment
// or cancellation.
func sendUpdate(interaction string) func(*testing.T, *Mock, []byte) reply {
	return func(t *testing.T, m *Mock, body []byte) reply {
		booked := bookExample(t, m)
		var v map[string]any
		require.NoError(t, json.Unmarshal(body, &v))
		for _, f := range []string{"id", "slot", "start", "end", "participant"} {
			v[f] = booked[f]
		}
		return call(t, m, http.MethodPut, "Appointment/"+booked["id"].(string), interaction, ScopePatientWrite, mustJSON(t, v), func(h http.Header) {
			h.Set("If-Match", `W/"1"`)
		})
	}
}

func sendRead(t *testing.T, m *Mock, _ []byte) reply {
	booked := bookExample(t, m)
	return call(t, m, http.MethodGet, "Appointment/"+booked["id"].(string), InteractionReadAppointment, ScopePatientRead, nil, nil)
}

func sendPatientAppointments(t *testing.T, m *Mock, _ []byte) reply {
	bookExample(t, m)
	q := url.Values{"start": {"ge" + fmtDate(testNow), "le" + fmtDate(testNow.AddDate(0, 0, SlotDays+1))}}
	return call(t, m, http.MethodGet, "Patient/1/Appointment?"+q.Encode(), InteractionPatientAppointments, ScopePatientRead, nil, nil)
}

func slotSearchQuery(from, to time.Time) string {
	q := url.Values{
		"start":            {"ge" + fmtDate(from)},
		"end":              {"le" + fmtDate(to)},
		"status":           {"free"},
		"_include":         {"Slot:schedule"},
		"_include:recurse": {"Schedule:actor:Practitioner", "Schedule:actor:Location", "Location:managingOrganization"},
		"searchFilter":     {systemODS + "|A00001", systemOrgType + "|gp-practice"},
	}
	return "Slot?" + q.Encode()
}

func sendSlotSearch(t *testing.T, m *Mock, _ []byte) reply {
	return call(t, m, http.MethodGet, slotSearchQuery(testNow.AddDate(0, 0, 1), testNow.AddDate(0, 0, 7)), InteractionSearchSlot, ScopeOrgRead, nil, nil)
}

func notImplemented(method, path, interaction, scope string) conformanceRow {
	return conformanceRow{
		send: func(t *testing.T, m *Mock, body []byte) reply {
			var b []byte
			if method != http.MethodGet {
				b = body
			}
			return call(t, m, method, path, interaction, scope, b, nil)
		},
		status: http.StatusNotImplemented, code: CodeNotImplemented,
	}
}

// conformanceTable has a row for every file under examples/, keyed by its
// path relative to examples/.
func conformanceTable() map[string]conformanceRow {
	sr := func(pick patientFor, resp string, allowed ...string) conformanceRow {
		return conformanceRow{send: structured(pick), status: http.StatusOK, response: resp, allowed: append(slices.Clone(structuredCommon), allowed...)}
	}
	placeholderRequest := conformanceRow{send: sendPlaceholder, status: http.StatusUnprocessableEntity, code: CodeInvalidResource, placeholder: true,
		why: "the published example is a placeholder; sent as a body, it is refused as an invalid resource"}
	allergyList := `{"name":"includeAllergies","part":[{"name":"includeResolvedAllergies","valueBoolean":false}]}`
	// Every synthetic patient has allergies, so the example of a patient
	// without any compares its empty List with a full one.
	emptyAllergyList := []string{"[List].emptyReason", "[List].note", "[List].entry", "entry[AllergyIntolerance]"}
	// The mock files unmodelled areas' parameters in a warning
	// OperationOutcome.
	warningOutcome := []string{"entry[OperationOutcome]"}
	return map[string]conformanceRow{
		// Foundations.
		"foundations/get_capability_statement_response_example.json": {send: get("metadata", InteractionMetadata, ScopeOrgRead), status: http.StatusOK,
			response: "foundations/get_capability_statement_response_example.json",
			// Register patient is not implemented, so it is not advertised.
			allowed: []string{"operation[gpc.registerpatient]"}},
		"foundations/find_patient_response_example.json": {send: func(t *testing.T, m *Mock, _ []byte) reply {
			return call(t, m, http.MethodGet, "Patient?identifier="+url.QueryEscape(systemNHSNumber+"|"+m.Patients()[0].NHSNumber), InteractionSearchPatient, ScopePatientRead, nil, nil)
		}, status: http.StatusOK, response: "foundations/find_patient_response_example.json", allowed: patientElements},
		"foundations/read_patient_response_example.json": {send: get("Patient/1", InteractionReadPatient, ScopePatientRead), status: http.StatusOK,
			response: "foundations/read_patient_response_example.json", allowed: patientElements},
		"foundations/find_organization_response_example.json": {send: get("Organization?identifier="+url.QueryEscape(systemODS+"|")+"{ODS}", InteractionSearchOrganization, ScopeOrgRead), status: http.StatusOK,
			response: "foundations/find_organization_response_example.json"},
		"foundations/read_organization_response_example.json": {send: get("Organization/1", InteractionReadOrganization, ScopeOrgRead), status: http.StatusOK,
			response: "foundations/read_organization_response_example.json"},
		"foundations/find_practitioner_response_example.json": {send: func(t *testing.T, m *Mock, _ []byte) reply {
			return call(t, m, http.MethodGet, "Practitioner?identifier="+url.QueryEscape(systemSDSUser+"|"+m.practitioners[0].sdsUserID), InteractionSearchPractitioner, ScopeOrgRead, nil, nil)
		}, status: http.StatusOK, response: "foundations/find_practitioner_response_example.json", allowed: practitionerShape},
		"foundations/read_practitioner_response_example.json": {send: get("Practitioner/1", InteractionReadPractitioner, ScopeOrgRead), status: http.StatusOK,
			response: "foundations/read_practitioner_response_example.json", allowed: practitionerShape},
		"foundations/read_location_response_example.json": {send: get("Location/1", InteractionReadLocation, ScopeOrgRead), status: http.StatusOK,
			response: "foundations/read_location_response_example.json"},
		// Register patient is out of scope.
		"foundations/register_patient_request_example.json":  notImplemented(http.MethodPost, "Patient/$gpc.registerpatient", InteractionRegisterPatient, ScopePatientWrite),
		"foundations/register_patient_response_example.json": {pairedWith: "foundations/register_patient_request_example.json", why: "register patient is not implemented (501)"},

		// Appointments.
		"appointments/book_appt_request_example.json": {send: sendBook, status: http.StatusCreated, response: "appointments/book_appt_response_example.json",
			// The booking example's contained Organization has a type the
			// response example drops; the mock keeps what was sent.
			allowed: []string{"contained[Organization].type"}},
		"appointments/book_appt_response_example.json":   {pairedWith: "appointments/book_appt_request_example.json"},
		"appointments/amend_appt_request_example.json":   {send: sendUpdate(InteractionUpdateAppointment), status: http.StatusOK, response: "appointments/amend_appt_response_example.json"},
		"appointments/amend_appt_response_example.json":  {pairedWith: "appointments/amend_appt_request_example.json"},
		"appointments/cancel_appt_request_example.json":  {send: sendUpdate(InteractionCancelAppointment), status: http.StatusOK, response: "appointments/cancel_appt_response_example.json"},
		"appointments/cancel_appt_response_example.json": {pairedWith: "appointments/cancel_appt_request_example.json"},
		"appointments/read_appt_response_example.json":   {send: sendRead, status: http.StatusOK, response: "appointments/read_appt_response_example.json"},
		"appointments/retrieve_patients_appts_response_example.json": {send: sendPatientAppointments, status: http.StatusOK,
			response: "appointments/retrieve_patients_appts_response_example.json"},
		"appointments/search_for_free_slots_response_example.json": {send: sendSlotSearch, status: http.StatusOK,
			response: "appointments/search_for_free_slots_response_example.json", allowed: append(slices.Clone(slotExampleErrors), practitionerShape...)},

		// Structured record: allergies.
		"accessrecord_structured/allergies_request1.json":  sr(firstPatient, "accessrecord_structured/allergies_response1.json"),
		"accessrecord_structured/allergies_request2.json":  sr(firstPatient, "accessrecord_structured/allergies_response2.json", minimalAllergy...),
		"accessrecord_structured/allergies_request3.json":  sr(firstPatient, "accessrecord_structured/allergies_response3.json", emptyAllergyList...),
		"accessrecord_structured/allergies_response1.json": {pairedWith: "accessrecord_structured/allergies_request1.json"},
		"accessrecord_structured/allergies_response2.json": {pairedWith: "accessrecord_structured/allergies_request2.json"},
		"accessrecord_structured/allergies_response3.json": {pairedWith: "accessrecord_structured/allergies_request3.json"},

		// Medication.
		"accessrecord_structured/meds_request.json":  sr(firstPatient, "accessrecord_structured/meds_response.json", medicationOptional...),
		"accessrecord_structured/meds_response.json": {pairedWith: "accessrecord_structured/meds_request.json"},
		// split_plan is a fragment showing only a split plan's
		// MedicationRequests and Medication; compared with the mock's
		// medication answer, which also holds the rest of the record.
		"accessrecord_structured/split_plan.json": {send: structuredWith(`{"name":"includeMedication"}`), status: http.StatusOK, response: "accessrecord_structured/split_plan.json",
			allowed: append(slices.Clone(structuredCommon), append([]string{"entry[Patient]", "entry[Organization]", "entry[Practitioner]", "entry[PractitionerRole]", "entry[List]", "entry[MedicationStatement]",
				"[Medication].code.coding[0].extension"}, medicationOptional...)...)},

		// Problems: the published problems_response1 is the bare skeleton
		// (no Problems List), so the mock's List and Conditions are extra.
		"accessrecord_structured/problems_request1.json":  sr(firstPatient, "accessrecord_structured/problems_response1.json", "entry[List]", "entry[Condition]"),
		"accessrecord_structured/problems_response1.json": {pairedWith: "accessrecord_structured/problems_request1.json"},
		"accessrecord_structured/problems_request2.json":  placeholderRequest,
		"accessrecord_structured/problems_request3.json":  placeholderRequest,
		// The *_response2 and *_response3 files of problems, consultations
		// and uncategorised data are the same copy-pasted skeletons (one
		// active allergy List; no List at all) paired with placeholder
		// requests; they are compared with answers of those shapes.
		"accessrecord_structured/problems_response2.json":      {send: structuredWith(allergyList), status: http.StatusOK, response: "accessrecord_structured/problems_response2.json", allowed: append(slices.Clone(structuredCommon), "entry[AllergyIntolerance]")},
		"accessrecord_structured/problems_response3.json":      {send: structuredWith(), status: http.StatusOK, response: "accessrecord_structured/problems_response3.json", allowed: structuredCommon},
		"accessrecord_structured/consultations_response2.json": {send: structuredWith(allergyList), status: http.StatusOK, response: "accessrecord_structured/consultations_response2.json", allowed: append(slices.Clone(structuredCommon), "entry[AllergyIntolerance]")},
		"accessrecord_structured/consultations_response3.json": {send: structuredWith(), status: http.StatusOK, response: "accessrecord_structured/consultations_response3.json", allowed: structuredCommon},
		"accessrecord_structured/uncategorised_response2.json": {send: structuredWith(allergyList), status: http.StatusOK, response: "accessrecord_structured/uncategorised_response2.json", allowed: append(slices.Clone(structuredCommon), "entry[AllergyIntolerance]")},
		"accessrecord_structured/uncategorised_response3.json": {send: structuredWith(), status: http.StatusOK, response: "accessrecord_structured/uncategorised_response3.json", allowed: structuredCommon},
		"accessrecord_structured/consultations_request2.json":  placeholderRequest,
		"accessrecord_structured/consultations_request3.json":  placeholderRequest,
		"accessrecord_structured/uncategorised_request2.json":  placeholderRequest,
		"accessrecord_structured/uncategorised_request3.json":  placeholderRequest,
		"accessrecord_structured/documents_request1.json":      placeholderRequest,
		"accessrecord_structured/documents_response1.json":     {placeholder: true, why: "placeholder response paired with a placeholder request"},
		"accessrecord_structured/consultations_response1.json": {unparseable: true, pairedWith: "accessrecord_structured/consultations_request1.json", why: "the published example is not valid JSON"},
		"accessrecord_structured/consultations_request1.json":  {send: structured(firstPatient), status: http.StatusOK, why: "consultations are not held: answered with a warning (the paired example is not valid JSON)"},
		"accessrecord_structured/uncategorised_request1.json":  sr(firstPatient, "accessrecord_structured/uncategorised_response1.json", append(slices.Clone(unmodelledArea), warningOutcome...)...),
		"accessrecord_structured/uncategorised_response1.json": {pairedWith: "accessrecord_structured/uncategorised_request1.json"},
		"accessrecord_structured/immunizations_request1.json":  sr(firstPatient, "accessrecord_structured/immunizations_response1.json", unmodelledArea...),
		"accessrecord_structured/immunizations_request2.json":  sr(firstPatient, "accessrecord_structured/immunizations_response2.json", unmodelledArea...),
		"accessrecord_structured/immunizations_request3.json":  sr(firstPatient, "accessrecord_structured/immunizations_response3.json", unmodelledArea...),
		"accessrecord_structured/immunizations_response1.json": {pairedWith: "accessrecord_structured/immunizations_request1.json"},
		"accessrecord_structured/immunizations_response2.json": {pairedWith: "accessrecord_structured/immunizations_request2.json"},
		"accessrecord_structured/immunizations_response3.json": {pairedWith: "accessrecord_structured/immunizations_request3.json"},
		// The diary example wraps two of its resources wrongly (no
		// entry.resource), so only the resource types are compared.
		"accessrecord_structured/diaryentries_request1.json":  {send: structured(firstPatient), status: http.StatusOK, response: "accessrecord_structured/diaryentries_response1.json", typesOnly: true, allowed: unmodelledArea},
		"accessrecord_structured/diaryentries_response1.json": {pairedWith: "accessrecord_structured/diaryentries_request1.json"},
		// The forwards compatibility example: its provider did not know
		// includeConsultations or includeProblems and warned about both;
		// the mock knows problems (and warns about the unknown part
		// includeProblems.includeStatus instead).
		"accessrecord_structured/consultations_forwards_request1.json": sr(firstPatient, "accessrecord_structured/consultations_forwards_response1.json",
			append(append([]string{"entry[Condition]"}, medicationOptional...), minimalAllergy...)...),
		"accessrecord_structured/consultations_forwards_response1.json": {pairedWith: "accessrecord_structured/consultations_forwards_request1.json"},
		"accessrecord_structured/pathology_request1.json":               sr(patientWithFirstReport(true), "accessrecord_structured/pathology_response1.json", pathologyExtras...),
		"accessrecord_structured/pathology_request2.json":               sr(patientWithFirstReport(false), "accessrecord_structured/pathology_response2.json", pathologyExtras...),
		"accessrecord_structured/pathology_response1.json":              {pairedWith: "accessrecord_structured/pathology_request1.json"},
		"accessrecord_structured/pathology_response2.json":              {pairedWith: "accessrecord_structured/pathology_request2.json"},
		// Referral examples came from a consultation (context Encounter),
		// which the mock does not hold.
		"accessrecord_structured/referrals_request1.json":  sr(firstPatient, "accessrecord_structured/referrals_response1.json", "[ReferralRequest].context", "entry[Organization]"),
		"accessrecord_structured/referrals_response1.json": {pairedWith: "accessrecord_structured/referrals_request1.json"},
		// The skeleton is an outline with stub resources (no ids, no
		// meta): only which resource types appear is compared, against the
		// mock's whole record.
		"accessrecord_structured/skeleton_full_record.json": {send: structuredWith(append(slices.Clone(allAreas), `{"name":"includeConsultations"}`, `{"name":"includeImmunisations"}`)...), status: http.StatusOK,
			response: "accessrecord_structured/skeleton_full_record.json", typesOnly: true,
			allowed: []string{"entry[Encounter]", "entry[Immunization]", "entry[MedicationRequest]", "entry[Medication]", "entry[OperationOutcome]", "entry[ReferralRequest]",
				"entry[DiagnosticReport]", "entry[Specimen]", "entry[ProcedureRequest]"}},

		// Access Document lives under another base (.../documents/fhir) and
		// is out of scope: its reads answer 501.
		"access_documents/documents_response.json": notImplemented(http.MethodGet, "Patient/1/DocumentReference", "urn:nhs:names:services:gpconnect:documents:fhir:rest:search:documentreference-1", ScopePatientRead),
		"access_documents/documents_response2.json": func() conformanceRow {
			r := notImplemented(http.MethodGet, "Binary/07a6483f-732b-461e-86b6-edb665c45510", "urn:nhs:names:services:gpconnect:documents:fhir:rest:read:binary-1", ScopePatientRead)
			r.unparseable = true
			return r
		}(),
	}
}

// resourceTypes lists which resource types a Bundle's entries hold, as a
// shape: {"entry": [{"resource": {"resourceType": T}}...]}.
func resourceTypes(v any) map[string]any {
	var types []any
	for _, e := range v.(map[string]any)["entry"].([]any) {
		o := e.(map[string]any)
		res, ok := o["resource"].(map[string]any)
		if !ok {
			res = o // the diary example's unwrapped resources
		}
		types = append(types, map[string]any{"resource": map[string]any{"resourceType": res["resourceType"]}})
	}
	return map[string]any{"entry": types}
}

// TestConformance walks every file of the published GP Connect examples:
// requests are sent and answered in the shape of their paired response;
// response-only files are compared with the mock's answer to the request
// that produces them.
func TestConformance(t *testing.T) {
	root := referenceDir(t)
	var files []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".json" {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}))
	require.NotEmpty(t, files)
	sort.Strings(files)
	table := conformanceTable()
	used := map[string]bool{}

	for _, f := range files {
		row, ok := table[f]
		used[f] = true
		t.Run(f, func(t *testing.T) {
			require.True(t, ok, "no conformance row for %s: add it to conformanceTable", f)
			body := readExample(t, f)
			if row.placeholder {
				require.Contains(t, string(body), "Add example here", "%s is no longer a placeholder: give it a real row", f)
			}
			if row.unparseable {
				require.False(t, json.Valid(body), "%s is valid JSON now: give it a real row", f)
			}
			if row.pairedWith != "" {
				pair, ok := table[row.pairedWith]
				require.True(t, ok, "%s is paired with %s, which has no row", f, row.pairedWith)
				if !row.unparseable && row.why == "" {
					require.Equal(t, f, pair.response, "the row of %s must compare with %s", row.pairedWith, f)
				}
				return
			}
			if row.send == nil {
				require.NotEmpty(t, row.why, "a row that sends nothing must say why")
				return
			}
			m := startMock(t)
			rep := row.send(t, m, body)
			require.Equal(t, row.status, rep.status, "body: %.3000s", rep.body)
			require.Equal(t, "no-store", rep.header.Get("Cache-Control"))
			if row.code != "" {
				detail, _ := rep.errorCode(t)
				require.Equal(t, row.code, detail)
			}
			if row.response == "" {
				return
			}
			var want, got any
			require.NoError(t, json.Unmarshal(readExample(t, row.response), &want))
			require.NoError(t, json.Unmarshal(rep.body, &got))
			require.Equal(t, want.(map[string]any)["resourceType"], got.(map[string]any)["resourceType"])
			if row.typesOnly {
				want, got = resourceTypes(want), resourceTypes(got)
			}
			diffs := fhirtest.ShapeDiff("$", want, got, row.allowed)
			sort.Strings(diffs)
			require.Empty(t, diffs, "shape differs from %s", row.response)
		})
	}
	for k := range table {
		require.True(t, used[k], "conformance row %s matched no example file", k)
	}
}
