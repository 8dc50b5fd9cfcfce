package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the tests give the gateway and the fake e-RS expects.
const (
	testToken = "test-token"
	testODS   = "A12345"
	testBF    = "REFERRING_CLINICIAN"
)

// fault is what the fake does to one createReferral.
type fault struct {
	// status answers with this status and an OperationOutcome, committing
	// nothing (unless commit is set).
	status     int
	retryAfter string
	// commit creates the referral before the fault takes effect.
	commit bool
	// drop hijacks the connection and closes it without a response.
	drop bool
	// hold blocks until the channel is closed or the client goes away.
	hold chan struct{}
	// commitAfterHold commits once hold ends (a late commit).
	commitAfterHold bool
}

type fakeReferral struct {
	UBRN      string
	NHSNumber string
	Created   time.Time
}

type createCall struct {
	At            time.Time
	CorrelationID string
	NHSNumber     string
	Answered      int // status sent; 0 if dropped or held
}

// fakeERS is a small stateful e-RS: createReferral (A011), fetchworklist
// (A008) and read (A005) under /referrals/FHIR, with scriptable faults on
// createReferral.
type fakeERS struct {
	t    testing.TB
	srv  *httptest.Server
	base string

	mu              sync.Mutex
	seq             int
	referrals       []fakeReferral
	creates         []createCall
	script          []fault // consumed one per createReferral
	persistent      *fault  // used when the script is empty
	latency         time.Duration
	worklistFetches int
	reads           int
	headerProblems  []string
	received        chan createCall // every createReferral, as it arrives
}

func newFakeERS(t testing.TB) *fakeERS {
	f := &fakeERS{t: t, received: make(chan createCall, 1000)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.base = f.srv.URL + "/referrals/FHIR"
	t.Cleanup(f.srv.Close)
	return f
}

// then queues faults for the next createReferral calls, in order.
func (f *fakeERS) then(fs ...fault) {
	f.mu.Lock()
	f.script = append(f.script, fs...)
	f.mu.Unlock()
}

// always applies fl to every createReferral once the script is used up;
// nil restores normal service.
func (f *fakeERS) always(fl *fault) {
	f.mu.Lock()
	f.persistent = fl
	f.mu.Unlock()
}

// seed puts a referral into e-RS directly, as if an earlier send had
// committed it, and returns its UBRN.
func (f *fakeERS) seed(nhs string, created time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	ref := fakeReferral{UBRN: fmt.Sprintf("%012d", 70000+f.seq), NHSNumber: nhs, Created: created.UTC()}
	f.referrals = append(f.referrals, ref)
	return ref.UBRN
}

func (f *fakeERS) setLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

func (f *fakeERS) createCalls() []createCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]createCall(nil), f.creates...)
}

func (f *fakeERS) allReferrals() []fakeReferral {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReferral(nil), f.referrals...)
}

func (f *fakeERS) referralsFor(nhs string) []fakeReferral {
	var out []fakeReferral
	for _, r := range f.allReferrals() {
		if r.NHSNumber == nhs {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeERS) counts() (worklist, reads int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.worklistFetches, f.reads
}

func (f *fakeERS) problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.headerProblems...)
}

func (f *fakeERS) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/referrals/FHIR")
	if !ok {
		writeOutcome(w, http.StatusNotFound, "NOT_FOUND", "no such path "+r.URL.Path)
		return
	}
	if !f.checkHeaders(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodPost && path == pathCreateReferral:
		f.createReferral(w, r)
	case r.Method == http.MethodPost && path == pathFetchWorklist:
		f.fetchWorklist(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(path, pathReferral):
		f.read(w, strings.TrimPrefix(path, pathReferral))
	default:
		writeOutcome(w, http.StatusNotFound, "NOT_FOUND", "no such operation "+r.Method+" "+path)
	}
}

func (f *fakeERS) checkHeaders(w http.ResponseWriter, r *http.Request) bool {
	var problems []string
	want := map[string]string{
		"Authorization":                  "Bearer " + testToken,
		"NHSD-End-User-Organisation-ODS": testODS,
		"NHSD-eRS-Business-Function":     testBF,
		"Accept":                         fhirJSON,
	}
	if r.Method == http.MethodPost {
		want["Content-Type"] = fhirJSON
	}
	for h, v := range want {
		if got := r.Header.Get(h); got != v {
			problems = append(problems, fmt.Sprintf("%s %s: header %s = %q, want %q", r.Method, r.URL.Path, h, got, v))
		}
	}
	if r.Header.Get("X-Correlation-ID") == "" {
		problems = append(problems, "missing X-Correlation-ID")
	}
	if len(problems) == 0 {
		w.Header().Set("X-Correlation-ID", r.Header.Get("X-Correlation-ID"))
		return true
	}
	f.mu.Lock()
	f.headerProblems = append(f.headerProblems, problems...)
	f.mu.Unlock()
	writeOutcome(w, http.StatusBadRequest, "MISSING_HEADER", strings.Join(problems, "; "))
	return false
}

// parsedCreate is what the fake needs from an A011 body.
type parsedCreate struct {
	nhs, service string
}

func parseCreate(b []byte) (parsedCreate, error) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name            string `json:"name"`
			ValueIdentifier *struct {
				System, Value string
			} `json:"valueIdentifier"`
			ValueInstant string `json:"valueInstant"`
			Resource     *struct {
				ResourceType string `json:"resourceType"`
				Entry        []struct {
					Item struct {
						Identifier struct{ System, Value string } `json:"identifier"`
					} `json:"item"`
				} `json:"entry"`
			} `json:"resource"`
		} `json:"parameter"`
	}
	var pc parsedCreate
	if err := json.Unmarshal(b, &p); err != nil {
		return pc, err
	}
	if p.ResourceType != "Parameters" {
		return pc, fmt.Errorf("resourceType %q", p.ResourceType)
	}
	for _, prm := range p.Parameter {
		switch prm.Name {
		case "patient":
			if prm.ValueIdentifier != nil && prm.ValueIdentifier.System == systemNHSNumber {
				pc.nhs = prm.ValueIdentifier.Value
			}
		case "eReferralPathwayStart":
			if _, err := time.Parse(time.RFC3339Nano, prm.ValueInstant); err != nil {
				return pc, fmt.Errorf("eReferralPathwayStart %q is not an instant with a zone", prm.ValueInstant)
			}
		case "shortlist":
			if prm.Resource != nil && len(prm.Resource.Entry) > 0 {
				pc.service = prm.Resource.Entry[0].Item.Identifier.Value
			}
		}
	}
	if pc.nhs == "" || pc.service == "" {
		return pc, fmt.Errorf("patient or shortlisted service missing")
	}
	return pc, nil
}

func (f *fakeERS) createReferral(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	pc, err := parseCreate(b)
	if err != nil {
		writeOutcome(w, http.StatusUnprocessableEntity, "INVALID_FHIR_STRUCTURE", err.Error())
		return
	}

	f.mu.Lock()
	var fl fault
	switch {
	case len(f.script) > 0:
		fl, f.script = f.script[0], f.script[1:]
	case f.persistent != nil:
		fl = *f.persistent
	}
	latency := f.latency
	call := createCall{At: time.Now(), CorrelationID: r.Header.Get("X-Correlation-ID"), NHSNumber: pc.nhs}
	idx := len(f.creates)
	f.creates = append(f.creates, call)
	f.mu.Unlock()
	select {
	case f.received <- call:
	default:
	}

	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
		}
	}
	var created fakeReferral
	commit := func() {
		f.mu.Lock()
		f.seq++
		created = fakeReferral{UBRN: fmt.Sprintf("%012d", 70000+f.seq), NHSNumber: pc.nhs, Created: time.Now().UTC()}
		f.referrals = append(f.referrals, created)
		f.mu.Unlock()
	}
	answered := func(status int) {
		f.mu.Lock()
		f.creates[idx].Answered = status
		f.mu.Unlock()
	}

	if fl.commit || (fl.status == 0 && !fl.drop && fl.hold == nil) {
		commit()
	}
	if fl.hold != nil {
		select {
		case <-fl.hold:
		case <-r.Context().Done():
		}
		if fl.commitAfterHold {
			commit()
		}
	}
	if fl.drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			f.t.Errorf("fake e-RS cannot hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	if fl.status != 0 {
		if fl.retryAfter != "" {
			w.Header().Set("Retry-After", fl.retryAfter)
		}
		answered(fl.status)
		writeOutcome(w, fl.status, codeFor(fl.status), "injected fault")
		return
	}
	if created.UBRN == "" {
		return // held then abandoned without a commit
	}
	answered(http.StatusCreated)
	w.Header().Set("Content-Type", fhirJSON)
	w.Header().Set("ETag", `W/"1"`)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(referralRequestJSON(created))
}

func referralRequestJSON(r fakeReferral) map[string]any {
	return map[string]any{
		"resourceType": "ReferralRequest",
		"id":           r.UBRN,
		"meta":         map[string]any{"versionId": "1"},
		"status":       "active",
		"intent":       "plan",
		"subject": map[string]any{"identifier": map[string]any{
			"system": systemNHSNumber, "value": r.NHSNumber,
		}},
	}
}

func (f *fakeERS) fetchWorklist(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(b), listAwaitingBooking) || !strings.Contains(string(b), systemListSelector) {
		writeOutcome(w, http.StatusUnprocessableEntity, "INVALID_CODE", "listType must be AWAITING_BOOKING")
		return
	}
	f.mu.Lock()
	f.worklistFetches++
	refs := append([]fakeReferral(nil), f.referrals...)
	f.mu.Unlock()
	entries := make([]any, 0, len(refs))
	for _, ref := range refs {
		entries = append(entries, map[string]any{
			"extension": []any{map[string]any{
				"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AwaitingBooking-WorkListItem-1",
				"extension": []any{
					map[string]any{"url": "patient", "valueReference": map[string]any{
						"identifier": map[string]any{"system": systemNHSNumber, "value": ref.NHSNumber}}},
					map[string]any{"url": "referralCreated", "valueDateTime": ref.Created.Format(time.RFC3339Nano)},
				},
			}},
			"item": map[string]any{"reference": "ReferralRequest/" + ref.UBRN},
		})
	}
	w.Header().Set("Content-Type", fhirJSON)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "List", "status": "current", "mode": "snapshot", "entry": entries,
	})
}

func (f *fakeERS) read(w http.ResponseWriter, ubrn string) {
	f.mu.Lock()
	f.reads++
	var found *fakeReferral
	for i := range f.referrals {
		if f.referrals[i].UBRN == ubrn {
			found = &f.referrals[i]
		}
	}
	f.mu.Unlock()
	if found == nil {
		writeOutcome(w, http.StatusNotFound, "REFERENCE_NOT_FOUND", "no referral "+ubrn)
		return
	}
	w.Header().Set("Content-Type", fhirJSON)
	_ = json.NewEncoder(w).Encode(referralRequestJSON(*found))
}

func codeFor(status int) string {
	switch status {
	case 429:
		return "TOO_MANY_REQUESTS"
	case 503:
		return "SYSTEM_UNAVAILABLE"
	case 401, 403:
		return "NO_ACCESS"
	case 422:
		return "PATIENT_ERROR"
	}
	return "ERROR_" + strconv.Itoa(status)
}

func writeOutcome(w http.ResponseWriter, status int, code, diag string) {
	w.Header().Set("Content-Type", fhirJSON)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "OperationOutcome",
		"issue": []any{map[string]any{
			"severity": "error", "code": "processing",
			"details": map[string]any{"coding": []any{map[string]any{
				"system": "https://fhir.nhs.uk/STU3/CodeSystem/eRS-APIErrorCode-1", "code": code}}},
			"diagnostics": diag,
		}},
	})
}
