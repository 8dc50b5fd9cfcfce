package cdshooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

// findReferenceDir finds /work/shared/reference/cdshooks relative to this
// file (the repository is .../main and shared is its sibling), or
// SHAKEDOWN_CDSHOOKS_REFERENCE. It returns "" and the places it looked when
// the vectors are not there.
func findReferenceDir() (string, []string) {
	_, file, _, _ := runtime.Caller(0)
	candidates := []string{
		filepath.Join(filepath.Dir(file), "..", "testdata", "reference", "cdshooks"),
		filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "reference", "cdshooks"),
		filepath.Join(filepath.Dir(file), "..", "..", "shared", "reference", "cdshooks"),
	}
	if env := os.Getenv("SHAKEDOWN_CDSHOOKS_REFERENCE"); env != "" {
		candidates = append([]string{env}, candidates...)
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "pama-scenario-01-outbound-request.json")); err == nil {
			return c, candidates
		}
	}
	return "", candidates
}

// referenceDir returns the PAMA vector directory or skips the test.
func referenceDir(t testing.TB) string {
	t.Helper()
	dir, looked := findReferenceDir()
	if dir == "" {
		t.Fatalf("CDS Hooks PAMA vectors not found (they are vendored in mocks/testdata/reference) (looked in %s); set SHAKEDOWN_CDSHOOKS_REFERENCE to the directory holding pama-scenario-*.json", strings.Join(looked, ", "))
	}
	return dir
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(referenceDir(t), name))
	require.NoError(t, err)
	return b
}

func newSigner(t *testing.T) *cdshooks.Signer {
	t.Helper()
	s, err := cdshooks.NewSigner()
	require.NoError(t, err)
	return s
}

// captured is one request a test CDS service received.
type captured struct {
	Method, Path, Auth string
	ContentType        string
	Body               []byte
}

// recorder is a concurrency-safe list of captured requests.
type recorder struct {
	mu   sync.Mutex
	reqs []captured
}

func (r *recorder) add(req *http.Request) captured {
	b, _ := io.ReadAll(req.Body)
	c := captured{Method: req.Method, Path: req.URL.Path, Auth: req.Header.Get("Authorization"), ContentType: req.Header.Get("Content-Type"), Body: b}
	r.mu.Lock()
	r.reqs = append(r.reqs, c)
	r.mu.Unlock()
	return c
}

func (r *recorder) all() []captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]captured(nil), r.reqs...)
}

// service is a test CDS service on httptest: a discovery document, and one
// answer function per service id.
type service struct {
	srv       *httptest.Server
	rec       *recorder
	discovery cdshooks.Discovery
}

func (s *service) base() string { return s.srv.URL + "/cds-services" }

// newService starts a test CDS service. answer is called for POSTs to
// /cds-services/{id} and /cds-services/{id}/feedback.
func newService(t *testing.T, d cdshooks.Discovery, answer func(w http.ResponseWriter, r *http.Request, c captured)) *service {
	t.Helper()
	s := &service{rec: &recorder{}, discovery: d}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.rec.add(r)
		if r.Method == http.MethodGet && r.URL.Path == "/cds-services" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(s.discovery)
			return
		}
		answer(w, r, c)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// pamaDiscovery is the discovery document of an iRefer-like service.
var pamaDiscovery = cdshooks.Discovery{Services: []cdshooks.Service{
	{Hook: "order-select", ID: "pama-imaging", Title: "Imaging appropriateness", Description: "Rates draft imaging orders against appropriateness criteria.",
		Prefetch: map[string]string{"patient": "Patient/{{context.patientId}}"}},
	{Hook: "order-sign", ID: "pama-imaging-sign", Title: "Imaging appropriateness at signing", Description: "Rates imaging orders before signing."},
}}

// hostFor makes a host aimed at base with small defaults for tests.
func hostFor(t *testing.T, base string, mutate func(*cdshooks.HostConfig)) (*cdshooks.Host, *cdshooks.Signer, *journal.Journal) {
	t.Helper()
	signer := newSigner(t)
	j := journal.New("gpconnect", nil)
	cfg := cdshooks.HostConfig{
		ServiceBase: base,
		FHIRServer:  "http://127.0.0.1:9/gpconnect/fhir",
		Issuer:      "https://gp-system.shakedown.invalid",
		JWKSURL:     "http://127.0.0.1:9/.well-known/jwks.json",
		Signer:      signer,
		Journal:     j,
		Budget:      2 * time.Second,
		HardTimeout: 10 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := cdshooks.NewHost(cfg)
	require.NoError(t, err)
	return h, signer, j
}

// handlerTransport serves requests by calling a handler in-process, so that
// hosts can be timed inside a synctest bubble (no real network, fake clock).
// The handler sees the request's context: when the host gives up, the
// handler's context ends.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		ht.h.ServeHTTP(rec, req)
		done <- rec
	}()
	select {
	case rec := <-done:
		res := rec.Result()
		res.Request = req
		return res, nil
	case <-req.Context().Done():
		return nil, context.Cause(req.Context())
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	require.NoError(t, dec.Decode(&m))
	return m
}
