package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test identities (all synthetic).
const (
	testConsumerASID = "200000000359"
	testProviderASID = "918999198993"
	testODS          = "Y01234"
	testIssuer       = "https://host.shakedown.invalid"
	testKid          = "host-key-1"
	fhirBasePath     = "/B82617/STU3/1/gpconnect/fhir"
)

// fakeClock is a settable clock for cache and breaker tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeHost is the CDS Hooks host's signing side: an ES384 key and the JWKS
// it publishes.
type fakeHost struct {
	key   *ecdsa.PrivateKey
	other *ecdsa.PrivateKey // a key the JWKS does not publish
	jwks  *httptest.Server
	mu    sync.Mutex
	gets  int
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	h := &fakeHost{}
	var err error
	h.key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	h.other, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	pub, err := h.key.PublicKey.Bytes() // 0x04 || X || Y
	require.NoError(t, err)
	set := map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-384", "kid": testKid, "alg": "ES384", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(pub[1:49]),
		"y": base64.RawURLEncoding.EncodeToString(pub[49:]),
	}}}
	h.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		h.gets++
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(h.jwks.Close)
	return h
}

func (h *fakeHost) jwksGets() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gets
}

// tokenOpts changes one thing about an otherwise valid token.
type tokenOpts struct {
	alg       string
	kid       string
	key       *ecdsa.PrivateKey
	aud       any
	iss       string
	expOffset time.Duration // from now; default +5m
	noSig     bool
}

// token signs a host JWT for aud at time now.
func (h *fakeHost) token(t testing.TB, now time.Time, aud string, o tokenOpts) string {
	t.Helper()
	hdr := map[string]string{"alg": "ES384", "typ": "JWT", "kid": testKid}
	if o.alg != "" {
		hdr["alg"] = o.alg
	}
	if o.kid != "" {
		hdr["kid"] = o.kid
	}
	claims := map[string]any{"iss": testIssuer, "aud": aud, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": newUUID()}
	if o.aud != nil {
		claims["aud"] = o.aud
	}
	if o.iss != "" {
		claims["iss"] = o.iss
	}
	if o.expOffset != 0 {
		claims["exp"] = now.Add(o.expOffset).Unix()
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(hdr) + "." + enc(claims)
	if o.noSig {
		return signing + "."
	}
	key := h.key
	if o.key != nil {
		key = o.key
	}
	digest := sha512.Sum384([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	require.NoError(t, err)
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// gpcBehaviour is how the fake GP Connect answers.
type gpcBehaviour struct {
	delay       time.Duration // before answering (ends early if the client goes away)
	status      int           // 0 means 200
	body        []byte        // nil means the default record
	contentType string
}

// gpcCall is what one request carried, and what was wrong with it.
type gpcCall struct {
	headers  http.Header
	claims   map[string]any
	params   map[string]any
	problems []string
	written  int64 // response bytes written
}

// fakeGPC is GP Connect's structured record endpoint behind the SSP.
type fakeGPC struct {
	srv  *httptest.Server
	base string // FHIR base URL

	mu     sync.Mutex
	next   gpcBehaviour
	record []byte
	calls  []gpcCall
}

func newFakeGPC(t *testing.T, record []byte) *fakeGPC {
	t.Helper()
	f := &fakeGPC{record: record}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.base = f.srv.URL + fhirBasePath
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGPC) set(b gpcBehaviour) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = b
}

func (f *fakeGPC) setRecord(rec []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record = rec
}

func (f *fakeGPC) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeGPC) lastCall() gpcCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (f *fakeGPC) serve(w http.ResponseWriter, r *http.Request) {
	call := gpcCall{headers: r.Header.Clone()}
	problem := func(format string, a ...any) { call.problems = append(call.problems, fmt.Sprintf(format, a...)) }
	if r.Method != http.MethodPost || r.URL.Path != fhirBasePath+"/Patient/$gpc.getstructuredrecord" {
		problem("unexpected %s %s", r.Method, r.URL.Path)
	}
	if !uuidRE.MatchString(r.Header.Get("Ssp-TraceID")) {
		problem("Ssp-TraceID %q is not a UUID", r.Header.Get("Ssp-TraceID"))
	}
	for h, want := range map[string]string{
		"Ssp-From": testConsumerASID, "Ssp-To": testProviderASID, "Ssp-InteractionID": interactionStructured,
		"Accept": fhirJSON, "Content-Type": fhirJSON,
	} {
		if got := r.Header.Get(h); got != want {
			problem("%s is %q, want %q", h, got, want)
		}
	}
	call.claims = checkGPCToken(r.Header.Get("Authorization"), f.base, problem)
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &call.params); err != nil || call.params["resourceType"] != "Parameters" {
		problem("body is not a Parameters resource: %s", body)
	}

	f.mu.Lock()
	b, rec := f.next, f.record
	f.mu.Unlock()

	if b.delay > 0 {
		select {
		case <-time.After(b.delay):
		case <-r.Context().Done():
		}
	}
	if b.status != 0 && b.status != http.StatusOK {
		w.Header().Set("Content-Type", fhirJSON)
		w.WriteHeader(b.status)
		_, _ = fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient","diagnostics":"ERROR_COMMUNICATING_TO_ENDPOINT_URL_%d"}]}`, b.status)
	} else {
		out := rec
		if b.body != nil {
			out = b.body
		}
		ct := fhirJSON + ";charset=utf-8"
		if b.contentType != "" {
			ct = b.contentType
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		n, _ := io.Copy(w, bytes.NewReader(out))
		call.written = n
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
}

// checkGPCToken checks the GP Connect unsigned JWT as a provider would.
func checkGPCToken(auth, aud string, problem func(string, ...any)) map[string]any {
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		problem("Authorization is not Bearer: %q", auth)
		return nil
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[2] != "" {
		problem("JWT is not unsigned with a trailing '.': %q", token)
		return nil
	}
	var hdr, claims map[string]any
	for i, v := range []*map[string]any{&hdr, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, v) != nil {
			problem("JWT part %d is not base64url JSON", i)
			return nil
		}
	}
	if hdr["alg"] != "none" {
		problem("JWT alg is %v, want none", hdr["alg"])
	}
	for _, c := range []string{"iss", "sub", "aud", "iat", "exp", "reason_for_request", "requested_scope",
		"requesting_device", "requesting_organization", "requesting_practitioner"} {
		if claims[c] == nil || claims[c] == "" {
			problem("JWT claim %s is missing", c)
		}
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat != 300 {
		problem("exp-iat is %v, want 300", exp-iat)
	}
	if claims["aud"] != aud {
		problem("aud is %v, want %s", claims["aud"], aud)
	}
	if claims["reason_for_request"] != "directcare" || claims["requested_scope"] != "patient/*.read" {
		problem("reason/scope: %v %v", claims["reason_for_request"], claims["requested_scope"])
	}
	for claim, rt := range map[string]string{"requesting_device": "Device", "requesting_organization": "Organization", "requesting_practitioner": "Practitioner"} {
		res, _ := claims[claim].(map[string]any)
		if res["resourceType"] != rt {
			problem("%s is not a %s resource", claim, rt)
		}
	}
	org, _ := claims["requesting_organization"].(map[string]any)
	ids, _ := org["identifier"].([]any)
	if len(ids) == 0 || ids[0].(map[string]any)["system"] != odsSystem || ids[0].(map[string]any)["value"] != testODS {
		problem("requesting_organization has no ODS identifier %s: %v", testODS, org)
	}
	prac, _ := claims["requesting_practitioner"].(map[string]any)
	if prac["id"] != claims["sub"] {
		problem("sub %v is not requesting_practitioner.id %v", claims["sub"], prac["id"])
	}
	return claims
}

// Record builders (STU3 structured record shapes).

func bundleOf(entries ...map[string]any) []byte {
	es := []any{map[string]any{"resource": map[string]any{
		"resourceType": "Patient", "id": "p1",
		"identifier": []any{map[string]any{"system": nhsNumberSystem, "value": "9990000018"}},
	}}}
	for _, e := range entries {
		es = append(es, map[string]any{"resource": e})
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "collection", "entry": es})
	if err != nil {
		panic(err)
	}
	return b
}

// condition is a problem; display may be any JSON value (to break it).
func condition(code string, display any, onset time.Time) map[string]any {
	c := map[string]any{
		"resourceType": "Condition", "clinicalStatus": "active", "category": "problem-list-item",
		"code": map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": code, "display": display}}},
	}
	if !onset.IsZero() {
		c["onsetDateTime"] = onset.UTC().Format(time.RFC3339)
	}
	return c
}

func observationOf(display string, value float64, unit string, when time.Time) map[string]any {
	return map[string]any{
		"resourceType": "Observation", "status": "final",
		"code":              map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "x", "display": display}}},
		"effectiveDateTime": when.UTC().Format(time.RFC3339),
		"valueQuantity":     map[string]any{"value": value, "unit": unit},
	}
}
