package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// testLogWriter sends log lines to t.Log until the test ends (background
// goroutines may log after that).
type testLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && os.Getenv("GATEWAY_TEST_LOGS") != "" {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testConfig is a configuration with test timings: short but realistic in
// proportion.
func testConfig(mode, ersURL, stateDir string) config {
	return config{
		mode:             mode,
		listen:           "127.0.0.1:0",
		ersURL:           ersURL,
		stateDir:         stateDir,
		token:            testToken,
		odsCode:          testODS,
		businessFunction: testBF,
		workers:          4,
		attemptTimeout:   2 * time.Second,
		backoffBase:      20 * time.Millisecond,
		backoffCap:       200 * time.Millisecond,
		settle:           500 * time.Millisecond,
		shutdownGrace:    5 * time.Second,
	}
}

// gatewayUnderTest is an in-process gateway behind an httptest server.
type gatewayUnderTest struct {
	srv *httptest.Server
	gw  gateway
}

// startResilient opens a resilient gateway on dir; it sends only if send.
func startResilient(t *testing.T, cfg config, send bool) *gatewayUnderTest {
	t.Helper()
	r, err := openResilient(cfg, testLogger(t))
	require.NoError(t, err)
	g := &gatewayUnderTest{srv: httptest.NewServer(r.handler()), gw: r}
	if send {
		r.start()
	}
	t.Cleanup(func() { g.stop(t) })
	return g
}

func startNaive(t *testing.T, cfg config) *gatewayUnderTest {
	t.Helper()
	n := newNaive(cfg, testLogger(t))
	g := &gatewayUnderTest{srv: httptest.NewServer(n.handler()), gw: n}
	t.Cleanup(func() { g.stop(t) })
	return g
}

// stop is the process-equivalent of a graceful exit. It is idempotent.
func (g *gatewayUnderTest) stop(t *testing.T) {
	if g.srv == nil {
		return
	}
	g.srv.Close()
	g.srv = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, g.gw.shutdown(ctx))
}

type apiResponse struct {
	Status int
	Body   map[string]any
}

func (a apiResponse) str(key string) string {
	s, _ := a.Body[key].(string)
	return s
}

func doJSON(t testing.TB, method, url string, body any) apiResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = bytes.NewBufferString(b)
		default:
			js, err := json.Marshal(b)
			require.NoError(t, err)
			rd = bytes.NewReader(js)
		}
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := apiResponse{Status: resp.StatusCode}
	require.NoError(t, json.Unmarshal(raw, &out.Body), "body: %s", raw)
	return out
}

func referralFor(requestID, nhs string) referral {
	return referral{RequestID: requestID, NHSNumber: nhs, ServiceID: "11002", Priority: "ROUTINE",
		Specialty: "CARDIOLOGY", ClinicType: "HEART_FAILURE"}
}

// patients returns n distinct synthetic NHS numbers.
func patients(seed uint64, n int) []string {
	g := synthetic.NewNHSNumbers(seed)
	out := make([]string, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func (g *gatewayUnderTest) post(t testing.TB, ref referral) apiResponse {
	return doJSON(t, http.MethodPost, g.srv.URL+"/referrals", ref)
}

func (g *gatewayUnderTest) status(t testing.TB, requestID string) apiResponse {
	return doJSON(t, http.MethodGet, g.srv.URL+"/referrals/"+requestID, nil)
}

// waitState polls GET /referrals/{id} until it shows want, or fails at the
// deadline with the last answer.
func waitState(t *testing.T, baseURL, requestID string, want state, within time.Duration) apiResponse {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last apiResponse
	for {
		last = doJSON(t, http.MethodGet, baseURL+"/referrals/"+requestID, nil)
		if last.str("state") == string(want) {
			return last
		}
		if time.Now().After(deadline) {
			require.FailNow(t, fmt.Sprintf("referral %s did not reach state %q within %v", requestID, want, within),
				"last answer: %d %v", last.Status, last.Body)
		}
		<-tick.C
	}
}
