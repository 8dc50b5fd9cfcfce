package gpconnect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// bookBody is a minimal booking of slot for patient 1.
func bookBody(slotID, start, end string) []byte {
	return []byte(`{"resourceType":"Appointment","meta":{"profile":["` + profileAppointment + `"]},
"contained":[{"resourceType":"Organization","id":"1","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"Y00001"}],"name":"Consumer"}],
"extension":[{"url":"` + extBookingOrg + `","valueReference":{"reference":"#1"}}],
"status":"booked","description":"Review","start":"` + start + `","end":"` + end + `","slot":[{"reference":"Slot/` + slotID + `"}],
"participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"},{"actor":{"reference":"Location/1"},"status":"accepted"}]}`)
}

func TestAppointmentLifecycle(t *testing.T) {
	m := startMock(t)

	// Search free slots.
	rep := call(t, m, http.MethodGet, slotSearchQuery(testNow.AddDate(0, 0, 1), testNow.AddDate(0, 0, 7)), InteractionSearchSlot, ScopeOrgRead, nil, nil)
	require.Equal(t, http.StatusOK, rep.status, "body: %s", rep.body)
	var slotRes map[string]any
	for _, e := range rep.json(t)["entry"].([]any) {
		if r := e.(map[string]any)["resource"].(map[string]any); r["resourceType"] == "Slot" {
			require.Equal(t, "free", r["status"])
			slotRes = r
			break
		}
	}
	require.NotNil(t, slotRes, "a free slot")
	slotID, start, end := slotRes["id"].(string), slotRes["start"].(string), slotRes["end"].(string)

	// Book it.
	rep = call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, bookBody(slotID, start, end), nil)
	require.Equal(t, http.StatusCreated, rep.status, "body: %s", rep.body)
	require.Equal(t, `W/"1"`, rep.header.Get("ETag"))
	appt := rep.json(t)
	id := appt["id"].(string)
	require.Equal(t, m.URL()+"/Appointment/"+id+"/_history/1", rep.header.Get("Location"))
	require.Equal(t, "1", appt["meta"].(map[string]any)["versionId"])

	// The slot is no longer offered, and booking it again is a duplicate.
	rep = call(t, m, http.MethodGet, slotSearchQuery(testNow.AddDate(0, 0, 1), testNow.AddDate(0, 0, 7)), InteractionSearchSlot, ScopeOrgRead, nil, nil)
	require.NotContains(t, slotIDs(t, rep), slotID)
	rep = call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, bookBody(slotID, start, end), nil)
	require.Equal(t, http.StatusConflict, rep.status)
	detail, issue := rep.errorCode(t)
	require.Equal(t, CodeDuplicateRejected, detail)
	require.Equal(t, "duplicate", issue)

	// Read it.
	rep = call(t, m, http.MethodGet, "Appointment/"+id, InteractionReadAppointment, ScopePatientRead, nil, nil)
	require.Equal(t, http.StatusOK, rep.status)
	require.Equal(t, `W/"1"`, rep.header.Get("ETag"))

	amended := rep.json(t)
	amended["description"] = "Review, amended"
	amend := func(ifMatch string, body map[string]any) reply {
		return call(t, m, http.MethodPut, "Appointment/"+id, InteractionUpdateAppointment, ScopePatientWrite, mustJSON(t, body), func(h http.Header) {
			h.Set("If-Match", ifMatch)
		})
	}
	// Amend with a stale version, then with the current one.
	rep = amend(`W/"7"`, amended)
	require.Equal(t, http.StatusConflict, rep.status, "body: %s", rep.body)
	detail, _ = rep.errorCode(t)
	require.Equal(t, CodeConflict, detail)
	rep = amend(`W/"1"`, amended)
	require.Equal(t, http.StatusOK, rep.status, "body: %s", rep.body)
	require.Equal(t, `W/"2"`, rep.header.Get("ETag"))
	require.Equal(t, "Review, amended", rep.json(t)["description"])
	// The version it amended is now stale.
	rep = amend(`W/"1"`, amended)
	require.Equal(t, http.StatusConflict, rep.status)
	// Only description and comment may change.
	moved := rep.json(t)
	moved = cloneObj(amended)
	moved["start"] = "2030-01-01T09:00:00+00:00"
	rep = amend(`W/"2"`, moved)
	require.Equal(t, http.StatusUnprocessableEntity, rep.status)

	// Cancel without a reason is refused; with one it succeeds and frees the slot.
	cancelled := cloneObj(amended)
	cancelled["status"] = "cancelled"
	cancel := func(body map[string]any) reply {
		return call(t, m, http.MethodPut, "Appointment/"+id, InteractionCancelAppointment, ScopePatientWrite, mustJSON(t, body), func(h http.Header) {
			h.Set("If-Match", `W/"2"`)
		})
	}
	rep = cancel(cancelled)
	require.Equal(t, http.StatusUnprocessableEntity, rep.status)
	cancelled["extension"] = append(cancelled["extension"].([]any), map[string]any{"url": extCancelReason, "valueString": "Patient unwell"})
	rep = cancel(cancelled)
	require.Equal(t, http.StatusOK, rep.status, "body: %s", rep.body)
	require.Equal(t, `W/"3"`, rep.header.Get("ETag"))
	require.Equal(t, "cancelled", rep.json(t)["status"])
	require.Contains(t, string(rep.body), "Patient unwell")

	// A cancelled appointment cannot be amended.
	rep = amend(`W/"3"`, amended)
	require.Equal(t, http.StatusUnprocessableEntity, rep.status)

	// The freed slot can be booked again.
	rep = call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, bookBody(slotID, start, end), nil)
	require.Equal(t, http.StatusCreated, rep.status, "body: %s", rep.body)

	// The patient's appointments: the cancelled one and the new one.
	rep = call(t, m, http.MethodGet, "Patient/1/Appointment?start=ge"+fmtDate(testNow)+"&start=le"+fmtDate(testNow.AddDate(0, 0, 40)), InteractionPatientAppointments, ScopePatientRead, nil, nil)
	require.Equal(t, http.StatusOK, rep.status)
	require.Len(t, rep.json(t)["entry"], 2)

	kinds := map[string]int{}
	for _, e := range m.Journal().Entries() {
		kinds[e.Kind]++
		if strings.HasPrefix(e.Kind, "appointment.") {
			require.NotEmpty(t, e.Keys[keyAppointmentID])
			require.Equal(t, m.Patients()[0].NHSNumber, e.Keys[keyNHSNumber])
		}
	}
	require.Equal(t, map[string]int{"appointment.booked": 2, "appointment.amended": 1, "appointment.cancelled": 1}, kinds)
}

// slotIDs lists the Slots of a search answer.
func slotIDs(t *testing.T, rep reply) []string {
	t.Helper()
	var ids []string
	for _, e := range rep.json(t)["entry"].([]any) {
		if r := e.(map[string]any)["resource"].(map[string]any); r["resourceType"] == "Slot" {
			ids = append(ids, r["id"].(string))
		}
	}
	return ids
}

func TestBookingValidation(t *testing.T) {
	m := startMock(t)
	id, start, end := freeSlot(t, m)
	valid := func() map[string]any {
		var v map[string]any
		require.NoError(t, json.Unmarshal(bookBody(id, start, end), &v))
		return v
	}
	tests := []struct {
		name   string
		edit   func(v map[string]any)
		raw    string
		status int
		code   string
	}{
		{name: "not JSON", raw: "{", status: 422, code: CodeInvalidResource},
		{name: "not an Appointment", raw: `{"resourceType":"Patient"}`, status: 422, code: CodeInvalidResource},
		{name: "with an id", edit: func(v map[string]any) { v["id"] = "5" }, status: 422, code: CodeInvalidResource},
		{name: "unknown element", edit: func(v map[string]any) { v["bogus"] = true }, status: 422, code: CodeInvalidResource},
		{name: "status proposed", edit: func(v map[string]any) { v["status"] = "proposed" }, status: 422, code: CodeInvalidResource},
		{name: "no description", edit: func(v map[string]any) { delete(v, "description") }, status: 422, code: CodeInvalidResource},
		{name: "no booking organisation", edit: func(v map[string]any) { delete(v, "extension") }, status: 422, code: CodeInvalidResource},
		{name: "no patient", edit: func(v map[string]any) { v["participant"] = []any{} }, status: 422, code: CodeInvalidResource},
		{name: "unknown patient", edit: func(v map[string]any) {
			v["participant"] = []any{map[string]any{"actor": map[string]any{"reference": "Patient/999"}}}
		}, status: 422, code: CodeReferenceNotFound},
		{name: "unknown slot", edit: func(v map[string]any) { v["slot"] = []any{map[string]any{"reference": "Slot/999999"}} }, status: 422, code: CodeReferenceNotFound},
		{name: "times not the slot's", edit: func(v map[string]any) { v["start"] = "2020-01-01T09:00:00+00:00" }, status: 422, code: CodeInvalidResource},
		{name: "no start", edit: func(v map[string]any) { delete(v, "start") }, status: 422, code: CodeInvalidResource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.raw)
			if tc.raw == "" {
				v := valid()
				tc.edit(v)
				body = mustJSON(t, v)
			}
			rep := call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, body, nil)
			require.Equal(t, tc.status, rep.status, "body: %s", rep.body)
			detail, _ := rep.errorCode(t)
			require.Equal(t, tc.code, detail)
		})
	}
	require.Zero(t, m.Journal().Count("appointment.booked"), "no refused booking is committed")
}

func TestStructuredRecordParameters(t *testing.T) {
	m := startMock(t)
	nhs := m.Patients()[0].NHSNumber
	future := fmtDate(testNow.AddDate(0, 0, 3))
	tests := []struct {
		name     string
		body     string
		status   int
		code     string
		warnings []string
	}{
		{name: "only the NHS number", body: string(recordRequestBody(nhs)), status: 200},
		{name: "every area", body: string(recordRequestBody(nhs, allAreas...)), status: 200},
		{name: "empty body", body: "", status: 422, code: CodeInvalidResource},
		{name: "malformed JSON", body: `{"resourceType":"Parameters",`, status: 422, code: CodeInvalidResource},
		{name: "not Parameters", body: `{"resourceType":"Bundle"}`, status: 422, code: CodeInvalidResource},
		{name: "unknown element", body: `{"resourceType":"Parameters","bogus":1}`, status: 422, code: CodeInvalidResource},
		{name: "missing NHS number", body: `{"resourceType":"Parameters","parameter":[{"name":"includeProblems"}]}`, status: 422, code: CodeInvalidParameter},
		{name: "NHS number without identifier", body: `{"resourceType":"Parameters","parameter":[{"name":"patientNHSNumber","valueString":"` + nhs + `"}]}`, status: 422, code: CodeInvalidParameter},
		{name: "NHS number wrong system", body: `{"resourceType":"Parameters","parameter":[{"name":"patientNHSNumber","valueIdentifier":{"system":"http://fhir.nhs.net/Id/nhs-number","value":"` + nhs + `"}}]}`, status: 400, code: CodeInvalidIdentifierSy},
		{name: "NHS number bad check digit", body: string(recordRequestBody("9999999990")), status: 400, code: CodeInvalidNHSNumber},
		{name: "unknown patient", body: string(recordRequestBody("9999999999")), status: 404, code: CodePatientNotFound},
		{name: "duplicate parameter", body: string(recordRequestBody(nhs, `{"name":"includeProblems"}`, `{"name":"includeProblems"}`)), status: 422, code: CodeInvalidParameter},
		{name: "allergies without resolved part", body: string(recordRequestBody(nhs, `{"name":"includeAllergies"}`)), status: 422, code: CodeInvalidParameter},
		{name: "allergies part of wrong type", body: string(recordRequestBody(nhs, `{"name":"includeAllergies","part":[{"name":"includeResolvedAllergies","valueString":"yes"}]}`)), status: 422, code: CodeInvalidParameter},
		{name: "include with a value", body: string(recordRequestBody(nhs, `{"name":"includeProblems","valueBoolean":true}`)), status: 422, code: CodeInvalidParameter},
		{name: "medication date partial", body: string(recordRequestBody(nhs, `{"name":"includeMedication","part":[{"name":"medicationSearchFromDate","valueDate":"2017-06"}]}`)), status: 422, code: CodeInvalidParameter},
		{name: "medication date in future", body: string(recordRequestBody(nhs, `{"name":"includeMedication","part":[{"name":"medicationSearchFromDate","valueDate":"`+future+`"}]}`)), status: 422, code: CodeInvalidParameter},
		{name: "investigation period reversed", body: string(recordRequestBody(nhs, `{"name":"includeInvestigations","part":[{"name":"investigationSearchPeriod","valuePeriod":{"start":"2023-01-02","end":"2022-01-01"}}]}`)), status: 422, code: CodeInvalidParameter},
		{name: "referral period in future", body: string(recordRequestBody(nhs, `{"name":"includeReferrals","part":[{"name":"referralsSearchPeriod","valuePeriod":{"start":"`+future+`"}}]}`)), status: 422, code: CodeInvalidParameter},
		{name: "problem status unknown", body: string(recordRequestBody(nhs, `{"name":"includeProblems","part":[{"name":"filterStatus","valueCode":"maybe"}]}`)), status: 422, code: CodeInvalidParameter},
		{name: "unmodelled areas warn", body: string(recordRequestBody(nhs, `{"name":"includeConsultations"}`, `{"name":"includeImmunisations"}`)), status: 200, warnings: []string{"includeConsultations", "includeImmunisations"}},
		{name: "unknown part warns", body: string(recordRequestBody(nhs, `{"name":"includeProblems","part":[{"name":"includeStatus","valueCode":"active"}]}`)), status: 200, warnings: []string{"includeProblems.includeStatus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := structuredRecord(t, m, []byte(tc.body))
			require.Equal(t, tc.status, rep.status, "body: %.2000s", rep.body)
			if tc.code != "" {
				detail, _ := rep.errorCode(t)
				require.Equal(t, tc.code, detail)
				return
			}
			var warned []string
			for _, e := range rep.json(t)["entry"].([]any) {
				r := e.(map[string]any)["resource"].(map[string]any)
				if r["resourceType"] == "OperationOutcome" {
					for _, is := range r["issue"].([]any) {
						warned = append(warned, is.(map[string]any)["diagnostics"].(string))
					}
				}
			}
			require.Equal(t, tc.warnings, warned)
		})
	}
}

func TestStructuredRecordContent(t *testing.T) {
	m := startMock(t)
	rep := structuredRecord(t, m, recordRequestBody(m.Patients()[0].NHSNumber, allAreas...))
	require.Equal(t, http.StatusOK, rep.status)
	v := rep.json(t)
	require.Equal(t, "collection", v["type"])
	ids := map[string]bool{}
	types := map[string]int{}
	var lists []string
	for _, e := range v["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		types[r["resourceType"].(string)]++
		ids[r["resourceType"].(string)+"/"+fmt.Sprint(r["id"])] = true
		if r["resourceType"] == "List" {
			lists = append(lists, r["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["display"].(string))
		}
	}
	require.Equal(t, []string{"Allergies and adverse reaction", "Ended allergies", "Medications and medical devices", "Problems", "Investigations and Results", "Referral details"}, lists)
	for _, rt := range []string{"Patient", "Organization", "Practitioner", "PractitionerRole", "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Medication", "Condition", "DiagnosticReport", "Observation", "Specimen", "ProcedureRequest", "ReferralRequest"} {
		require.Positive(t, types[rt], "the record holds a %s", rt)
	}
	// Every List item points at a resource in the Bundle (or a contained one).
	for _, e := range v["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		if r["resourceType"] != "List" || r["entry"] == nil {
			continue
		}
		for _, it := range r["entry"].([]any) {
			ref := it.(map[string]any)["item"].(map[string]any)["reference"].(string)
			require.True(t, strings.HasPrefix(ref, "#") || ids[ref], "List item %s is in the Bundle", ref)
		}
	}
	// The same seed gives the same record.
	again := structuredRecord(t, m, recordRequestBody(m.Patients()[0].NHSNumber, allAreas...))
	require.Equal(t, string(rep.body), string(again.body))
	entries := m.Journal().Entries()
	require.Equal(t, "record.served", entries[0].Kind)
	require.Equal(t, m.Patients()[0].NHSNumber, entries[0].Keys[keyNHSNumber])
	require.Equal(t, fmt.Sprint(len(rep.body)), entries[0].Attrs["bytes"])
	require.Equal(t, "includeAllergies,includeMedication,includeProblems,includeInvestigations,includeReferrals", entries[0].Attrs["includes"])
}

func TestLargeRecords(t *testing.T) {
	const size = 3 << 20
	m := startMock(t, WithLargeRecords(1, size))
	start := time.Now()
	rep := structuredRecord(t, m, recordRequestBody(m.Patients()[0].NHSNumber, allAreas...))
	first := time.Since(start)
	require.Equal(t, http.StatusOK, rep.status)
	require.GreaterOrEqual(t, len(rep.body), size)
	require.Less(t, len(rep.body), size*3/2, "about the size asked for")
	require.True(t, json.Valid(rep.body))
	var v struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(rep.body, &v))
	require.Equal(t, "Bundle", v.ResourceType)
	require.Equal(t, "collection", v.Type)
	types := map[string]int{}
	for _, e := range v.Entry {
		types[e.Resource.ResourceType]++
	}
	require.Greater(t, types["Observation"], 1000, "grown with many results")
	require.Greater(t, types["MedicationRequest"], 20)
	start = time.Now()
	again := structuredRecord(t, m, recordRequestBody(m.Patients()[0].NHSNumber, allAreas...))
	t.Logf("3 MiB record: %d bytes, %d entries; first request %v (generation included), next %v", len(rep.body), len(v.Entry), first, time.Since(start))
	require.Equal(t, len(rep.body), len(again.body))

	// Without the option, records are small.
	small := startMock(t)
	rep = structuredRecord(t, small, recordRequestBody(small.Patients()[0].NHSNumber, allAreas...))
	require.Less(t, len(rep.body), 256<<10)
}

func TestLargeRecordsFraction(t *testing.T) {
	m := New(WithSeed(3), WithClock(fixedClock), WithPatients(200), WithLargeRecords(0.25, 64<<10))
	n := len(m.large)
	require.InDelta(t, 50, n, 25, "about a quarter of patients have large records")
	require.Equal(t, m.large, New(WithSeed(3), WithClock(fixedClock), WithPatients(200), WithLargeRecords(0.25, 64<<10)).large, "seeded")
}

func TestJWKS(t *testing.T) {
	m := startMock(t)
	get := func() reply {
		return call(t, m, http.MethodGet, JWKSPath, "", "", nil, nil)
	}
	rep := get()
	require.Equal(t, http.StatusNotFound, rep.status)
	require.Equal(t, "no-store", rep.header.Get("Cache-Control"))
	key := []byte(`{"keys":[{"kty":"EC","crv":"P-384","kid":"host-1","x":"AAAA","y":"BBBB"}]}`)
	m.SetHostKey(key)
	rep = get()
	require.Equal(t, http.StatusOK, rep.status)
	require.JSONEq(t, string(key), string(rep.body))
	require.Equal(t, "application/json", rep.header.Get("Content-Type"))

	withKey := startMock(t, WithHostKey(key))
	rep = call(t, withKey, http.MethodGet, JWKSPath, "", "", nil, nil)
	require.Equal(t, http.StatusOK, rep.status)

	// The JWKS fetch can be faulted like any operation.
	_, err := m.Faults().Add(inband.Spec{Kind: inband.Status, Status: 503, Operations: []string{OpJWKS}})
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, get().status)
}

func TestAccessors(t *testing.T) {
	m := New(WithSeed(7), WithClock(fixedClock))
	c := m.Credentials()
	require.Equal(t, "gpconnect", m.Name())
	require.Equal(t, "/"+c.ODSCode+"/STU3/1/gpconnect/fhir", m.BasePath())
	require.Regexp(t, `^Y\d{5}$`, c.ODSCode)
	require.Regexp(t, `^\d{12}$`, c.ProviderASID)
	require.Regexp(t, `^\d{12}$`, c.ConsumerASID)
	require.NotEqual(t, c.ODSCode, c.ConsumerODS)
	require.Len(t, m.Patients(), DefaultPatients)
	require.Equal(t, m.Patients(), New(WithSeed(7), WithClock(fixedClock)).Patients(), "seeded")
	require.Empty(t, m.URL())
	require.Empty(t, m.Addr())
	require.NoError(t, m.Close(), "closing an unstarted mock is harmless")
	require.Equal(t, "gpconnect", m.Journal().Service())
}

// TestHandlerNeverPanics sends odd requests straight to the handler.
func TestHandlerNeverPanics(t *testing.T) {
	m := New(WithSeed(1), WithClock(fixedClock), WithPatients(3))
	for _, path := range []string{"/", "//", m.BasePath(), m.BasePath() + "/", m.BasePath() + "//", m.BasePath() + "/Patient//Appointment", "/%2e%2e/", JWKSPath} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodOptions} {
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(method, "http://gpc.test"+path, strings.NewReader("{")))
			require.Less(t, rec.Code, 500, "%s %s: %s", method, path, rec.Body.String())
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		}
	}
}

func TestPrefetchAnswersThePatientAsTheHostReadsIt(t *testing.T) {
	m := New(WithSeed(3), WithPatients(5))
	p := m.Patients()[2]
	tests := []struct {
		name    string
		query   string
		wantErr string
	}{
		{name: "by NHS number", query: "Patient/" + p.NHSNumber},
		{name: "unknown patient", query: "Patient/9990000000", wantErr: "no such patient"},
		{name: "a search is not supported", query: "MedicationRequest?patient=" + p.NHSNumber, wantErr: "not supported"},
		{name: "nested path", query: "Patient/x/y", wantErr: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Prefetch(t.Context(), tt.query)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			require.Contains(t, string(b), `"resourceType":"Patient"`)
			require.Contains(t, string(b), p.NHSNumber)
		})
	}
}
