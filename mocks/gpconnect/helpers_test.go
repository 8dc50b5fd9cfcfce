package gpconnect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testNow is the fixed clock tests use.
var testNow = time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// startMock serves a mock on 127.0.0.1:0 for the test.
func startMock(t *testing.T, opts ...Option) *Mock {
	t.Helper()
	m := New(append([]Option{WithSeed(42), WithClock(fixedClock), WithPatients(10)}, opts...)...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Start(l)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// jwtClaims returns a valid claim set for scope, as a consumer builds it.
func jwtClaims(c Credentials, scope string) map[string]any {
	iat := testNow.Unix()
	return map[string]any{
		"iss":                "https://consumer.example.test/",
		"sub":                "prac-1",
		"aud":                "https://provider.example.test/" + c.ODSCode + "/STU3/1/gpconnect/fhir",
		"exp":                iat + 300,
		"iat":                iat,
		"reason_for_request": "directcare",
		"requested_scope":    scope,
		"requesting_device": map[string]any{
			"resourceType": "Device",
			"identifier":   []any{map[string]any{"system": "https://consumer.example.test/Id/device", "value": "dev-1"}},
			"model":        "shakedown test", "version": "1.0",
		},
		"requesting_organization": map[string]any{
			"resourceType": "Organization",
			"identifier":   []any{map[string]any{"system": systemODS, "value": c.ConsumerODS}},
			"name":         "Consumer Test Organisation",
		},
		"requesting_practitioner": map[string]any{
			"resourceType": "Practitioner",
			"id":           "prac-1",
			"identifier": []any{
				map[string]any{"system": systemSDSUser, "value": "111222333444"},
				map[string]any{"system": systemSDSRole, "value": "444555666777"},
			},
			"name": []any{map[string]any{"family": "TESTER", "given": []any{"Alex"}, "prefix": []any{"Dr"}}},
		},
	}
}

// unsignedJWT encodes claims as an unsigned JWT (alg none, empty signature).
func unsignedJWT(t testing.TB, header, claims any) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func noneHeader() map[string]any { return map[string]any{"alg": "none", "typ": "JWT"} }

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %.2000s", r.body)
	return v
}

// errorCode returns the first issue's detail code and issue code.
func (r reply) errorCode(t *testing.T) (detail, issue string) {
	t.Helper()
	v := r.json(t)
	require.Equal(t, "OperationOutcome", v["resourceType"], "body: %s", r.body)
	is := v["issue"].([]any)[0].(map[string]any)
	issue, _ = is["code"].(string)
	if d, ok := is["details"].(map[string]any); ok {
		detail, _ = d["coding"].([]any)[0].(map[string]any)["code"].(string)
	}
	return detail, issue
}

// call sends a request as a well-behaved consumer would for interaction
// (with the matching JWT scope), after edit changes the headers. path is
// relative to BasePath unless it starts with "/".
func call(t *testing.T, m *Mock, method, path, interaction, scope string, body []byte, edit func(h http.Header)) reply {
	t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = m.BasePath() + "/" + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+m.Addr()+path, rd)
	require.NoError(t, err)
	c := m.Credentials()
	req.Header.Set("Ssp-TraceID", "0f7b8e4a-5a4f-4f43-9b59-1d2c5e6f7a80")
	req.Header.Set("Ssp-From", c.ConsumerASID)
	req.Header.Set("Ssp-To", c.ProviderASID)
	req.Header.Set("Ssp-InteractionID", interaction)
	req.Header.Set("Authorization", "Bearer "+unsignedJWT(t, noneHeader(), jwtClaims(c, scope)))
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if edit != nil {
		edit(req.Header)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// referenceDir finds /work/shared/reference/gpconnect/examples relative to
// this file: the repository is .../main and shared is its sibling.
func referenceDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	candidates := []string{
		filepath.Join(filepath.Dir(file), "..", "testdata", "reference", "gpconnect", "examples"),
		filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "reference", "gpconnect", "examples"),
		filepath.Join(filepath.Dir(file), "..", "..", "shared", "reference", "gpconnect", "examples"),
	}
	if env := os.Getenv("SHAKEDOWN_GPCONNECT_REFERENCE"); env != "" {
		candidates = append([]string{env}, candidates...)
	}
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(c, "foundations")); err == nil && st.IsDir() {
			return c
		}
	}
	t.Fatalf("GP Connect reference examples not found (they are vendored in mocks/testdata/reference) (looked in %s); set SHAKEDOWN_GPCONNECT_REFERENCE to the examples directory", strings.Join(candidates, ", "))
	return ""
}

// jekyllTag matches the Liquid tags ({% highlight json %}) the specification
// site wraps its examples in.
var jekyllTag = regexp.MustCompile(`\{%.*?%\}`)

// readExample reads an example file without its Jekyll wrapper.
func readExample(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(referenceDir(t), rel))
	require.NoError(t, err)
	return bytes.TrimSpace(jekyllTag.ReplaceAll(b, nil))
}

// recordRequestBody builds a $gpc.getstructuredrecord body.
func recordRequestBody(nhs string, params ...string) []byte {
	ps := append([]string{`{"name":"patientNHSNumber","valueIdentifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + nhs + `"}}`}, params...)
	return []byte(`{"resourceType":"Parameters","parameter":[` + strings.Join(ps, ",") + `]}`)
}

// allAreas asks for every clinical area the mock holds.
var allAreas = []string{
	`{"name":"includeAllergies","part":[{"name":"includeResolvedAllergies","valueBoolean":true}]}`,
	`{"name":"includeMedication","part":[{"name":"includePrescriptionIssues","valueBoolean":true}]}`,
	`{"name":"includeProblems"}`,
	`{"name":"includeInvestigations"}`,
	`{"name":"includeReferrals"}`,
}

func structuredRecord(t *testing.T, m *Mock, body []byte) reply {
	t.Helper()
	return call(t, m, http.MethodPost, "Patient/$gpc.getstructuredrecord", InteractionGetStructuredRecord, ScopePatientRead, body, nil)
}
