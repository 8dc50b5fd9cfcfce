package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// acuteBackPain is a record with low back pain for two weeks, no red flags.
func acuteBackPain() []byte {
	return bundleOf(condition("279039007", "Low back pain", time.Now().Add(-14*24*time.Hour)))
}

func TestDiscovery(t *testing.T) {
	host := newFakeHost(t)
	gpc := newFakeGPC(t, acuteBackPain())
	c := startService(t, testConfig(modeResilient, gpc, host), host, nil)
	resp, err := http.Get(c.url + "/cds-services")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc struct {
		Services []struct {
			Hook, ID, Title, Description string
			Prefetch                     map[string]string
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Len(t, doc.Services, 2)
	byHook := map[string]string{}
	for _, s := range doc.Services {
		byHook[s.Hook] = s.ID
		require.NotEmpty(t, s.Title)
		require.NotEmpty(t, s.Description)
		require.Equal(t, map[string]string{"patient": "Patient/{{context.patientId}}"}, s.Prefetch)
	}
	require.Equal(t, map[string]string{"order-select": serviceOrderSelect, "order-sign": serviceOrderSign}, byHook)

	health, err := http.Get(c.url + "/health")
	require.NoError(t, err)
	health.Body.Close()
	require.Equal(t, http.StatusOK, health.StatusCode)
}

func TestHostJWT(t *testing.T) {
	host := newFakeHost(t)
	gpc := newFakeGPC(t, acuteBackPain())
	c := startService(t, testConfig(modeNaive, gpc, host), host, nil)
	endpoint := c.url + "/cds-services/" + serviceOrderSelect
	tests := []struct {
		name    string
		token   func() string
		want    int
		errPart string
	}{
		{name: "valid token", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{}) }, want: 200},
		{name: "aud as an array", token: func() string { return host.token(t, time.Now(), "", tokenOpts{aud: []string{"x", endpoint}}) }, want: 200},
		{name: "no token", token: func() string { return "" }, want: 401, errPart: "no Authorization"},
		{name: "bad signature", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{key: host.other}) }, want: 401, errPart: "signature"},
		{name: "wrong aud", token: func() string {
			return host.token(t, time.Now(), c.url+"/cds-services/"+serviceOrderSign, tokenOpts{})
		}, want: 401, errPart: "aud"},
		{name: "expired", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{expOffset: -time.Minute}) }, want: 401, errPart: "expired"},
		{name: "unknown kid", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{kid: "rotated-away"}) }, want: 401, errPart: "kid"},
		{name: "alg none", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{alg: "none", noSig: true}) }, want: 401, errPart: "alg"},
		{name: "HMAC alg", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{alg: "HS256"}) }, want: 401, errPart: "alg"},
		{name: "wrong issuer", token: func() string { return host.token(t, time.Now(), endpoint, tokenOpts{iss: "https://evil.invalid"}) }, want: 401, errPart: "iss"},
		{name: "garbage", token: func() string { return "not.a.jwt.at-all" }, want: 401, errPart: "JWS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := gpc.callCount()
			r := postHook(t, endpoint, tc.token(), hookBody("order-select", "", mriLumbar()))
			require.Equal(t, tc.want, r.status, "body %s", r.raw)
			if tc.want == 401 {
				require.Contains(t, r.body["error"], tc.errPart)
				require.Equal(t, before, gpc.callCount(), "no GP Connect call for a refused token")
			}
		})
	}
	require.LessOrEqual(t, host.jwksGets(), 3, "keys are cached, refetched only for an unknown kid")
}

func TestGPConnectRequest(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		includes []string
		excluded []string
	}{
		{name: "naive asks for everything", mode: modeNaive,
			includes: []string{"includeProblems", "includeInvestigations", "includeAllergies", "includeMedication", "includeReferrals", "includeConsultations"}},
		{name: "resilient asks for problems and recent investigations", mode: modeResilient,
			includes: []string{"includeProblems", "includeInvestigations"},
			excluded: []string{"includeAllergies", "includeMedication", "includeReferrals"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := newFakeHost(t)
			gpc := newFakeGPC(t, acuteBackPain())
			c := startService(t, testConfig(tc.mode, gpc, host), host, nil)
			r := c.post(t, serviceOrderSelect, hookBody("order-select", gpc.base, mriLumbar()))
			require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
			call := gpc.lastCall()
			require.Empty(t, call.problems, "SSP headers and JWT as GP Connect requires")
			require.EqualValues(t, 300, call.claims["exp"].(float64)-call.claims["iat"].(float64))
			require.Equal(t, "gp-123", call.claims["sub"], "the host's userId")
			var names []string
			for _, p := range call.params["parameter"].([]any) {
				pm := p.(map[string]any)
				names = append(names, pm["name"].(string))
				if pm["name"] == "patientNHSNumber" {
					require.Equal(t, testPatient, pm["valueIdentifier"].(map[string]any)["value"])
				}
			}
			require.Subset(t, names, tc.includes)
			for _, ex := range tc.excluded {
				require.NotContains(t, names, ex)
			}
		})
	}
}

func TestRatingEndToEndShape(t *testing.T) {
	host := newFakeHost(t)
	gpc := newFakeGPC(t, acuteBackPain())
	for _, mode := range []string{modeNaive, modeResilient} {
		t.Run(mode, func(t *testing.T) {
			c := startService(t, testConfig(mode, gpc, host), host, nil)
			other := serviceRequest("sr-xray", "00000", "XR hand", "", "")
			body := hookBody("order-select", "", mriLumbar(), other)
			// Only the MRI is selected.
			body["context"].(map[string]any)["selections"] = []string{"ServiceRequest/sr-mri-1"}
			r := c.post(t, serviceOrderSelect, body)
			require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
			require.Len(t, r.cards(), 1)
			require.Equal(t, ratingNotAppropriate, r.rating())
			act := r.body["systemActions"].([]any)[0].(map[string]any)
			require.Equal(t, "update", act["type"])
			res := act["resource"].(map[string]any)
			require.Equal(t, "ServiceRequest", res["resourceType"])
			require.Equal(t, "sr-mri-1", res["id"])
			require.Equal(t, "draft", res["status"], "the draft order is returned with the rating added")
			if mode == modeResilient {
				requireWellFormed(t, r)
				require.Equal(t, "Lumbar spine imaging: not appropriate", r.cards()[0]["summary"])
			}
		})
	}
}

// TestSlowGPConnect is the incident: GP Connect takes 5s and the clinician
// waits. Naive blocks for all of it; resilient answers within its budget.
func TestSlowGPConnect(t *testing.T) {
	delay := 5 * time.Second
	if testing.Short() {
		delay = 1500 * time.Millisecond
	}
	tests := []struct {
		name  string
		mode  string
		check func(t *testing.T, r hookResult, budget time.Duration)
	}{
		{name: "naive blocks as long as GP Connect", mode: modeNaive, check: func(t *testing.T, r hookResult, _ time.Duration) {
			require.Equal(t, http.StatusOK, r.status)
			require.GreaterOrEqual(t, r.elapsed, delay, "naive waited for the whole record")
			require.Equal(t, ratingNotAppropriate, r.rating())
		}},
		{name: "resilient answers within its budget", mode: modeResilient, check: func(t *testing.T, r hookResult, budget time.Duration) {
			requireUnavailable(t, r)
			require.Less(t, r.elapsed, budget+500*time.Millisecond, "the clinician waits no longer than the budget")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := newFakeHost(t)
			gpc := newFakeGPC(t, acuteBackPain())
			gpc.set(gpcBehaviour{delay: delay})
			cfg := testConfig(tc.mode, gpc, host)
			cfg.budget = 1200 * time.Millisecond // the default
			c := startService(t, cfg, host, nil)
			// Warm the JWKS cache so the measurement is the hook alone.
			_, err := c.svc.auth.key(t.Context(), testKid)
			require.NoError(t, err)
			r := c.post(t, serviceOrderSelect, hookBody("order-select", "", mriLumbar()))
			t.Logf("%s: GP Connect delay %v, clinician blocked %v", tc.mode, delay, r.elapsed.Round(time.Millisecond))
			tc.check(t, r, cfg.budget)
		})
	}
}

func TestResilientCache(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		advance time.Duration
		fetches int
	}{
		{name: "resilient: order-sign after order-select reuses the record", mode: modeResilient, fetches: 1},
		{name: "resilient: after the TTL the record is fetched again", mode: modeResilient, advance: 5*time.Minute + time.Second, fetches: 2},
		{name: "naive: every hook fetches the full record", mode: modeNaive, fetches: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := newFakeHost(t)
			gpc := newFakeGPC(t, acuteBackPain())
			c := startService(t, testConfig(tc.mode, gpc, host), host, nil)
			r1 := c.post(t, serviceOrderSelect, hookBody("order-select", "", mriLumbar()))
			require.Equal(t, ratingNotAppropriate, r1.rating())
			c.clock.advance(tc.advance)
			r2 := c.post(t, serviceOrderSign, hookBody("order-sign", "", mriLumbar()))
			require.Equal(t, ratingNotAppropriate, r2.rating())
			require.Equal(t, tc.fetches, gpc.callCount())
		})
	}
}

func TestResilientBreaker(t *testing.T) {
	host := newFakeHost(t)
	gpc := newFakeGPC(t, acuteBackPain())
	cfg := testConfig(modeResilient, gpc, host)
	cfg.cacheTTL = time.Nanosecond // every hook goes to GP Connect unless the breaker stops it
	c := startService(t, cfg, host, nil)
	call := func() hookResult {
		c.clock.advance(time.Millisecond)
		return c.post(t, serviceOrderSelect, hookBody("order-select", "", mriLumbar()))
	}

	gpc.set(gpcBehaviour{status: http.StatusBadGateway})
	for i := range cfg.breakerFailures {
		requireUnavailable(t, call())
		require.Equal(t, i+1, gpc.callCount())
	}
	require.Equal(t, "open", c.svc.breaker.stateName())

	// Open: answered at once, GP Connect not called (even though it is slow now).
	gpc.set(gpcBehaviour{delay: 10 * time.Second})
	r := call()
	requireUnavailable(t, r)
	require.Less(t, r.elapsed, 500*time.Millisecond, "answered without waiting on GP Connect")
	require.Equal(t, cfg.breakerFailures, gpc.callCount())

	// After the cool-down one probe goes through; it fails (504), so the breaker opens again.
	gpc.set(gpcBehaviour{status: http.StatusGatewayTimeout})
	c.clock.advance(cfg.breakerCooldown)
	requireUnavailable(t, call())
	require.Equal(t, cfg.breakerFailures+1, gpc.callCount())
	require.Equal(t, "open", c.svc.breaker.stateName())
	requireUnavailable(t, call())
	require.Equal(t, cfg.breakerFailures+1, gpc.callCount(), "open again: no call")

	// GP Connect recovers; after the next cool-down the probe succeeds and the breaker closes.
	gpc.set(gpcBehaviour{})
	c.clock.advance(cfg.breakerCooldown)
	r = call()
	require.Equal(t, ratingNotAppropriate, r.rating())
	require.Equal(t, "closed", c.svc.breaker.stateName())
	require.Equal(t, ratingNotAppropriate, call().rating())
	require.Equal(t, cfg.breakerFailures+3, gpc.callCount())
}

// TestUpstreamData: what each mode does with bad data from GP Connect.
func TestUpstreamData(t *testing.T) {
	twoWeeks := time.Now().Add(-14 * 24 * time.Hour)
	huge := strings.Repeat("Low back pain \x1b[31m\u202e\r\n", 80_000) // ~1.5 MB with control and bidi characters
	tests := []struct {
		name      string
		b         gpcBehaviour
		naive     func(t *testing.T, r hookResult)
		resilient func(t *testing.T, r hookResult)
	}{
		{
			name: "number where the problem display should be",
			b:    gpcBehaviour{body: bundleOf(condition("279039007", 12345, twoWeeks))},
			naive: func(t *testing.T, r hookResult) {
				require.Equal(t, http.StatusOK, r.status)
				require.IsType(t, float64(0), r.cards()[0]["summary"], "the wrong-typed upstream value reached the host as the card summary")
			},
			resilient: requireUnavailable,
		},
		{
			name: "object where the problem display should be",
			b:    gpcBehaviour{body: bundleOf(condition("279039007", map[string]any{"div": "<script>alert(1)</script>"}, twoWeeks))},
			naive: func(t *testing.T, r hookResult) {
				require.IsType(t, map[string]any{}, r.cards()[0]["summary"])
			},
			resilient: requireUnavailable,
		},
		{
			name: "huge display text with control characters",
			b:    gpcBehaviour{body: bundleOf(condition("279039007", huge, twoWeeks))},
			naive: func(t *testing.T, r hookResult) {
				s := r.cards()[0]["summary"].(string)
				require.Greater(t, len(s), 1_000_000, "the whole upstream string is the summary")
				require.Contains(t, s, "\x1b[31m")
			},
			resilient: func(t *testing.T, r hookResult) {
				require.Equal(t, http.StatusOK, r.status)
				requireWellFormed(t, r)
				require.Equal(t, ratingNotAppropriate, r.rating())
				require.NotContains(t, r.cards()[0]["detail"], "\u202e")
			},
		},
		{
			name:      "invalid JSON",
			b:         gpcBehaviour{body: []byte(`{"resourceType":"Bundle","entry":[{"resource":`)},
			naive:     func(t *testing.T, r hookResult) { require.Equal(t, http.StatusInternalServerError, r.status) },
			resilient: requireUnavailable,
		},
		{
			name:      "not a Bundle",
			b:         gpcBehaviour{body: []byte(`{"resourceType":"OperationOutcome"}`)},
			naive:     func(t *testing.T, r hookResult) { require.Equal(t, ratingNoGuidelines, r.rating()) },
			resilient: requireUnavailable,
		},
		{
			name:      "SSP 502",
			b:         gpcBehaviour{status: http.StatusBadGateway},
			naive:     func(t *testing.T, r hookResult) { require.Equal(t, http.StatusInternalServerError, r.status) },
			resilient: requireUnavailable,
		},
		{
			name:      "SSP 504",
			b:         gpcBehaviour{status: http.StatusGatewayTimeout},
			naive:     func(t *testing.T, r hookResult) { require.Equal(t, http.StatusInternalServerError, r.status) },
			resilient: requireUnavailable,
		},
		{
			name:      "SSP 599",
			b:         gpcBehaviour{status: 599},
			naive:     func(t *testing.T, r hookResult) { require.Equal(t, http.StatusInternalServerError, r.status) },
			resilient: requireUnavailable,
		},
		{
			name:      "404 patient not found",
			b:         gpcBehaviour{status: http.StatusNotFound},
			naive:     func(t *testing.T, r hookResult) { require.Equal(t, http.StatusInternalServerError, r.status) },
			resilient: requireUnavailable,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []string{modeNaive, modeResilient} {
				t.Run(mode, func(t *testing.T) {
					host := newFakeHost(t)
					gpc := newFakeGPC(t, acuteBackPain())
					gpc.set(tc.b)
					c := startService(t, testConfig(mode, gpc, host), host, nil)
					r := c.post(t, serviceOrderSelect, hookBody("order-select", "", mriLumbar()))
					if mode == modeNaive {
						tc.naive(t, r)
					} else {
						tc.resilient(t, r)
					}
				})
			}
		})
	}
}

func TestHugeRecord(t *testing.T) {
	// A valid 20 MB record: the problem list plus a very large narrative.
	pad := map[string]any{"resourceType": "DocumentReference", "description": strings.Repeat("x", 20<<20)}
	rec := bundleOf(condition("279039007", "Low back pain", time.Now().Add(-14*24*time.Hour)), pad)
	require.Greater(t, len(rec), 20<<20)
	tests := []struct {
		name  string
		mode  string
		check func(t *testing.T, r hookResult, gpc *fakeGPC)
	}{
		{name: "naive reads all 20 MB", mode: modeNaive, check: func(t *testing.T, r hookResult, gpc *fakeGPC) {
			require.Equal(t, ratingNotAppropriate, r.rating())
			require.EqualValues(t, len(rec), gpc.lastCall().written)
		}},
		{name: "resilient refuses over --max-record-bytes", mode: modeResilient, check: func(t *testing.T, r hookResult, gpc *fakeGPC) {
			requireUnavailable(t, r)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := newFakeHost(t)
			gpc := newFakeGPC(t, rec)
			c := startService(t, testConfig(tc.mode, gpc, host), host, nil)
			r := c.post(t, serviceOrderSelect, hookBody("order-select", "", mriLumbar()))
			tc.check(t, r, gpc)
		})
	}
}

func TestBadHookRequests(t *testing.T) {
	host := newFakeHost(t)
	gpc := newFakeGPC(t, acuteBackPain())
	c := startService(t, testConfig(modeResilient, gpc, host), host, nil)
	tests := []struct {
		name    string
		service string
		body    func() map[string]any
		want    int
		errPart string
	}{
		{name: "hook does not match the service", service: serviceOrderSign, body: func() map[string]any {
			return hookBody("order-select", "", mriLumbar())
		}, want: 400, errPart: "does not match"},
		{name: "patient is not an NHS number", service: serviceOrderSelect, body: func() map[string]any {
			b := hookBody("order-select", "", mriLumbar())
			b["context"].(map[string]any)["patientId"] = "MRI-59879846"
			return b
		}, want: 400, errPart: "NHS number"},
		{name: "Patient/<nhs> is accepted", service: serviceOrderSelect, body: func() map[string]any {
			b := hookBody("order-select", "", mriLumbar())
			b["context"].(map[string]any)["patientId"] = "Patient/" + testPatient
			return b
		}, want: 200},
		{name: "fhirServer on a real NHS host is refused", service: serviceOrderSelect, body: func() map[string]any {
			return hookBody("order-select", "https://gpconnect.nhs.uk/fhir", mriLumbar())
		}, want: 400, errPart: "real NHS host"},
		{name: "unknown service", service: "nope", body: func() map[string]any {
			return hookBody("order-select", "", mriLumbar())
		}, want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post(t, tc.service, tc.body())
			require.Equal(t, tc.want, r.status, "body %s", r.raw)
			if tc.errPart != "" {
				require.Contains(t, r.body["error"], tc.errPart)
			}
		})
	}
}

func TestFeedback(t *testing.T) {
	host := newFakeHost(t)
	gpc := newFakeGPC(t, acuteBackPain())
	c := startService(t, testConfig(modeResilient, gpc, host), host, nil)
	url := c.url + "/cds-services/" + serviceOrderSelect + "/feedback"
	fb := map[string]any{"feedback": []any{map[string]any{"card": newUUID(), "outcome": "accepted", "outcomeTimestamp": time.Now().Format(time.RFC3339)}}}
	js, err := json.Marshal(fb)
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{name: "signed", token: host.token(t, time.Now(), c.url+"/cds-services/"+serviceOrderSelect, tokenOpts{}), want: 200},
		{name: "unsigned", token: "", want: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(js))
			require.NoError(t, err)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode)
		})
	}
	require.EqualValues(t, 1, c.svc.feedback.Load())
}
