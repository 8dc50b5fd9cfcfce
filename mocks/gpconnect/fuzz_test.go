package gpconnect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// checkAnswer fails unless rec is a success or a 4xx GP Connect (or SSP)
// OperationOutcome with Cache-Control: no-store: never a panic (which the
// handler turns into a 500), never a body that is not JSON.
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s answered %d: %s", what, rec.Code, rec.Body.Bytes())
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%s answered without Cache-Control: no-store", what)
	}
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %v: %q", what, rec.Code, err, rec.Body.Bytes())
	}
	if rec.Code >= 400 && v["resourceType"] != "OperationOutcome" {
		t.Fatalf("%s answered %d without an OperationOutcome: %s", what, rec.Code, rec.Body.Bytes())
	}
}

// FuzzRequestBody drives the body-decoding path of every POST and PUT
// endpoint with arbitrary bytes. op selects the endpoint.
func FuzzRequestBody(f *testing.F) {
	nhs := "9990000018"
	f.Add(uint8(0), recordRequestBody(nhs, allAreas...))
	f.Add(uint8(0), []byte(`{"resourceType":"Parameters","parameter":[{"name":"includeInvestigations","part":[{"name":"investigationSearchPeriod","valuePeriod":{"start":"2020-01-01","end":"2019-01-01"}}]}]}`))
	f.Add(uint8(1), bookBody("1", "2024-06-04T09:00:00+00:00", "2024-06-04T09:15:00+00:00"))
	f.Add(uint8(2), []byte(`{"resourceType":"Appointment","id":"1001","status":"cancelled","extension":[{"url":"`+extCancelReason+`","valueString":"x"}]}`))
	f.Add(uint8(3), []byte(`{"resourceType":"Appointment","id":"1001","status":"booked","description":"d"}`))
	f.Add(uint8(0), []byte(`{`))
	f.Add(uint8(1), []byte(``))
	f.Add(uint8(0), []byte(`{"resourceType":"Parameters","parameter":[{"name":"patientNHSNumber","valueIdentifier":null}]}`))

	m := New(WithSeed(1), WithClock(fixedClock), WithPatients(3))
	nhs = m.Patients()[0].NHSNumber
	c := m.Credentials()
	type target struct{ method, path, interaction, scope string }
	targets := []target{
		{http.MethodPost, "Patient/$gpc.getstructuredrecord", InteractionGetStructuredRecord, ScopePatientRead},
		{http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite},
		{http.MethodPut, "Appointment/1001", InteractionCancelAppointment, ScopePatientWrite},
		{http.MethodPut, "Appointment/1001", InteractionUpdateAppointment, ScopePatientWrite},
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		tg := targets[int(op)%len(targets)]
		req := httptest.NewRequest(tg.method, "http://gpc.test"+m.BasePath()+"/"+tg.path, bytes.NewReader(body))
		req.Header.Set("Ssp-TraceID", "fuzz")
		req.Header.Set("Ssp-From", c.ConsumerASID)
		req.Header.Set("Ssp-To", c.ProviderASID)
		req.Header.Set("Ssp-InteractionID", tg.interaction)
		req.Header.Set("Authorization", "Bearer "+unsignedJWT(t, noneHeader(), jwtClaims(c, tg.scope)))
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("If-Match", `W/"999"`) // updates never commit, so the store stays small
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req)
		checkAnswer(t, tg.method+" "+tg.path, rec)
	})
}

// FuzzJWT drives the JWT decoding path with arbitrary header and payload
// segments (and, through raw, arbitrary Authorization headers).
func FuzzJWT(f *testing.F) {
	m := New(WithSeed(1), WithClock(fixedClock), WithPatients(2))
	c := m.Credentials()
	valid, err := json.Marshal(jwtClaims(c, ScopeOrgRead))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"alg":"none","typ":"JWT"}`), valid, "")
	f.Add([]byte(`{"alg":"none"}`), []byte(`{"iss":"x","exp":1e300,"iat":-1e300}`), "")
	f.Add([]byte(`{"alg":"none"}`), []byte(`{"requesting_device":{"resourceType":null}}`), "")
	f.Add([]byte(`null`), []byte(`[]`), "")
	f.Add([]byte(``), []byte(``), "Bearer ..")
	f.Add([]byte(``), []byte(``), "Bearer a.b.c.d")
	f.Fuzz(func(t *testing.T, header, payload []byte, raw string) {
		auth := raw
		if auth == "" {
			auth = "Bearer " + base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
		}
		if _, e := parseJWT(auth); e != nil && e.Status != http.StatusBadRequest && e.Status != http.StatusUnprocessableEntity {
			t.Fatalf("parseJWT(%q) gave status %d, want 400 or 422", auth, e.Status)
		}
		req := httptest.NewRequest(http.MethodGet, "http://gpc.test"+m.BasePath()+"/metadata", nil)
		req.Header.Set("Ssp-TraceID", "fuzz")
		req.Header.Set("Ssp-From", c.ConsumerASID)
		req.Header.Set("Ssp-To", c.ProviderASID)
		req.Header.Set("Ssp-InteractionID", InteractionMetadata)
		req.Header["Authorization"] = []string{auth}
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req)
		checkAnswer(t, "GET metadata", rec)
	})
}
