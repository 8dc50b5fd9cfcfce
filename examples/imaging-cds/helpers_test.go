package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("IMAGING_CDS_TEST_LOGS") != "" {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func testConfig(mode string, gpc *fakeGPC, host *fakeHost) config {
	return config{
		mode: mode, listen: "127.0.0.1:0",
		gpconnectURL: gpc.base, jwksURL: host.jwks.URL, issuer: testIssuer,
		consumerASID: testConsumerASID, providerASID: testProviderASID, consumerODS: testODS,
		shutdownGrace: 5 * time.Second, budget: 5 * time.Second, // roomy: a loaded CI machine must not turn a healthy call into a timeout
		cacheTTL:       5 * time.Minute,
		maxRecordBytes: 4 << 20, breakerFailures: 3, breakerCooldown: 30 * time.Second,
	}
}

// cdsUnderTest is an in-process service behind an httptest server whose
// URL is the service's self URL.
type cdsUnderTest struct {
	url   string
	svc   *service
	host  *fakeHost
	clock *fakeClock
}

func startService(t *testing.T, cfg config, host *fakeHost, clock *fakeClock) *cdsUnderTest {
	t.Helper()
	if clock == nil {
		clock = newFakeClock()
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.selfURL = "http://" + srv.Listener.Addr().String()
	svc := newService(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})), clock.now)
	srv.Config.Handler = svc.handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &cdsUnderTest{url: srv.URL, svc: svc, host: host, clock: clock}
}

// testPatient is a valid synthetic NHS number.
var testPatient = synthetic.NewNHSNumbers(42).Next()

// serviceRequest is a draft imaging order.
func serviceRequest(id, cpt, text, reasonCode, reasonDisplay string) map[string]any {
	sr := map[string]any{
		"resourceType": "ServiceRequest", "id": id, "status": "draft", "intent": "plan",
		"code":    map[string]any{"coding": []any{map[string]any{"system": "http://www.ama-assn.org/go/cpt", "code": cpt}}, "text": text},
		"subject": map[string]any{"reference": "Patient/" + testPatient},
	}
	if reasonCode != "" {
		sr["reasonCode"] = []any{map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": reasonCode, "display": reasonDisplay}}}}
	}
	return sr
}

func mriLumbar() map[string]any {
	return serviceRequest("sr-mri-1", "72148", "MRI lumbar spine", "279039007", "Low back pain")
}

// hookBody is a CDS Hooks request for hook with the given draft orders.
func hookBody(hook, fhirServer string, orders ...map[string]any) map[string]any {
	var entries []any
	var selections []string
	for _, o := range orders {
		entries = append(entries, map[string]any{"resource": o})
		selections = append(selections, "ServiceRequest/"+o["id"].(string))
	}
	ctx := map[string]any{
		"userId": "Practitioner/gp-123", "patientId": testPatient,
		"draftOrders": map[string]any{"resourceType": "Bundle", "type": "collection", "entry": entries},
	}
	if hook == "order-select" {
		ctx["selections"] = selections
	}
	body := map[string]any{"hook": hook, "hookInstance": newUUID(), "context": ctx}
	if fhirServer != "" {
		body["fhirServer"] = fhirServer
	}
	return body
}

type hookResult struct {
	status  int
	raw     []byte
	body    map[string]any
	elapsed time.Duration
}

func (r hookResult) cards() []map[string]any {
	cs, _ := r.body["cards"].([]any)
	out := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.(map[string]any))
	}
	return out
}

// rating is the PAMA rating code in the first system action.
func (r hookResult) rating() string {
	acts, _ := r.body["systemActions"].([]any)
	if len(acts) == 0 {
		return ""
	}
	res := acts[0].(map[string]any)["resource"].(map[string]any)
	for _, e := range res["extension"].([]any) {
		em := e.(map[string]any)
		if em["url"] == pamaRatingURL {
			return em["valueCodeableConcept"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		}
	}
	return ""
}

// post sends a hook call with a token for the service's own endpoint.
func (c *cdsUnderTest) post(t testing.TB, serviceID string, body any) hookResult {
	t.Helper()
	tok := c.host.token(t, c.clock.now(), c.url+"/cds-services/"+serviceID, tokenOpts{})
	return postHook(t, c.url+"/cds-services/"+serviceID, tok, body)
}

func postHook(t testing.TB, url, token string, body any) hookResult {
	t.Helper()
	js, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(js))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	elapsed := time.Since(start)
	require.NoError(t, err)
	out := hookResult{status: resp.StatusCode, raw: raw, elapsed: elapsed}
	require.NoError(t, json.Unmarshal(raw, &out.body), "body: %.300s", raw)
	return out
}

// requireUnavailable checks a resilient "not rated" answer.
func requireUnavailable(t *testing.T, r hookResult) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body %.300s", r.raw)
	cards := r.cards()
	require.Len(t, cards, 1)
	require.Equal(t, unavailableSummary, cards[0]["summary"])
	require.Equal(t, "info", cards[0]["indicator"])
	require.Empty(t, r.body["systemActions"])
}

// requireWellFormed checks every card against the CDS Hooks card shape
// and resilient mode's text limits.
func requireWellFormed(t *testing.T, r hookResult) {
	t.Helper()
	for _, c := range r.cards() {
		summary, ok := c["summary"].(string)
		require.True(t, ok, "summary must be a string: %T", c["summary"])
		require.NotEmpty(t, summary)
		require.LessOrEqual(t, len([]rune(summary)), maxSummary)
		if d, present := c["detail"]; present {
			detail, ok := d.(string)
			require.True(t, ok, "detail must be a string: %T", d)
			require.LessOrEqual(t, len([]rune(detail)), maxDetail)
			for _, r := range detail + summary {
				require.False(t, r < 0x20 || r == 0x7f, "control character %U in card text", r)
			}
		}
		require.Contains(t, []any{"info", "warning", "critical"}, c["indicator"])
		require.Equal(t, sourceLabel, c["source"].(map[string]any)["label"])
	}
}
