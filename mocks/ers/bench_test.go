package ers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// BenchmarkCreateReferral measures A011 through the mock's full handler
// (headers, media types, decoding, validation, state, journal, in-band
// middleware) and reports it as a ratio to an anchor measured in the same
// run: a bare handler that decodes the same body and encodes a response of
// the same size. The ratio, not the absolute time, is the target: the mock
// must stay within a small multiple of the cost of merely parsing FHIR JSON.
func BenchmarkCreateReferral(b *testing.B) {
	nhs := synthetic.NewNHSNumbers(1)
	m := New(WithSeed(1))
	c := m.Credentials()
	request := func(body []byte) *http.Request {
		req := httptest.NewRequest(http.MethodPost, BasePath+"/STU3/ReferralRequest/$ers.createReferral", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.Token)
		req.Header.Set(headerODS, c.ODSCode)
		req.Header.Set(headerBusinessFunction, c.BusinessFunction)
		req.Header.Set("Accept", "application/fhir+json")
		req.Header.Set("Content-Type", "application/fhir+json")
		return req
	}
	sample := httptest.NewRecorder()
	m.Handler().ServeHTTP(sample, request(minimalCreate(nhs.Next())))
	if sample.Code != http.StatusCreated {
		b.Fatalf("createReferral answered %d: %s", sample.Code, sample.Body)
	}
	response := sample.Body.Bytes()

	anchorBody := minimalCreate(nhs.Next())
	anchor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in, out map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		_ = json.Unmarshal(response, &out)
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(out)
	})

	bodies := make([][]byte, 0, 4096)
	for range cap(bodies) {
		bodies = append(bodies, minimalCreate(nhs.Next()))
	}
	h := m.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(bodies[i%len(bodies)]))
		i++
	}
	subject := b.Elapsed()
	// The anchor runs as many iterations, timed by hand (testing.Benchmark
	// cannot nest inside a running benchmark).
	start := time.Now()
	for range b.N {
		anchor.ServeHTTP(httptest.NewRecorder(), request(anchorBody))
	}
	b.ReportMetric(float64(subject)/float64(max(time.Since(start), 1)), "x-anchor")
}
