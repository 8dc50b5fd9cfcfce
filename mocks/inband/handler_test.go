package inband_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

func TestHandler(t *testing.T) {
	status503 := inband.Spec{Kind: inband.Status, Status: 503, Code: "SYSTEM_UNAVAILABLE", Operations: []string{"create"}}
	delay := inband.Spec{Kind: inband.Delay, Delay: time.Second}

	tests := []struct {
		name   string
		setup  []inband.Spec // added before the request, as f1, f2, ...
		method string
		path   string
		body   string

		wantStatus int
		wantJSON   string   // exact JSON body, when set
		wantError  []string // substrings of the {"error": ...} body, when set
		wantActive map[string]inband.Spec
	}{
		{
			name:   "GET empty",
			method: http.MethodGet, path: "/faults",
			wantStatus: http.StatusOK, wantJSON: `{}`,
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "GET active faults by id",
			setup:  []inband.Spec{status503, delay},
			method: http.MethodGet, path: "/faults",
			wantStatus: http.StatusOK,
			wantJSON: `{
				"f1": {"kind":"status","status":503,"code":"SYSTEM_UNAVAILABLE","operations":["create"]},
				"f2": {"kind":"delay","delay":1000000000}
			}`,
			wantActive: map[string]inband.Spec{"f1": status503, "f2": delay},
		},
		{
			name:   "POST adds a fault",
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":"status","status":429,"retry_after":1500000000,"fraction":0.5,"seed":7,"operations":["create"]}`,
			wantStatus: http.StatusCreated, wantJSON: `{"id":"f1"}`,
			wantActive: map[string]inband.Spec{"f1": {
				Kind: inband.Status, Status: 429, RetryAfter: 1500 * time.Millisecond,
				Fraction: 0.5, Seed: 7, Operations: []string{"create"},
			}},
		},
		{
			name:   "POST ids follow existing faults",
			setup:  []inband.Spec{delay},
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":"lost-response"}`,
			wantStatus: http.StatusCreated, wantJSON: `{"id":"f2"}`,
			wantActive: map[string]inband.Spec{"f1": delay, "f2": {Kind: inband.LostResponse}},
		},
		{
			name:   "POST bad JSON",
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":`,
			wantStatus: http.StatusBadRequest,
			wantError:  []string{"decode fault spec"},
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "POST empty body",
			method: http.MethodPost, path: "/faults",
			wantStatus: http.StatusBadRequest,
			wantError:  []string{"decode fault spec", "EOF"},
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "POST wrong type",
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":"status","status":"503"}`,
			wantStatus: http.StatusBadRequest,
			wantError:  []string{"decode fault spec", "status"},
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "POST unknown field",
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":"status","status":503,"probability":0.5}`,
			wantStatus: http.StatusBadRequest,
			wantError:  []string{"decode fault spec", "unknown field", "probability"},
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "POST invalid spec",
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":"status","status":200}`,
			wantStatus: http.StatusBadRequest,
			wantError:  []string{"add in-band fault", "got 200"},
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "POST unknown kind",
			method: http.MethodPost, path: "/faults",
			body:       `{"kind":"meteor"}`,
			wantStatus: http.StatusBadRequest,
			wantError:  []string{`unknown in-band fault kind "meteor"`},
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "DELETE one fault returns its counts",
			setup:  []inband.Spec{status503, delay},
			method: http.MethodDelete, path: "/faults/f1",
			wantStatus: http.StatusOK, wantJSON: `{"seen":0,"faulted":0}`,
			wantActive: map[string]inband.Spec{"f2": delay},
		},
		{
			name:   "DELETE unknown id",
			setup:  []inband.Spec{delay},
			method: http.MethodDelete, path: "/faults/f9",
			wantStatus: http.StatusNotFound,
			wantError:  []string{`no fault with id "f9"`},
			wantActive: map[string]inband.Spec{"f1": delay},
		},
		{
			name:   "DELETE all",
			setup:  []inband.Spec{status503, delay},
			method: http.MethodDelete, path: "/faults",
			wantStatus: http.StatusNoContent,
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "PUT not allowed",
			method: http.MethodPut, path: "/faults",
			wantStatus: http.StatusMethodNotAllowed,
			wantActive: map[string]inband.Spec{},
		},
		{
			name:   "unknown path",
			method: http.MethodGet, path: "/nope",
			wantStatus: http.StatusNotFound,
			wantActive: map[string]inband.Spec{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			for _, s := range tc.setup {
				_, err := c.Add(s)
				require.NoError(t, err)
			}
			srv := httptest.NewServer(c.Handler())
			defer srv.Close()

			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			require.Equal(t, tc.wantStatus, resp.StatusCode, "body: %s", body)
			switch {
			case tc.wantJSON != "":
				require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				require.JSONEq(t, tc.wantJSON, string(body))
			case len(tc.wantError) > 0:
				require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				var e map[string]string
				require.NoError(t, json.Unmarshal(body, &e), "body: %s", body)
				require.Len(t, e, 1)
				for _, want := range tc.wantError {
					require.Contains(t, e["error"], want)
				}
			case tc.wantStatus == http.StatusNoContent:
				require.Empty(t, body)
			}
			require.Equal(t, tc.wantActive, c.Active())
		})
	}
}

func TestHandlerDeleteReportsCountsOfTraffic(t *testing.T) {
	m := newMock()
	api := httptest.NewServer(m.ctrl.Handler())
	defer api.Close()
	svc := httptest.NewServer(m.handler())
	defer svc.Close()
	client := freshClient(t)

	resp, err := post(t, client, api.URL+"/faults", `{"kind":"status","status":429,"retry_after":1500000000,"operations":["create"]}`)
	require.NoError(t, err)
	var added map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&added))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	for _, path := range []string{"/create", "/read", "/create"} {
		resp, err := post(t, client, svc.URL+path, "")
		require.NoError(t, err)
		resp.Body.Close()
		if path == "/create" {
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			require.Equal(t, "2", resp.Header.Get("Retry-After"))
		}
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, api.URL+"/faults/"+added["id"], nil)
	require.NoError(t, err)
	resp, err = client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var n inband.Counts
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	require.Equal(t, inband.Counts{Seen: 2, Faulted: 2}, n)
}
