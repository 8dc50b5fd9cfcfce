package ers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzRequestBody drives the body-decoding path of every POST endpoint with
// arbitrary bytes: the mock must answer with a success or a 4xx e-RS
// OperationOutcome, never panic (which the handler would turn into a 500)
// and never hang. op selects the endpoint.
func FuzzRequestBody(f *testing.F) {
	f.Add(uint8(0), minimalCreate("9912003888"))
	f.Add(uint8(1), minimalCreate("9912003888"))
	f.Add(uint8(2), worklistBody(ListAwaitingBooking))
	f.Add(uint8(3), cancelBody("RAISED_IN_ERROR", "x"))
	f.Add(uint8(0), []byte(`{"resourceType":"Parameters","parameter":[{"name":"shortlist","resource":{"resourceType":"List","entry":[{}]}}]}`))
	f.Add(uint8(2), []byte(`{`))
	f.Add(uint8(3), []byte(``))

	m := New(WithSeed(1), WithClock(fixedClock))
	c := m.Credentials()
	ubrn := m.insert(&referral{NHSNumber: "9912003888", ReferrerODS: c.ODSCode, State: StateNotBooked, Status: "active", Priority: "ROUTINE"}).UBRN
	paths := []string{pathCreate, pathTriage, pathWorklist, pathCancel(ubrn)}

	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		path := paths[int(op)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, "http://ers.test"+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.Token)
		req.Header.Set(headerODS, c.ODSCode)
		req.Header.Set(headerBusinessFunction, c.BusinessFunction)
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set(headerIfMatch, `W/"999"`) // cancels never commit, so the referral stays cancellable
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body.Bytes())
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s answered %d with a body that is not JSON: %v: %q", path, rec.Code, err, rec.Body.Bytes())
		}
		if rec.Code >= 400 && v["resourceType"] != "OperationOutcome" {
			t.Fatalf("%s answered %d without an OperationOutcome: %s", path, rec.Code, rec.Body.Bytes())
		}
	})
}
