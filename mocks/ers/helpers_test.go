package ers

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testNow is the fixed clock tests use: after the examples' pathway start
// (2024-05-01) and within 365 days of it.
var testNow = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// startMock serves a mock on 127.0.0.1:0 for the test.
func startMock(t *testing.T, opts ...Option) *Mock {
	t.Helper()
	m := New(append([]Option{WithSeed(42), WithClock(fixedClock)}, opts...)...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Start(l)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
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

// call sends a request as a well-behaved client would, after edit changes
// the headers.
func call(t *testing.T, m *Mock, method, path string, body []byte, edit func(h http.Header)) reply {
	t.Helper()
	rep, err := tryCall(m, method, path, body, edit)
	require.NoError(t, err)
	return rep
}

func tryCall(m *Mock, method, path string, body []byte, edit func(h http.Header)) (reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+m.Addr()+path, rd)
	if err != nil {
		return reply{}, err
	}
	c := m.Credentials()
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set(headerODS, c.ODSCode)
	req.Header.Set(headerBusinessFunction, c.BusinessFunction)
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set(headerCorrelationID, "corr-test")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if edit != nil {
		edit(req.Header)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func asProvider(m *Mock) func(h http.Header) {
	return func(h http.Header) {
		h.Set(headerODS, m.ProviderODS())
		h.Set(headerBusinessFunction, BFServiceProviderClinician)
	}
}

// referenceDir finds /work/shared/reference/ers relative to this file: the
// repository is .../main and shared is its sibling.
func referenceDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	candidates := []string{
		filepath.Join(filepath.Dir(file), "..", "testdata", "reference", "ers"),
		filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "reference", "ers"),
		filepath.Join(filepath.Dir(file), "..", "..", "shared", "reference", "ers"),
	}
	if env := os.Getenv("SHAKEDOWN_ERS_REFERENCE"); env != "" {
		candidates = append([]string{env}, candidates...)
	}
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(c, "sandbox", "src", "mocks", "stu3")); err == nil && st.IsDir() {
			return c
		}
	}
	t.Fatalf("e-RS reference vectors not found (they are vendored in mocks/testdata/reference) (looked in %s); set SHAKEDOWN_ERS_REFERENCE to the directory holding sandbox/ and specification/", strings.Join(candidates, ", "))
	return ""
}

func readVector(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{referenceDir(t)}, parts...)...))
	require.NoError(t, err)
	return b
}

// minimalCreate is a valid A011 body for nhs.
func minimalCreate(nhs string, services ...string) []byte {
	if len(services) == 0 {
		services = []string{"11002"}
	}
	var entries []string
	for _, s := range services {
		entries = append(entries, `{"item":{"identifier":{"system":"http://fhir.nhs.net/Id/ers-service","value":"`+s+`"}}}`)
	}
	return []byte(`{"resourceType":"Parameters","meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/eRS-CreateReferral-Parameters-1"]},"parameter":[
{"name":"patient","valueIdentifier":{"system":"http://fhir.nhs.net/Id/nhs-number","value":"` + nhs + `"}},
{"name":"intentionToAddReferralLetter","valueCoding":{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralLetterIntention-1","code":"NEED_TO_ADD_LATER"}},
{"name":"firstReminderLetterFollowUpDays","valueUnsignedInt":3},
{"name":"shortlist","resource":{"resourceType":"List","status":"current","mode":"snapshot",
 "contained":[{"resourceType":"Parameters","id":"c1","parameter":[
   {"name":"priority","valueCoding":{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1","code":"URGENT"}},
   {"name":"specialty","valueCoding":{"system":"_baseUrl_/STU3/CodeSystem/SPECIALTY","code":"CARDIOLOGY"}},
   {"name":"ageAndGenderAppropriate","valueBoolean":false}]}],
 "entry":[` + strings.Join(entries, ",") + `],
 "extension":[{"url":"https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-Shortlist-SearchCriteria-1","valueReference":{"reference":"#c1"}}]}}]}`)
}

func worklistBody(list string) []byte {
	return []byte(`{"resourceType":"Parameters","parameter":[{"name":"listType","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1","code":"` + list + `"}]}}]}`)
}

func cancelBody(reason, comment string) []byte {
	b := `{"resourceType":"Parameters","parameter":[{"name":"cancellationReason","valueCoding":{"system":"_baseurl_/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON","code":"` + reason + `"}}`
	if comment != "" {
		b += `,{"name":"cancellationComments","valueString":"` + comment + `"}`
	}
	return []byte(b + `]}`)
}

const (
	pathCreate   = BasePath + "/STU3/ReferralRequest/$ers.createReferral"
	pathTriage   = BasePath + "/STU3/ReferralRequest/$ers.createReferralAndSendForTriage"
	pathWorklist = BasePath + "/STU3/ReferralRequest/$ers.fetchworklist"
	pathRoles    = BasePath + "/R4/PractitionerRole"
)

func pathReferral(ubrn string) string { return BasePath + "/STU3/ReferralRequest/" + ubrn }
func pathCancel(ubrn string) string {
	return BasePath + "/STU3/ReferralRequest/" + ubrn + "/$ers.cancelReferral"
}

// create makes a referral and returns its UBRN.
func create(t *testing.T, m *Mock, nhs string) string {
	t.Helper()
	rep := call(t, m, http.MethodPost, pathCreate, minimalCreate(nhs), nil)
	require.Equal(t, http.StatusCreated, rep.status, "body: %s", rep.body)
	return rep.json(t)["id"].(string)
}
