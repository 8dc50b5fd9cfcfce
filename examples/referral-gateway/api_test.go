package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInboundValidation: both modes refuse a bad referral with 400 and a
// message that says what is wrong, and send nothing to e-RS.
func TestInboundValidation(t *testing.T) {
	valid := `"requestId":"r1","serviceId":"11002","priority":"ROUTINE","specialty":"CARDIOLOGY","clinicType":"HEART_FAILURE"`
	tests := []struct {
		name    string
		body    string
		status  int
		wantErr string
	}{
		{name: "NHS number wrong length", body: `{"nhsNumber":"12345",` + valid + `}`, status: 400, wantErr: "must be exactly 10 digits"},
		{name: "NHS number bad check digit", body: `{"nhsNumber":"9990000019",` + valid + `}`, status: 400, wantErr: "check digit"},
		{name: "NHS number not digits", body: `{"nhsNumber":"99900000AB",` + valid + `}`, status: 400, wantErr: "digits only"},
		{name: "NHS number missing", body: `{` + valid + `}`, status: 400, wantErr: "nhsNumber is required"},
		{
			name:   "requestId missing",
			body:   `{"nhsNumber":"9990000018","serviceId":"11002","specialty":"CARDIOLOGY"}`,
			status: 400, wantErr: "requestId is required",
		},
		{
			name:   "requestId with a slash",
			body:   `{"requestId":"a/b","nhsNumber":"9990000018","serviceId":"11002","specialty":"CARDIOLOGY"}`,
			status: 400, wantErr: "may not contain '/'",
		},
		{
			name:   "unknown priority",
			body:   `{"requestId":"r1","nhsNumber":"9990000018","serviceId":"11002","specialty":"CARDIOLOGY","priority":"SOON"}`,
			status: 400, wantErr: `priority "SOON"`,
		},
		{
			name:   "service and specialty missing",
			body:   `{"requestId":"r1","nhsNumber":"9990000018"}`,
			status: 400, wantErr: "11002\"); specialty is required",
		},
		{name: "not JSON", body: `nhsNumber=9990000018`, status: 400, wantErr: "not a JSON referral"},
		{name: "empty body", body: ``, status: 400, wantErr: "empty"},
		{name: "too large", body: `{"requestId":"` + strings.Repeat("x", maxRequestBody) + `"}`, status: 413, wantErr: "larger than"},
	}
	for _, mode := range []string{modeNaive, modeResilient} {
		t.Run(mode, func(t *testing.T) {
			ers := newFakeERS(t)
			var g *gatewayUnderTest
			if mode == modeNaive {
				g = startNaive(t, testConfig(mode, ers.base, ""))
			} else {
				g = startResilient(t, testConfig(mode, ers.base, t.TempDir()), true)
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp := doJSON(t, http.MethodPost, g.srv.URL+"/referrals", tc.body)
					require.Equal(t, tc.status, resp.Status, "body: %v", resp.Body)
					require.Contains(t, resp.str("error"), tc.wantErr)
				})
			}
			require.Empty(t, ers.createCalls())
			health := doJSON(t, http.MethodGet, g.srv.URL+"/health", nil)
			require.Equal(t, http.StatusOK, health.Status)
			require.Equal(t, "ok", health.str("status"))
		})
	}
}
