package ers

import (
	"encoding/json"
	"github.com/shakedown-harness/shakedown/mocks/fhir/fhirtest"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShapeDiff(t *testing.T) {
	tests := []struct {
		name    string
		want    string
		got     string
		allowed []string
		diffs   int
	}{
		{name: "same keys, different values", want: `{"a":1,"b":{"c":"x"}}`, got: `{"a":2,"b":{"c":"y"}}`},
		{name: "missing key", want: `{"a":1,"b":2}`, got: `{"a":1}`, diffs: 1},
		{name: "unexpected key", want: `{"a":1}`, got: `{"a":1,"z":2}`, diffs: 1},
		{name: "allowed missing key", want: `{"a":1,"b":2}`, got: `{"a":1}`, allowed: []string{".b"}},
		{name: "keyed extensions in another order", want: `{"extension":[{"url":"x/A","valueString":"s"},{"url":"x/B","valueBoolean":true}]}`, got: `{"extension":[{"url":"x/B","valueBoolean":false},{"url":"x/A","valueString":"t"}]}`},
		{name: "keyed extension missing", want: `{"extension":[{"url":"x/A"},{"url":"x/B"}]}`, got: `{"extension":[{"url":"x/A"}]}`, diffs: 1},
		{name: "first element compared", want: `{"entry":[{"item":{"a":1}},{"other":1}]}`, got: `{"entry":[{"item":{"a":2}}]}`},
		{name: "empty got array", want: `{"entry":[{"item":1}]}`, got: `{"entry":[]}`, diffs: 1},
		{name: "type mismatch", want: `{"a":{"b":1}}`, got: `{"a":[1]}`, diffs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w, g any
			require.NoError(t, json.Unmarshal([]byte(tt.want), &w))
			require.NoError(t, json.Unmarshal([]byte(tt.got), &g))
			require.Len(t, fhirtest.ShapeDiff("$", w, g, tt.allowed), tt.diffs)
		})
	}
}

// Differences the mock makes on purpose, named once.
var (
	// Examples of referrals that had been booked or had letters attached;
	// this mock does not book (A016) or attach letters (A012).
	notModelled = []string{
		"supportingInfo[0]",
		"extension[Extension-eRS-Appointment-Reference-1]",
		"extension[Extension-eRS-Appointment-1]",
		"extension[Extension-eRS-PatientAdditionalRequirement-1]",
		"extension[Extension-eRS-ClinicalInfoFirstSubmitted-1]",
		"contained[Appointment]",
		"contained[DocumentReference]",
		"parameter[updatedAppointment]",
	}
	// The example's original referral was created with other search
	// criteria, and without a pathway start, unlike the one created here.
	criteriaOfExample = []string{
		"contained[Parameters].parameter[postcode]",
		"contained[Parameters].parameter[distanceLimit]",
		"extension[Extension-eRS-eReferralPathwayStart-1]",
	}
	// Provider worklist examples show clinician allocation and clinical
	// information this mock does not model.
	providerOnlyFields = []string{
		"contained[Practitioner]",
		"[allocatedClinician]",
		"[clinicalInfoFirstSubmitted]",
		"[clinicalInfoLastUpdated]",
		"[appointmentStart]",
	}
)

// conformanceRow pairs one example request with what the mock must answer.
type conformanceRow struct {
	method   string
	path     func(ubrn string) string
	provider bool                               // send the provider's ODS and business function
	setup    func(t *testing.T, m *Mock) string // returns a UBRN for the path, if any
	headers  func(ubrn string, h http.Header)   // extra headers
	response string                             // paired response file (relative to stu3/); empty for out of scope
	allowed  []string                           // shape differences accepted, see above
	status   int                                // expected status
}

func fixed(p string) func(string) string { return func(string) string { return p } }

// createdReferral creates the referral of the A011 minimal example.
func createdReferral(t *testing.T, m *Mock) string {
	rep := call(t, m, http.MethodPost, pathCreate, readVector(t, "sandbox", "src", "mocks", "stu3", "createReferral", "requests", "MinimalRequest.json"), nil)
	require.Equal(t, http.StatusCreated, rep.status, "body: %s", rep.body)
	return rep.json(t)["id"].(string)
}

func triageReferral(service string) func(t *testing.T, m *Mock) string {
	return func(t *testing.T, m *Mock) string {
		rep := call(t, m, http.MethodPost, pathTriage, minimalCreate("9462979626", service), nil)
		require.Equal(t, http.StatusCreated, rep.status, "body: %s", rep.body)
		return rep.json(t)["id"].(string)
	}
}

func referralInState(state, reason string) func(t *testing.T, m *Mock) string {
	return func(t *testing.T, m *Mock) string {
		u := createdReferral(t, m)
		_, err := m.SetState(u, state, reason)
		require.NoError(t, err)
		return u
	}
}

func ifMatch(v string) func(string, http.Header) {
	return func(_ string, h http.Header) { h.Set(headerIfMatch, v) }
}

func notImplemented(method, path string) conformanceRow {
	return conformanceRow{method: method, path: fixed(BasePath + path), status: http.StatusNotImplemented}
}

// conformanceTable pairs every request under sandbox/src/mocks/stu3/*/requests.
// Keys are "endpointDir/requestFile"; "endpointDir/*" covers a whole
// out-of-scope directory.
func conformanceTable() map[string]conformanceRow {
	createRow := func(resp string, allowed ...string) conformanceRow {
		return conformanceRow{method: http.MethodPost, path: fixed(pathCreate), response: resp, allowed: allowed, status: http.StatusCreated}
	}
	triageRow := func(resp string, allowed ...string) conformanceRow {
		return conformanceRow{method: http.MethodPost, path: fixed(pathTriage), response: resp, allowed: allowed, status: http.StatusCreated}
	}
	worklistRow := func(resp string, provider bool, setup func(*testing.T, *Mock) string, allowed ...string) conformanceRow {
		return conformanceRow{method: http.MethodPost, path: fixed(pathWorklist), provider: provider, setup: setup, response: resp, allowed: allowed, status: http.StatusOK}
	}
	cancelRow := func(resp string, provider bool) conformanceRow {
		return conformanceRow{method: http.MethodPost, path: pathCancel, provider: provider, setup: createdReferral, headers: ifMatch(`W/"1"`), response: resp, allowed: append(slices.Clone(notModelled), criteriaOfExample...), status: http.StatusOK}
	}
	return map[string]conformanceRow{
		// A011 create referral.
		"createReferral/MinimalRequest.json":                       createRow("createReferral/responses/ReferralRequest.json"),
		"createReferral/MinimalRequestWithReferringClinician.json": createRow("createReferral/responses/ReferralRequest.json"),
		"createReferral/RequestMixedShortlist.json":                createRow("createReferral/responses/ReferralRequestMixedShortlist.json"),
		"createReferral/RequestTwentyServices.json":                createRow("createReferral/responses/ReferralRequestTwentyServices.json"),

		// A021 create referral and send for triage. The named-clinician
		// example searched without a specialty, so the mock cannot know one.
		"createReferralAndSendForTriage/Parameters.json":                   triageRow("createReferralAndSendForTriage/responses/ReferralRequest.json"),
		"createReferralAndSendForTriage/ParametersWithNamedClinician.json": triageRow("createReferralAndSendForTriage/responses/ReferralRequestWithNamedClinician.json", ".specialty"),

		// A008 worklists: each is given a referral that belongs on it.
		"retrieveWorklist/MinimalAwaitingBooking.json":                worklistRow("retrieveWorklist/responses/AwaitingBooking.json", false, createdReferral),
		"retrieveWorklist/MinimalLettersOutstanding.json":             worklistRow("retrieveWorklist/responses/LettersOutstanding.json", false, createdReferral),
		"retrieveWorklist/MinimalRejectedTriageResponse.json":         worklistRow("retrieveWorklist/responses/RejectedTriageResponse.json", false, referralInState(StateRejected, "FURTHER_INFORMATION_REQUIRED")),
		"retrieveWorklist/MinimalAssessmentReturnedCancelledDna.json": worklistRow("retrieveWorklist/responses/AssessmentReturnedCancelledDna.json", false, referralInState(StateCancelledReferral, "INTEND_PRIVATE")),
		"retrieveWorklist/MinimalReferralsForReview.json":             worklistRow("retrieveWorklist/responses/ReferralsForReview.json", true, triageReferral("11012"), providerOnlyFields...),
		"retrieveWorklist/FilteringByService.json":                    worklistRow("retrieveWorklist/responses/FilteredByService.json", true, triageReferral("21012"), providerOnlyFields...),
		"retrieveWorklist/FilteringBySpecialty.json":                  worklistRow("retrieveWorklist/responses/FilteredBySpecialty.json", true, triageReferral("11012"), append(slices.Clone(providerOnlyFields), "[service]")...), // this example alone omits the service
		// No referral is ever allocated to a clinician in this mock, so the
		// clinician filter finds nothing: the answer is an empty List.
		"retrieveWorklist/FilteringByClinician.json":         worklistRow("retrieveWorklist/responses/FilteredByClinician.json", true, triageReferral("11012"), ".entry", ".contained"),
		"retrieveWorklist/MinimalAppointmentSlotIssues.json": worklistRow("retrieveWorklist/responses/AppointmentSlotIssues.json", true, referralInState(StateDeferredToProvider, "NO_SLOTS_AT_SERVICE")),

		// A036 cancel referral (the provider-only reasons are sent as the provider).
		"cancelReferral/IntendPrivateWithComment.json":        cancelRow("cancelReferral/responses/CancelledReferralResolvedDeferralIntendPrivateWithComment.json", false),
		"cancelReferral/IntendPrivateWithoutComment.json":     cancelRow("cancelReferral/responses/CancelledReferralIntendPrivateWithoutComment.json", false),
		"cancelReferral/NoLongerRequired.json":                cancelRow("cancelReferral/responses/CancelledReferralWithCancelledBookingNoLongerRequired.json", false),
		"cancelReferral/PatientRequestCancellationOther.json": cancelRow("cancelReferral/responses/CancelledReferralPatientOther.json", false),
		"cancelReferral/RaisedInError.json":                   cancelRow("cancelReferral/responses/CancelledReferralRaisedInError.json", false),
		"cancelReferral/ReferrerCancellation.json":            cancelRow("cancelReferral/responses/CancelledBookedReferralReferrerCancellation.json", false),
		"cancelReferral/bookedOutsideCabWithoutComment.json":  cancelRow("cancelReferral/responses/CancelledReferralBookedOutsideCabWithoutComment.json", true),
		"cancelReferral/outpatientService.json":               cancelRow("cancelReferral/responses/CancelledReferralOutpatientService.json", true),

		// Out of scope: real e-RS endpoints this mock answers with 501.
		"bookOrDeferAppointment/*":             notImplemented(http.MethodPost, "/STU3/Appointment"),
		"cancelAppointmentActionLater/*":       notImplemented(http.MethodPost, "/STU3/ReferralRequest/000000070000/$ers.cancelAppointmentActionLater"),
		"changeShortlist/*":                    notImplemented(http.MethodPost, "/STU3/ReferralRequest/000000070000/$ers.changeShortlist"),
		"changeShortlistAndSendForTriage/*":    notImplemented(http.MethodPost, "/STU3/ReferralRequest/000000070000/$ers.changeShortlistAndSendForTriage"),
		"convertAdviceAndGuidanceToReferral/*": notImplemented(http.MethodPost, "/STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater"),
		"createAdviceAndGuidance/*":            notImplemented(http.MethodPost, "/STU3/CommunicationRequest/$ers.createAdviceAndGuidance"),
		"maintainReferralLetter/*":             notImplemented(http.MethodPost, "/STU3/ReferralRequest/000000070000/$ers.maintainReferralLetter"),
		"patientServiceSearch/*":               notImplemented(http.MethodPost, "/STU3/HealthcareService/$ers.searchHealthcareServicesForPatient"),
		"recordTriageOutcome/*":                notImplemented(http.MethodPost, "/STU3/ReferralRequest/000000070000/$ers.recordReviewOutcome"),
		"rejectReferral/*":                     notImplemented(http.MethodPost, "/STU3/ReferralRequest/000000070000/$ers.rejectReferral"),
		"retrieveAdviceAndGuidanceWorklist/*":  notImplemented(http.MethodPost, "/STU3/CommunicationRequest/$ers.fetchworklist"),
		"sendAdviceAndGuidanceResponse/*":      notImplemented(http.MethodPost, "/STU3/CommunicationRequest/000049146177/$ers.sendCommunicationToRequester"),
		"updateAppointment/*":                  notImplemented(http.MethodPut, "/STU3/Appointment/70001"),
		"uploadFileToDocumentStore/*":          notImplemented(http.MethodPost, "/STU3/Binary"),
	}
}

// TestConformance sends every example request of the e-RS sandbox to the
// mock and checks the answer against the paired example response.
func TestConformance(t *testing.T) {
	root := filepath.Join(referenceDir(t), "sandbox", "src", "mocks", "stu3")
	files, err := filepath.Glob(filepath.Join(root, "*", "requests", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sort.Strings(files)
	table := conformanceTable()
	used := map[string]bool{}

	for _, f := range files {
		dir := filepath.Base(filepath.Dir(filepath.Dir(f)))
		name := dir + "/" + filepath.Base(f)
		key := name
		row, ok := table[key]
		if !ok {
			key = dir + "/*"
			row, ok = table[key]
		}
		t.Run(name, func(t *testing.T) {
			require.True(t, ok, "no conformance row for %s: add it to conformanceTable (in scope with a paired response, or out of scope)", name)
			used[key] = true
			body, err := os.ReadFile(f)
			require.NoError(t, err)

			m := startMock(t)
			ubrn := ""
			if row.setup != nil {
				ubrn = row.setup(t, m)
			}
			rep := call(t, m, row.method, row.path(ubrn), body, func(h http.Header) {
				if row.provider {
					asProvider(m)(h)
				}
				if row.headers != nil {
					row.headers(ubrn, h)
				}
				if filepath.Ext(f) != ".json" {
					h.Set("Content-Type", "application/octet-stream")
				}
			})
			require.Equal(t, row.status, rep.status, "body: %s", rep.body)
			require.Equal(t, "corr-test", rep.header.Get(headerCorrelationID))
			require.NotEmpty(t, rep.header.Get(headerRequestID))

			if row.response == "" {
				detail, issue := rep.errorCode(t)
				require.Equal(t, codeNotImplemented, detail)
				require.Equal(t, "not-supported", issue)
				require.Contains(t, rep.json(t)["issue"].([]any)[0].(map[string]any)["diagnostics"], "not implemented by this mock")
				return
			}
			var want, got any
			require.NoError(t, json.Unmarshal(readVector(t, "sandbox", "src", "mocks", "stu3", row.response), &want))
			require.NoError(t, json.Unmarshal(rep.body, &got))
			require.Equal(t, want.(map[string]any)["resourceType"], got.(map[string]any)["resourceType"])
			diffs := fhirtest.ShapeDiff("$", want, got, row.allowed)
			require.Empty(t, diffs, "shape differs from %s", row.response)
		})
	}
	for k := range table {
		require.True(t, used[k], "conformance row %s matched no request file", k)
	}
}
