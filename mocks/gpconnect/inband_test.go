package gpconnect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

func TestInbandStatusFaults(t *testing.T) {
	tests := []struct {
		name       string
		spec       inband.Spec
		path       string // relative to BasePath; default metadata
		wantStatus int
		wantIssue  string
		wantCode   string
		wantSSP    string // prefix of the SSP display, for SSP bodies
	}{
		{name: "502 is the SSP's body", spec: inband.Spec{Kind: inband.Status, Status: 502}, wantStatus: 502, wantIssue: "transient", wantCode: "502", wantSSP: "ERROR_COMMUNICATING_TO_ENDPOINT_URL_http://"},
		{name: "504 SSP timeout", spec: inband.Spec{Kind: inband.Status, Status: 504}, wantStatus: 504, wantIssue: "timeout", wantCode: "504", wantSSP: "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_http://"},
		{name: "599 SSP timeout", spec: inband.Spec{Kind: inband.Status, Status: 599}, wantStatus: 599, wantIssue: "timeout", wantCode: "599", wantSSP: "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_http://"},
		{name: "500 provider error", spec: inband.Spec{Kind: inband.Status, Status: 500}, wantStatus: 500, wantIssue: "processing", wantCode: CodeInternalServerError},
		{name: "503 provider unavailable", spec: inband.Spec{Kind: inband.Status, Status: 503, RetryAfter: 2 * time.Second}, wantStatus: 503, wantIssue: "transient", wantCode: CodeInternalServerError},
		{name: "429 throttled", spec: inband.Spec{Kind: inband.Status, Status: 429}, wantStatus: 429, wantIssue: "throttled", wantCode: CodeTooManyRequests},
		{name: "code override", spec: inband.Spec{Kind: inband.Status, Status: 404, Code: CodePatientNotFound}, wantStatus: 404, wantIssue: "not-found", wantCode: CodePatientNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := startMock(t)
			_, err := m.Faults().Add(tc.spec)
			require.NoError(t, err)
			rep := call(t, m, http.MethodGet, "metadata", InteractionMetadata, ScopeOrgRead, nil, nil)
			require.Equal(t, tc.wantStatus, rep.status, "body: %s", rep.body)
			require.Equal(t, "no-store", rep.header.Get("Cache-Control"))
			detail, issue := rep.errorCode(t)
			require.Equal(t, tc.wantCode, detail)
			require.Equal(t, tc.wantIssue, issue)
			v := rep.json(t)
			is := v["issue"].([]any)[0].(map[string]any)
			coding := is["details"].(map[string]any)["coding"].([]any)[0].(map[string]any)
			if tc.wantSSP != "" {
				require.NotEmpty(t, v["id"], "SSP bodies carry an id")
				require.Nil(t, v["meta"], "SSP bodies are not profiled")
				require.Equal(t, sspSystem, coding["system"])
				require.True(t, strings.HasPrefix(coding["display"].(string), tc.wantSSP), "display %q", coding["display"])
				require.True(t, strings.HasSuffix(coding["display"].(string), m.BasePath()+"/metadata"), "display names the provider URL: %q", coding["display"])
				require.Equal(t, coding["display"], is["diagnostics"])
			} else {
				require.Equal(t, spineSystem, coding["system"])
			}
			if tc.spec.RetryAfter > 0 {
				require.Equal(t, "2", rep.header.Get("Retry-After"))
			}
			entries := m.Journal().Entries()
			require.Len(t, entries, 1)
			require.Equal(t, "request.faulted", entries[0].Kind)
			require.Equal(t, OpMetadata, entries[0].Attrs["op"])
			require.Equal(t, m.Credentials().ODSCode, entries[0].Attrs["tenant"])
		})
	}
}

func TestInbandReadOnlyContingency(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusMethodNotAllowed} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			m := startMock(t)
			_, err := m.Faults().Add(inband.Spec{Kind: inband.Status, Status: status, Operations: WriteOperations()})
			require.NoError(t, err)
			id, start, end := freeSlot(t, m)
			rep := call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, bookBody(id, start, end), nil)
			require.Equal(t, status, rep.status)
			detail, _ := rep.errorCode(t)
			require.NotEmpty(t, detail)
			require.Contains(t, string(rep.body), "read-only")
			require.Zero(t, m.Journal().Count("appointment.booked"), "a refused write commits nothing")
			// Reads are fine.
			rep = call(t, m, http.MethodGet, "Patient/1", InteractionReadPatient, ScopePatientRead, nil, nil)
			require.Equal(t, http.StatusOK, rep.status)
			rep = structuredRecord(t, m, recordRequestBody(m.Patients()[0].NHSNumber, allAreas...))
			require.Equal(t, http.StatusOK, rep.status)
		})
	}
}

func TestInbandTenants(t *testing.T) {
	m := startMock(t)
	ods := m.Credentials().ODSCode
	tests := []struct {
		name    string
		tenants []string
		want    int
	}{
		{name: "another practice only", tenants: []string{"Y99999"}, want: http.StatusOK},
		{name: "this practice", tenants: []string{"Y99999", ods}, want: http.StatusServiceUnavailable},
		{name: "every practice", want: http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := m.Faults().Add(inband.Spec{Kind: inband.Status, Status: 503, Tenants: tc.tenants})
			require.NoError(t, err)
			defer func() { _, _ = m.Faults().Remove(id) }()
			rep := call(t, m, http.MethodGet, "metadata", InteractionMetadata, ScopeOrgRead, nil, nil)
			require.Equal(t, tc.want, rep.status)
		})
	}
	require.Equal(t, ods, tenantOf(httptest.NewRequest(http.MethodGet, m.BasePath()+"/metadata", nil)))
	require.Empty(t, tenantOf(httptest.NewRequest(http.MethodGet, JWKSPath, nil)))
}

func TestInbandMalformed(t *testing.T) {
	tests := []struct {
		name  string
		spec  inband.Spec
		check func(t *testing.T, clean, body []byte)
	}{
		{name: "invalid json", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformInvalidJSON}, check: func(t *testing.T, clean, body []byte) {
			require.False(t, json.Valid(body))
			require.Equal(t, clean[:len(clean)/2], body)
		}},
		{name: "wrong types", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes, Seed: 4}, check: func(t *testing.T, clean, body []byte) {
			require.True(t, json.Valid(body))
			require.NotEqual(t, clean, body)
			var v map[string]any
			require.NoError(t, json.Unmarshal(body, &v))
		}},
		{name: "oversized", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized, Bytes: 2 << 20}, check: func(t *testing.T, _, body []byte) {
			require.Greater(t, len(body), 2<<20)
			var v map[string]any
			require.NoError(t, json.Unmarshal(body, &v))
			require.Equal(t, "Bundle", v["resourceType"])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := startMock(t)
			body := recordRequestBody(m.Patients()[0].NHSNumber, allAreas...)
			clean := structuredRecord(t, m, body)
			require.Equal(t, http.StatusOK, clean.status)
			spec := tc.spec
			spec.Operations = []string{OpGetStructuredRecord}
			_, err := m.Faults().Add(spec)
			require.NoError(t, err)
			rep := structuredRecord(t, m, body)
			require.Equal(t, http.StatusOK, rep.status, "status is kept")
			require.Equal(t, "no-store", rep.header.Get("Cache-Control"))
			tc.check(t, clean.body, rep.body)
			require.Equal(t, 2, m.Journal().Count("record.served"), "the real handler ran")
			require.Equal(t, 1, m.Journal().Count("request.faulted"))
			// Other operations are untouched.
			rep = call(t, m, http.MethodGet, "metadata", InteractionMetadata, ScopeOrgRead, nil, nil)
			require.True(t, json.Valid(rep.body))
		})
	}
}

func TestInbandLostResponseCommitsBooking(t *testing.T) {
	m := startMock(t)
	fault, err := m.Faults().Add(inband.Spec{Kind: inband.LostResponse, Operations: []string{OpBookAppointment}})
	require.NoError(t, err)
	id, start, end := freeSlot(t, m)
	req, err := http.NewRequest(http.MethodPost, m.URL()+"/Appointment", bytes.NewReader(bookBody(id, start, end)))
	require.NoError(t, err)
	c := m.Credentials()
	req.Header.Set("Ssp-TraceID", "t")
	req.Header.Set("Ssp-From", c.ConsumerASID)
	req.Header.Set("Ssp-To", c.ProviderASID)
	req.Header.Set("Ssp-InteractionID", InteractionCreateAppointment)
	req.Header.Set("Authorization", "Bearer "+unsignedJWT(t, noneHeader(), jwtClaims(c, ScopePatientWrite)))
	req.Header.Set("Content-Type", "application/fhir+json")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the connection is dropped")
	require.Equal(t, 1, m.Journal().Count("appointment.booked"), "the booking was committed")
	// Once the fault is over, a blind retry is refused: the slot is taken.
	_, err = m.Faults().Remove(fault)
	require.NoError(t, err)
	rep := call(t, m, http.MethodPost, "Appointment", InteractionCreateAppointment, ScopePatientWrite, bookBody(id, start, end), nil)
	require.Equal(t, http.StatusConflict, rep.status)
}

func TestInbandDelayOnStructuredRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(WithSeed(42), WithClock(fixedClock), WithPatients(3))
		_, err := m.Faults().Add(inband.Spec{Kind: inband.Delay, Delay: 4 * time.Second, Operations: []string{OpGetStructuredRecord}})
		require.NoError(t, err)
		c := m.Credentials()
		send := func(method, path, interaction, scope string, body []byte) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, "http://gpc.test"+m.BasePath()+"/"+path, bytes.NewReader(body))
			req.Header.Set("Ssp-TraceID", "t")
			req.Header.Set("Ssp-From", c.ConsumerASID)
			req.Header.Set("Ssp-To", c.ProviderASID)
			req.Header.Set("Ssp-InteractionID", interaction)
			req.Header.Set("Authorization", "Bearer "+unsignedJWT(t, noneHeader(), jwtClaims(c, scope)))
			req.Header.Set("Content-Type", "application/fhir+json")
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, req)
			return rec
		}
		start := time.Now()
		rec := send(http.MethodPost, "Patient/$gpc.getstructuredrecord", InteractionGetStructuredRecord, ScopePatientRead, recordRequestBody(m.Patients()[0].NHSNumber, allAreas...))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, 4*time.Second, time.Since(start), "past the 3 s query SHALL")
		start = time.Now()
		rec = send(http.MethodGet, "metadata", InteractionMetadata, ScopeOrgRead, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Zero(t, time.Since(start), "other operations are not delayed")
	})
}

func TestInbandSSPTimeoutAfterDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(WithSeed(42), WithClock(fixedClock), WithPatients(3))
		_, err := m.Faults().Add(inband.Spec{Kind: inband.Status, Status: 504, Delay: 30 * time.Second})
		require.NoError(t, err)
		start := time.Now()
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://gpc.test"+m.BasePath()+"/metadata", nil))
		require.Equal(t, http.StatusGatewayTimeout, rec.Code)
		require.Equal(t, 30*time.Second, time.Since(start))
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})
}
