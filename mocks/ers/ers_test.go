package ers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

func TestNewDefaults(t *testing.T) {
	m := New(WithSeed(7))
	c := m.Credentials()
	require.Equal(t, "ers", m.Name())
	require.Equal(t, BasePath, m.BasePath())
	require.Equal(t, DefaultToken, c.Token)
	require.Equal(t, synthetic.PracticeODS(7), c.ODSCode)
	require.Equal(t, BFReferringClinician, c.BusinessFunction)
	require.Equal(t, "021600556514", c.UserID)
	require.NotEqual(t, c.ODSCode, m.ProviderODS())
	require.Equal(t, "", m.URL(), "URL is empty before Start")
	require.NoError(t, m.Close(), "Close before Start is a no-op")
	require.Equal(t, "ers", m.Journal().Service())
}

// TestHeaderValidation: each missing or wrong header gets the documented
// status and e-RS error code.
func TestHeaderValidation(t *testing.T) {
	m := startMock(t)
	body := minimalCreate("9912003888")
	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		edit   func(h http.Header)
		status int
		code   string // eRS detail code; "" for text/plain answers
		issue  string
		diag   string
	}{
		{name: "missing authorization", edit: func(h http.Header) { h.Del("Authorization") }, status: 401, code: "NO_ACCESS", issue: "login"},
		{name: "empty bearer", edit: func(h http.Header) { h.Set("Authorization", "Bearer ") }, status: 401, code: "NO_ACCESS", issue: "login"},
		{name: "basic auth", edit: func(h http.Header) { h.Set("Authorization", "Basic dXNlcjpwYXNz") }, status: 401, code: "NO_ACCESS", issue: "login"},
		{name: "wrong token", edit: func(h http.Header) { h.Set("Authorization", "Bearer nope") }, status: 401, code: "NO_ACCESS", issue: "login", diag: "Invalid access token"},
		{name: "missing ODS", edit: func(h http.Header) { h.Del(headerODS) }, status: 400, code: "MISSING_HEADER", issue: "required", diag: "Missing or Empty NHSD-End-User-Organisation-ODS header."},
		{name: "empty ODS", edit: func(h http.Header) { h.Set(headerODS, " ") }, status: 400, code: "MISSING_HEADER", issue: "required", diag: "Missing or Empty NHSD-End-User-Organisation-ODS header."},
		{name: "missing business function", edit: func(h http.Header) { h.Del(headerBusinessFunction) }, status: 400, code: "MISSING_HEADER", issue: "required", diag: "Missing or Empty NHSD-eRS-Business-Function header."},
		{name: "business function not held at ODS", edit: func(h http.Header) { h.Set(headerBusinessFunction, BFReferringAdmin) }, status: 403, code: "FORBIDDEN", issue: "forbidden", diag: "User does not have the required Business Function at the specified Organisation."},
		{name: "ODS the user does not work at", edit: func(h http.Header) { h.Set(headerODS, "X99999") }, status: 403, code: "FORBIDDEN", issue: "forbidden"},
		{name: "provider cannot create referrals", edit: asProvider(m), status: 403, code: "FORBIDDEN", issue: "forbidden", diag: "not permitted"},
		{name: "unacceptable accept", edit: func(h http.Header) { h.Set("Accept", "application/fhir+xml") }, status: 406},
		{name: "r4 accept on stu3", edit: func(h http.Header) { h.Set("Accept", "application/fhir+json; fhirVersion=4.0") }, status: 406},
		{name: "xml content type", edit: func(h http.Header) { h.Set("Content-Type", "application/fhir+xml") }, status: 415},
		{name: "missing content type", edit: func(h http.Header) { h.Del("Content-Type") }, status: 415},
		{name: "plain json is accepted", edit: func(h http.Header) { h.Set("Content-Type", "application/json"); h.Set("Accept", "application/json") }, status: 201},
		{name: "unknown path", path: BasePath + "/STU3/Nope", status: 404, code: "NOT_FOUND", issue: "not-found"},
		{name: "outside base path", path: "/somewhere", status: 404, code: "NOT_FOUND", issue: "not-found"},
		{name: "method not allowed", method: http.MethodDelete, path: pathCreate, status: 405, code: "METHOD_NOT_ALLOWED", issue: "not-supported"},
		{name: "not implemented endpoint", method: http.MethodGet, path: BasePath + "/STU3/Slot", body: nil, status: 501, code: "NOT_IMPLEMENTED", issue: "not-supported", diag: "not implemented by this mock"},
		{name: "unknown referral", method: http.MethodGet, path: pathReferral("000000000000"), status: 404, code: "REFERENCE_NOT_FOUND", issue: "not-found"},
		{name: "r4 missing token", method: http.MethodGet, path: pathRoles, edit: func(h http.Header) { h.Del("Authorization") }, status: 401, code: "ACCESS_DENIED", issue: "login"},
		{name: "r4 needs no ODS header", method: http.MethodGet, path: pathRoles, edit: func(h http.Header) { h.Del(headerODS); h.Del(headerBusinessFunction) }, status: 200},
		{name: "r4 unacceptable accept", method: http.MethodGet, path: pathRoles, edit: func(h http.Header) { h.Set("Accept", "text/html") }, status: 406, code: "REC_NOT_ACCEPTABLE", issue: "not-supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path, b := tt.method, tt.path, tt.body
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = pathCreate
			}
			if b == nil && method == http.MethodPost {
				b = body
			}
			rep := call(t, m, method, path, b, tt.edit)
			require.Equal(t, tt.status, rep.status, "body: %s", rep.body)
			require.Equal(t, "corr-test", rep.header.Get(headerCorrelationID), "X-Correlation-ID is echoed")
			require.NotEmpty(t, rep.header.Get(headerRequestID), "X-Request-ID is set")
			switch {
			case tt.status < 300:
			case tt.code == "":
				require.Equal(t, "text/plain;charset=utf-8", rep.header.Get("Content-Type"), "STU3 406/415 are text/plain per the specification")
			default:
				require.Equal(t, "application/fhir+json", rep.header.Get("Content-Type"))
				code, issue := rep.errorCode(t)
				require.Equal(t, tt.code, code)
				require.Equal(t, tt.issue, issue)
				if !strings.Contains(path, "/R4/") {
					require.Contains(t, string(rep.body), stu3OutcomeProfile)
					require.Contains(t, string(rep.body), stu3ErrorSystem)
				}
				if tt.diag != "" {
					require.Contains(t, string(rep.body), tt.diag)
				}
			}
		})
	}
}

// TestCreateValidation: bad bodies get 422 with the e-RS code and a clear
// diagnostics string, and create nothing.
func TestCreateValidation(t *testing.T) {
	m := startMock(t)
	good := string(minimalCreate("9912003888"))
	tests := []struct {
		name string
		body string
		code string
		diag string
	}{
		{name: "empty body", body: "", code: codeInvalidStructure, diag: "body is empty"},
		{name: "malformed json", body: `{"resourceType":"Parameters",`, code: codeInvalidStructure, diag: "JSON ends too soon"},
		{name: "not parameters", body: `{"resourceType":"Patient"}`, code: codeInvalidStructure, diag: "resourceType is"},
		{name: "unknown top-level field", body: `{"resourceType":"Parameters","foo":1}`, code: codeUnexpectedField, diag: "unexpected field"},
		{name: "unknown parameter", body: strings.Replace(good, `"name":"patient"`, `"name":"patientt"`, 1), code: codeUnexpectedField, diag: "(patientt) unknown parameter name"},
		{name: "missing patient", body: `{"resourceType":"Parameters","parameter":[]}`, code: codeMissingValue, diag: "(patient) is mandatory"},
		{name: "invalid NHS number check digit", body: strings.Replace(good, "9912003888", "9912003889", 1), code: codeInvalidValue, diag: "check digit"},
		{name: "NHS number too short", body: strings.Replace(good, "9912003888", "99120", 1), code: codeInvalidValue, diag: "exactly 10 digits"},
		{name: "wrong NHS number system", body: strings.Replace(good, "http://fhir.nhs.net/Id/nhs-number", "urn:x", 1), code: codeInvalidValue, diag: "identifier system"},
		{name: "wrong scalar type", body: strings.Replace(good, `"valueUnsignedInt":3`, `"valueUnsignedInt":"3"`, 1), code: codeInvalidStructure, diag: "want an integer"},
		{name: "negative follow-up days", body: strings.Replace(good, `"valueUnsignedInt":3`, `"valueUnsignedInt":-1`, 1), code: codeInvalidValue, diag: "unsigned"},
		{name: "unknown letter intention", body: strings.Replace(good, "NEED_TO_ADD_LATER", "MAYBE", 1), code: codeInvalidCode, diag: "MAYBE"},
		{name: "unknown priority", body: strings.Replace(good, `"code":"URGENT"`, `"code":"WHENEVER"`, 1), code: codeInvalidCode, diag: "WHENEVER"},
		{name: "duplicate service", body: string(minimalCreate("9912003888", "11002", "11002")), code: codeDuplicateService, diag: "cannot be added to a shortlist more than once"},
		{name: "too many services", body: string(minimalCreate("9912003888", strings.Split("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21", ",")...)), code: codeTooManyItems, diag: "at most 20"},
		{name: "unknown criteria parameter", body: strings.Replace(good, `"name":"ageAndGenderAppropriate"`, `"name":"unknownParameter"`, 1), code: codeUnexpectedField, diag: "contained[0]/parameter[2]' (unknownParameter) unknown parameter name"},
		{name: "dangling criteria reference", body: strings.Replace(good, `"reference":"#c1"`, `"reference":"#c2"`, 1), code: codeReferenceNotFound, diag: "#c2"},
		{name: "pathway start without zone", body: strings.Replace(good, `{"name":"firstReminderLetterFollowUpDays"`, `{"name":"eReferralPathwayStart","valueInstant":"2024-05-01T09:55:00"},{"name":"firstReminderLetterFollowUpDays"`, 1), code: codeInvalidValue, diag: "time zone"},
		{name: "pathway start in the future", body: strings.Replace(good, `{"name":"firstReminderLetterFollowUpDays"`, `{"name":"eReferralPathwayStart","valueInstant":"2030-05-01T09:55:00Z"},{"name":"firstReminderLetterFollowUpDays"`, 1), code: codeInvalidValue, diag: "in the past"},
		{name: "repeated patient", body: strings.Replace(good, `"parameter":[`, `"parameter":[{"name":"patient","valueIdentifier":{"system":"http://fhir.nhs.net/Id/nhs-number","value":"9912003888"}},`, 1), code: codeInvalidStructure, diag: "at most once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := call(t, m, http.MethodPost, pathCreate, []byte(tt.body), nil)
			require.Equal(t, http.StatusUnprocessableEntity, rep.status, "body: %s", rep.body)
			code, _ := rep.errorCode(t)
			require.Equal(t, tt.code, code, "body: %s", rep.body)
			require.Contains(t, string(rep.body), tt.diag)
		})
	}
	require.Zero(t, m.Stats().ReferralsCreated)
	require.Zero(t, m.Journal().Count("referral.created"))
}

// TestVersioning: create, read, read _history/1, stale cancel → 409,
// current cancel → 200 and version bumped, cancel again → 422.
func TestVersioning(t *testing.T) {
	m := startMock(t)
	ubrn := create(t, m, "9912003888")
	require.Regexp(t, `^[0-9]{12}$`, ubrn)

	steps := []struct {
		name    string
		method  string
		path    string
		body    []byte
		ifMatch string
		status  int
		code    string
		etag    string
		state   string
	}{
		{name: "read current", method: http.MethodGet, path: pathReferral(ubrn), status: 200, etag: `W/"1"`, state: StateNotBooked},
		{name: "read history 1", method: http.MethodGet, path: pathReferral(ubrn) + "/_history/1", status: 200, etag: `W/"1"`},
		{name: "read unknown version", method: http.MethodGet, path: pathReferral(ubrn) + "/_history/9", status: 404, code: codeReferenceNotFound},
		{name: "cancel without If-Match", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("RAISED_IN_ERROR", ""), status: 412, code: codeMissingValue},
		{name: "cancel with malformed If-Match", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("RAISED_IN_ERROR", ""), ifMatch: `"1"`, status: 400, code: codeInvalidValue},
		{name: "cancel with stale If-Match", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("RAISED_IN_ERROR", ""), ifMatch: `W/"0"`, status: 409, code: codeConflict},
		{name: "cancel with unknown reason", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("BORED", ""), ifMatch: `W/"1"`, status: 422, code: codeInvalidCode},
		{name: "cancel with provider-only reason", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("BOOKED_OUTSIDE_CAB", ""), ifMatch: `W/"1"`, status: 422, code: codeInappropriateValue},
		{name: "cancel without mandatory comment", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("PATIENT_REQUEST_CANCELLATION_OTHER", ""), ifMatch: `W/"1"`, status: 422, code: codeMissingValue},
		{name: "cancel with current If-Match", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("RAISED_IN_ERROR", "made in error"), ifMatch: `W/"1"`, status: 200, etag: `W/"2"`, state: StateCancelledReferral},
		{name: "old version no longer readable", method: http.MethodGet, path: pathReferral(ubrn) + "/_history/1", status: 404, code: codeReferenceNotFound},
		{name: "read after cancel", method: http.MethodGet, path: pathReferral(ubrn), status: 200, etag: `W/"2"`, state: StateCancelledReferral},
		{name: "cancel again with current version", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("RAISED_IN_ERROR", ""), ifMatch: `W/"2"`, status: 422, code: codeInvalidRequestState},
		{name: "cancel again with old version", method: http.MethodPost, path: pathCancel(ubrn), body: cancelBody("RAISED_IN_ERROR", ""), ifMatch: `W/"1"`, status: 409, code: codeConflict},
		{name: "cancel unknown referral", method: http.MethodPost, path: pathCancel("123412341234"), body: cancelBody("RAISED_IN_ERROR", ""), ifMatch: `W/"1"`, status: 404, code: codeReferenceNotFound},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			rep := call(t, m, st.method, st.path, st.body, func(h http.Header) {
				if st.ifMatch != "" {
					h.Set(headerIfMatch, st.ifMatch)
				}
			})
			require.Equal(t, st.status, rep.status, "body: %s", rep.body)
			if st.code != "" {
				code, _ := rep.errorCode(t)
				require.Equal(t, st.code, code)
			}
			if st.etag != "" {
				require.Equal(t, st.etag, rep.header.Get("ETag"))
			}
			if st.state != "" {
				require.Contains(t, string(rep.body), `"code":"`+st.state+`"`)
				v := rep.json(t)
				if v["resourceType"] == "Parameters" {
					v = v["parameter"].([]any)[0].(map[string]any)["resource"].(map[string]any)
				}
				require.Equal(t, strings.Trim(strings.TrimPrefix(st.etag, "W/"), `"`), v["meta"].(map[string]any)["versionId"], "ETag equals meta.versionId")
			}
		})
	}
	require.Equal(t, 1, m.Journal().Count("referral.cancelled"))
	s := m.Stats()
	require.Equal(t, int64(1), s.ReferralsCancelled)
	require.Equal(t, int64(1), s.ReferralsCreated)
}

func TestRelationship(t *testing.T) {
	other := Credentials{ODSCode: "Y11111"}
	m := startMock(t, WithRoles(
		Role{ODSCode: "Y22222", BusinessFunctions: []string{BFReferringClinician}},
		Role{ODSCode: "Y11111", BusinessFunctions: []string{BFReferringClinician}},
	), WithCredentials(Credentials{ODSCode: "Y22222"}))
	ubrn := create(t, m, "9912003888")
	asOther := func(h http.Header) { h.Set(headerODS, other.ODSCode) }
	rep := call(t, m, http.MethodGet, pathReferral(ubrn), nil, asOther)
	require.Equal(t, 422, rep.status)
	code, _ := rep.errorCode(t)
	require.Equal(t, codeNoRelationship, code)

	rep = call(t, m, http.MethodPost, pathWorklist, worklistBody(ListAwaitingBooking), asOther)
	require.Equal(t, 200, rep.status)
	require.NotContains(t, string(rep.body), ubrn, "another practice's worklist does not show this referral")
}

// TestWorklistReflectsReferrals: AWAITING_BOOKING lists exactly this ODS's
// NOT_BOOKED referrals with patient, priority, created, updated and status,
// so a client can reconcile by NHS number + referralCreated.
func TestWorklistReflectsReferrals(t *testing.T) {
	var mu sync.Mutex
	now := testNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func() { mu.Lock(); now = now.Add(time.Minute); mu.Unlock() }
	m := startMock(t, WithClock(clock))
	patients := synthetic.NewPatients(3, m.Credentials().ODSCode)

	type made struct{ ubrn, nhs, created string }
	var refs []made
	for range 3 {
		p := patients.Next()
		u := create(t, m, p.NHSNumber)
		refs = append(refs, made{u, p.NHSNumber, ersTime(clock())})
		advance()
	}
	// Cancel the second: it leaves AWAITING_BOOKING.
	rep := call(t, m, http.MethodPost, pathCancel(refs[1].ubrn), cancelBody("RAISED_IN_ERROR", ""), func(h http.Header) { h.Set(headerIfMatch, `W/"1"`) })
	require.Equal(t, 200, rep.status, "body: %s", rep.body)

	tests := []struct {
		name  string
		list  string
		edit  func(h http.Header)
		want  []made
		field string
	}{
		{name: "awaiting booking", list: ListAwaitingBooking, want: []made{refs[0], refs[2]}, field: "referralLastUpdated"},
		{name: "letters outstanding", list: ListLettersOutstanding, want: []made{refs[0], refs[2]}, field: "letterDue"},
		{name: "rejected triage response is empty", list: ListRejectedTriageResponse},
		{name: "own cancellations are not returned as cancelled by others", list: ListAssessmentReturnedCancel},
		{name: "provider has nothing for review", list: ListReferralsForReview, edit: asProvider(m)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := call(t, m, http.MethodPost, pathWorklist, worklistBody(tt.list), tt.edit)
			require.Equal(t, 200, rep.status, "body: %s", rep.body)
			var list struct {
				ResourceType string `json:"resourceType"`
				Entry        []struct {
					Extension []struct {
						URL       string `json:"url"`
						Extension []map[string]any
					} `json:"extension"`
					Item struct{ Reference string } `json:"item"`
				} `json:"entry"`
			}
			require.NoError(t, json.Unmarshal(rep.body, &list))
			require.Equal(t, "List", list.ResourceType)
			require.Len(t, list.Entry, len(tt.want))
			for i, w := range tt.want {
				e := list.Entry[i]
				require.Equal(t, "ReferralRequest/"+w.ubrn, e.Item.Reference)
				fields := map[string]map[string]any{}
				for _, x := range e.Extension[0].Extension {
					fields[x["url"].(string)] = x
				}
				require.Equal(t, w.nhs, fields["patient"]["valueReference"].(map[string]any)["identifier"].(map[string]any)["value"])
				require.Equal(t, w.created, fields["referralCreated"]["valueDateTime"])
				require.Contains(t, fields, "priority")
				require.Contains(t, fields, tt.field)
				if tt.list == ListAwaitingBooking {
					require.Contains(t, fmt.Sprint(fields["status"]), StateNotBooked)
				}
			}
		})
	}
}

func TestWorklistErrors(t *testing.T) {
	m := startMock(t)
	filtered := `{"resourceType":"Parameters","parameter":[{"name":"listType","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1","code":"AWAITING_BOOKING"}]}},{"name":"service","valueIdentifier":{"system":"http://fhir.nhs.net/Id/ers-service","value":"1"}}]}`
	tests := []struct {
		name   string
		body   string
		edit   func(h http.Header)
		status int
		code   string
	}{
		{name: "provider list as referrer", body: string(worklistBody(ListReferralsForReview)), status: 403, code: codeForbidden},
		{name: "referrer list as provider", body: string(worklistBody(ListAwaitingBooking)), edit: asProvider(m), status: 403, code: codeForbidden},
		{name: "unknown list", body: string(worklistBody("EVERYTHING")), status: 422, code: codeInvalidCode},
		{name: "advice and guidance list", body: strings.Replace(string(worklistBody("ADVICE_AND_GUIDANCE_REQUESTS")), "ReferralListSelector", "CommunicationListSelector", 1), status: 422, code: codeInvalidCode},
		{name: "missing list type", body: `{"resourceType":"Parameters"}`, status: 422, code: codeMissingValue},
		{name: "filter on referrer list", body: filtered, status: 422, code: codeUnexpectedField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := call(t, m, http.MethodPost, pathWorklist, []byte(tt.body), tt.edit)
			require.Equal(t, tt.status, rep.status, "body: %s", rep.body)
			code, _ := rep.errorCode(t)
			require.Equal(t, tt.code, code)
		})
	}
}

func TestPractitionerRole(t *testing.T) {
	m := startMock(t)
	tests := []struct {
		name  string
		query string
		total int
	}{
		{name: "from token", total: 2},
		{name: "same user", query: "?user=" + m.Credentials().UserID, total: 2},
		{name: "another user", query: "?user=999999999999", total: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := call(t, m, http.MethodGet, pathRoles+tt.query, nil, nil)
			require.Equal(t, 200, rep.status, "body: %s", rep.body)
			var b struct {
				ResourceType string `json:"resourceType"`
				Type         string `json:"type"`
				Total        int    `json:"total"`
				Entry        []struct {
					Resource struct {
						ResourceType string
						Organization struct{ Identifier struct{ Value string } }
						Code         []struct{ Coding []struct{ Code string } }
					}
				}
			}
			require.NoError(t, json.Unmarshal(rep.body, &b))
			require.Equal(t, "Bundle", b.ResourceType)
			require.Equal(t, "searchset", b.Type)
			require.Equal(t, tt.total, b.Total)
			require.Len(t, b.Entry, tt.total)
			if tt.total > 0 {
				// The first role is the valid header pair for the SUT.
				require.Equal(t, "PractitionerRole", b.Entry[0].Resource.ResourceType)
				require.Equal(t, m.Credentials().ODSCode, b.Entry[0].Resource.Organization.Identifier.Value)
				require.Equal(t, m.Credentials().BusinessFunction, b.Entry[0].Resource.Code[0].Coding[0].Code)
			}
		})
	}
}

func TestJournalAndStats(t *testing.T) {
	m := startMock(t)
	ubrn := create(t, m, "9912003888")
	call(t, m, http.MethodGet, pathReferral(ubrn), nil, nil)
	call(t, m, http.MethodPost, pathWorklist, worklistBody(ListAwaitingBooking), nil)
	call(t, m, http.MethodGet, pathRoles, nil, nil)
	call(t, m, http.MethodGet, BasePath+"/STU3/Nope", nil, nil)

	es := m.Journal().Entries()
	require.Len(t, es, 1)
	e := es[0]
	require.Equal(t, "referral.created", e.Kind)
	require.Equal(t, "ers", e.Service)
	require.Equal(t, ubrn, e.Keys[keyUBRN])
	require.Equal(t, "9912003888", e.Keys[keyNHSNumber])
	require.Equal(t, "corr-test", e.Keys[keyCorrelationID])
	require.NotEmpty(t, e.Keys[keyRequestID])
	require.Equal(t, m.Credentials().ODSCode, e.Attrs["ods"])
	require.Equal(t, BFReferringClinician, e.Attrs["business_function"])
	require.Equal(t, "1", e.Attrs["version"])
	require.Equal(t, "11002", e.Attrs["services"])
	require.Equal(t, "URGENT", e.Attrs["priority"])
	require.Equal(t, testNow, e.Time)

	s := m.Stats()
	require.Equal(t, int64(5), s.Requests)
	require.Equal(t, map[string]int64{OpCreateReferral: 1, OpReadReferral: 1, OpFetchWorklist: 1, OpPractitionerRole: 1, "other": 1}, s.ByOperation)
	require.Equal(t, int64(1), s.ReferralsCreated)
}

func TestSetState(t *testing.T) {
	m := startMock(t)
	ubrn := create(t, m, "9912003888")
	tests := []struct {
		name    string
		ubrn    string
		state   string
		version int
		wantErr bool
	}{
		{name: "provider defers", ubrn: ubrn, state: StateDeferredToProvider, version: 2},
		{name: "provider rejects", ubrn: ubrn, state: StateRejected, version: 3},
		{name: "unknown state", ubrn: ubrn, state: "LOST", wantErr: true},
		{name: "unknown referral", ubrn: "000000000001", state: StateRejected, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := m.SetState(tt.ubrn, tt.state, "")
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.version, v)
		})
	}
	// A client holding version 1 now gets 409.
	rep := call(t, m, http.MethodPost, pathCancel(ubrn), cancelBody("RAISED_IN_ERROR", ""), func(h http.Header) { h.Set(headerIfMatch, `W/"1"`) })
	require.Equal(t, http.StatusConflict, rep.status)
	require.Equal(t, 2, m.Journal().Count("referral.updated"))
}

func TestUBRNsSeededAndDistinct(t *testing.T) {
	run := func(seed uint64) []string {
		m := New(WithSeed(seed), WithClock(fixedClock))
		var out []string
		for range 50 {
			r := &referral{NHSNumber: "9912003888", State: StateNotBooked}
			out = append(out, m.insert(r).UBRN)
		}
		return out
	}
	a, b, c := run(1), run(1), run(2)
	require.Equal(t, a, b, "same seed, same UBRNs")
	require.NotEqual(t, a, c, "different seed, different UBRNs")
	seen := map[string]bool{}
	for _, u := range a {
		require.Regexp(t, `^[0-9]{12}$`, u)
		require.False(t, seen[u], "UBRN %s repeated", u)
		seen[u] = true
	}
}

// TestConcurrentCreatesAndCancels exercises the store under -race.
func TestConcurrentCreatesAndCancels(t *testing.T) {
	m := startMock(t)
	patients := synthetic.NewPatients(9, m.Credentials().ODSCode)
	const n = 40
	ubrns := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		nhs := patients.Next().NHSNumber
		wg.Go(func() {
			rep, err := tryCall(m, http.MethodPost, pathCreate, minimalCreate(nhs), nil)
			if err == nil && rep.status == http.StatusCreated {
				var v map[string]any
				if json.Unmarshal(rep.body, &v) == nil {
					ubrns <- v["id"].(string)
				}
			}
		})
	}
	wg.Wait()
	close(ubrns)
	var all []string
	for u := range ubrns {
		all = append(all, u)
	}
	require.Len(t, all, n)
	// Two cancels of the same version race: exactly one wins.
	results := make(chan int, 2)
	for range 2 {
		wg.Go(func() {
			rep, err := tryCall(m, http.MethodPost, pathCancel(all[0]), cancelBody("RAISED_IN_ERROR", ""), func(h http.Header) { h.Set(headerIfMatch, `W/"1"`) })
			if err == nil {
				results <- rep.status
			}
		})
	}
	wg.Wait()
	close(results)
	var statuses []int
	for s := range results {
		statuses = append(statuses, s)
	}
	require.ElementsMatch(t, []int{200, 409}, statuses)
	require.Equal(t, int64(n), m.Stats().ReferralsCreated)
}

// TestInBandFaults covers 503 for everything, a seeded fraction of 429s and
// a lost response after commit.
func TestInBandFaults(t *testing.T) {
	t.Run("503 with Retry-After for all requests", func(t *testing.T) {
		m := startMock(t)
		id, err := m.Faults().Add(inband.Spec{Kind: inband.Status, Status: 503, RetryAfter: 2 * time.Second})
		require.NoError(t, err)
		requests := []struct {
			name, method, path string
			body               []byte
		}{
			{"create", http.MethodPost, pathCreate, minimalCreate("9912003888")},
			{"read", http.MethodGet, pathReferral("000000000000"), nil},
			{"worklist", http.MethodPost, pathWorklist, worklistBody(ListAwaitingBooking)},
			{"roles", http.MethodGet, pathRoles, nil},
		}
		for _, rq := range requests {
			rep := call(t, m, rq.method, rq.path, rq.body, nil)
			require.Equal(t, 503, rep.status, rq.name)
			require.Equal(t, "2", rep.header.Get("Retry-After"), rq.name)
			require.Equal(t, "corr-test", rep.header.Get(headerCorrelationID), rq.name)
			code, issue := rep.errorCode(t)
			require.Equal(t, "transient", issue, rq.name)
			if rq.name != "roles" {
				require.Equal(t, codeSystemUnavailable, code, rq.name)
			} else {
				require.Equal(t, "REC_UNAVAILABLE", code)
			}
		}
		n, ok := m.Faults().Counts(id)
		require.True(t, ok)
		require.Equal(t, int64(4), n.Faulted)
		require.Zero(t, m.Stats().ReferralsCreated)
		faulted := m.Journal().Entries()
		require.Len(t, faulted, 4)
		require.Equal(t, "request.faulted", faulted[0].Kind)
		require.Equal(t, "corr-test", faulted[0].Keys[keyCorrelationID])
		require.Equal(t, OpCreateReferral, faulted[0].Attrs["op"])
		require.Equal(t, "status", faulted[0].Attrs["kind"])
		require.Equal(t, "503", faulted[0].Attrs["status"])
	})

	t.Run("429 for a seeded fraction", func(t *testing.T) {
		count := func(seed uint64) int {
			m := startMock(t)
			_, err := m.Faults().Add(inband.Spec{Kind: inband.Status, Status: 429, Fraction: 0.3, Seed: seed, Operations: []string{OpReadReferral}})
			require.NoError(t, err)
			throttled := 0
			for range 40 {
				rep := call(t, m, http.MethodGet, pathReferral("000000000000"), nil, nil)
				if rep.status == 429 {
					code, issue := rep.errorCode(t)
					require.Equal(t, codeTooManyRequests, code)
					require.Equal(t, "throttled", issue)
					throttled++
				} else {
					require.Equal(t, 404, rep.status)
				}
			}
			// Other operations are untouched.
			require.Equal(t, 201, call(t, m, http.MethodPost, pathCreate, minimalCreate("9912003888"), nil).status)
			return throttled
		}
		first := count(11)
		require.Equal(t, first, count(11), "same seed, same number of 429s")
		require.Greater(t, first, 0)
		require.Less(t, first, 40)
	})

	t.Run("lost response after commit", func(t *testing.T) {
		m := startMock(t)
		_, err := m.Faults().Add(inband.Spec{Kind: inband.LostResponse, Operations: []string{OpCreateReferral}})
		require.NoError(t, err)
		_, err = tryCall(m, http.MethodPost, pathCreate, minimalCreate("9912003888"), nil)
		require.Error(t, err, "the client sees a connection error")
		require.Equal(t, 1, m.Journal().Count("referral.created"), "the referral was committed and journalled")
		require.Equal(t, 1, m.Journal().Count("request.faulted"))
		require.Equal(t, int64(1), m.Stats().ReferralsCreated)

		m.Faults().Clear()
		rep := call(t, m, http.MethodPost, pathWorklist, worklistBody(ListAwaitingBooking), nil)
		require.Equal(t, 200, rep.status)
		require.Contains(t, string(rep.body), "9912003888", "the worklist shows the referral the client never heard about")
	})

	t.Run("other statuses use e-RS codes", func(t *testing.T) {
		m := startMock(t)
		tests := []struct {
			name  string
			spec  inband.Spec
			code  string
			issue string
		}{
			{name: "500", spec: inband.Spec{Kind: inband.Status, Status: 500}, code: codeInternalServerError, issue: "exception"},
			{name: "504 PAS", spec: inband.Spec{Kind: inband.Status, Status: 504}, code: codePASNotResponding, issue: "timeout"},
			{name: "423", spec: inband.Spec{Kind: inband.Status, Status: 423}, code: codeLocked, issue: "lock-error"},
			{name: "explicit code", spec: inband.Spec{Kind: inband.Status, Status: 422, Code: "PATIENT_ERROR"}, code: "PATIENT_ERROR", issue: "exception"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m.Faults().Clear()
				_, err := m.Faults().Add(tt.spec)
				require.NoError(t, err)
				rep := call(t, m, http.MethodGet, pathReferral("000000000000"), nil, nil)
				require.Equal(t, tt.spec.Status, rep.status)
				code, issue := rep.errorCode(t)
				require.Equal(t, tt.code, code)
				require.Equal(t, tt.issue, issue)
			})
		}
	})
}

func TestStartTwiceAndClose(t *testing.T) {
	m := startMock(t)
	url := m.URL()
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"))
	require.True(t, strings.HasSuffix(url, BasePath))
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "second Close is a no-op")
}
