package load_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// fakeSUT records referral requests and answers each with respond.
type fakeSUT struct {
	mu       sync.Mutex
	requests []map[string]string
	respond  func(w http.ResponseWriter, r *http.Request, body map[string]string)
}

func (f *fakeSUT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/referrals" {
		http.Error(w, `{"error":"wrong route"}`, http.StatusNotFound)
		return
	}
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, body)
	f.mu.Unlock()
	f.respond(w, r, body)
}

// sent returns the request bodies received so far.
func (f *fakeSUT) sent() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.requests...)
}

func answer(status int, v any) func(http.ResponseWriter, *http.Request, map[string]string) {
	return func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
}

func TestReferPatientOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(http.ResponseWriter, *http.Request, map[string]string)
		wantOutcome record.Outcome
		wantStatus  int
		wantUBRN    string
		wantError   string // substring; "" means no error
	}{
		{
			name: "created with UBRN",
			respond: func(w http.ResponseWriter, _ *http.Request, b map[string]string) {
				answer(http.StatusCreated, map[string]string{"requestId": b["requestId"], "ubrn": "000000070001", "state": "NOT_BOOKED"})(w, nil, nil)
			},
			wantOutcome: record.OK, wantStatus: 201, wantUBRN: "000000070001",
		},
		{
			name:        "accepted for later, no UBRN yet",
			respond:     answer(http.StatusAccepted, map[string]string{"requestId": "x", "state": "QUEUED"}),
			wantOutcome: record.OK, wantStatus: 202,
		},
		{
			name: "accepted with unreadable answer is still accepted",
			respond: func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, "<html>ok</html>")
			},
			wantOutcome: record.OK, wantStatus: 200, wantError: "not the expected JSON",
		},
		{
			name:        "refused by the SUT",
			respond:     answer(http.StatusServiceUnavailable, map[string]string{"error": "e-RS unavailable"}),
			wantOutcome: record.Fail, wantStatus: 503, wantError: "HTTP 503: e-RS unavailable",
		},
		{
			name:        "bad request",
			respond:     answer(http.StatusUnprocessableEntity, map[string]string{"error": "PATIENT_ERROR"}),
			wantOutcome: record.Fail, wantStatus: 422, wantError: "PATIENT_ERROR",
		},
		{
			name: "refused with empty body",
			respond: func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantOutcome: record.Fail, wantStatus: 500, wantError: "HTTP 500",
		},
		{
			name: "no answer before the timeout",
			respond: func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
				<-r.Context().Done()
			},
			wantOutcome: record.Unknown, wantError: "no answer before the timeout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sut := &fakeSUT{respond: tt.respond}
			srv := httptest.NewServer(sut)
			t.Cleanup(srv.Close)
			clock := record.NewClock(nil)
			w := load.NewReferPatient(load.ReferPatientConfig{
				BaseURL: srv.URL + "/", Client: srv.Client(), Seed: 7, Clock: clock,
			})
			require.Equal(t, "refer-patient", w.Name())

			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			op := w.Iterate(ctx, load.Arrival{N: 3, Intended: clock.Now()})

			require.Equal(t, "refer", op.Action)
			require.Equal(t, tt.wantOutcome, op.Outcome)
			require.Equal(t, tt.wantStatus, op.Status)
			if tt.wantError == "" {
				require.Empty(t, op.Error)
			} else {
				require.Contains(t, op.Error, tt.wantError)
			}
			require.Equal(t, tt.wantUBRN, op.Key(record.KeyUBRN))
			_, hasUBRN := op.Keys[record.KeyUBRN]
			require.Equal(t, tt.wantUBRN != "", hasUBRN, "ubrn key only when present")
			require.True(t, synthetic.ValidNHSNumber(op.Key(record.KeyNHSNumber)), "nhs_number key %q", op.Key(record.KeyNHSNumber))
			require.Equal(t, load.RequestID(7, 3), op.Key(record.KeyRequestID))
			require.LessOrEqual(t, op.Call, op.Return)
			require.Positive(t, op.Return)

			// What was sent.
			sent := sut.sent()
			require.Len(t, sent, 1)
			require.Equal(t, map[string]string{
				"requestId":  load.RequestID(7, 3),
				"nhsNumber":  op.Key(record.KeyNHSNumber),
				"serviceId":  "11002",
				"priority":   "ROUTINE",
				"specialty":  "CARDIOLOGY",
				"clinicType": "HEART_FAILURE",
			}, sent[0])
		})
	}
}

func TestReferPatientNoServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	w := load.NewReferPatient(load.ReferPatientConfig{BaseURL: url, Seed: 1})
	op := w.Iterate(t.Context(), load.Arrival{})
	require.Equal(t, record.Unknown, op.Outcome)
	require.Contains(t, op.Error, "refused")
	require.Zero(t, op.Status)
	require.NotEmpty(t, op.Key(record.KeyNHSNumber))
}

func TestReferPatientCustomReferral(t *testing.T) {
	sut := &fakeSUT{respond: answer(http.StatusCreated, map[string]string{"ubrn": "1"})}
	srv := httptest.NewServer(sut)
	t.Cleanup(srv.Close)
	w := load.NewReferPatient(load.ReferPatientConfig{
		BaseURL: srv.URL, ServiceID: "20001", Specialty: "DERMATOLOGY", ClinicType: "SKIN_CANCER", Priority: "TWO_WEEK_WAIT",
	})
	w.Iterate(t.Context(), load.Arrival{})
	sent := sut.sent()
	require.Len(t, sent, 1)
	got := sent[0]
	require.Equal(t, "20001", got["serviceId"])
	require.Equal(t, "DERMATOLOGY", got["specialty"])
	require.Equal(t, "SKIN_CANCER", got["clinicType"])
	require.Equal(t, "TWO_WEEK_WAIT", got["priority"])
}

// The answer is read only up to a bound, so a misbehaving SUT cannot make
// the harness hold unbounded memory.
func TestReferPatientBoundedAnswer(t *testing.T) {
	sut := &fakeSUT{respond: func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"ubrn":"`+strings.Repeat("9", 2<<20)+`"}`)
	}}
	srv := httptest.NewServer(sut)
	t.Cleanup(srv.Close)
	w := load.NewReferPatient(load.ReferPatientConfig{BaseURL: srv.URL})
	op := w.Iterate(t.Context(), load.Arrival{})
	require.Equal(t, record.OK, op.Outcome)
	require.Empty(t, op.Key(record.KeyUBRN), "a truncated answer yields no UBRN")
	require.Contains(t, op.Error, "not the expected JSON")
}

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRequestIDDeterministic(t *testing.T) {
	seen := map[string]bool{}
	for n := range uint64(1000) {
		id := load.RequestID(42, n)
		require.Regexp(t, uuidShape, id)
		require.Equal(t, id, load.RequestID(42, n), "same seed and arrival, same id")
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
	require.NotEqual(t, load.RequestID(42, 0), load.RequestID(43, 0), "seeds give different ids")
	require.Equal(t, "00000000002a", load.RequestID(1, 42)[24:], "last group is the arrival number")
}

// Arrival N always refers the same patient for a seed, whatever order the
// arrivals' goroutines call in.
func TestReferPatientPatientsFollowArrivalOrder(t *testing.T) {
	sut := &fakeSUT{respond: answer(http.StatusCreated, map[string]string{})}
	srv := httptest.NewServer(sut)
	t.Cleanup(srv.Close)

	want := synthetic.NewPatients(9, synthetic.PracticeODS(9))
	var wantNHS []string
	for range 6 {
		wantNHS = append(wantNHS, want.Next().NHSNumber)
	}

	w := load.NewReferPatient(load.ReferPatientConfig{BaseURL: srv.URL, Seed: 9})
	got := map[uint64]string{}
	for _, n := range []uint64{2, 0, 5, 1, 4, 3} {
		op := w.Iterate(t.Context(), load.Arrival{N: n})
		got[n] = op.Key(record.KeyNHSNumber)
	}
	for n, nhs := range wantNHS {
		require.Equal(t, nhs, got[uint64(n)], "arrival %d", n)
	}
}

// The workload drives cleanly through the generator against a real server.
func TestReferPatientUnderGenerator(t *testing.T) {
	sut := &fakeSUT{respond: func(w http.ResponseWriter, _ *http.Request, b map[string]string) {
		answer(http.StatusCreated, map[string]string{"requestId": b["requestId"], "ubrn": "U" + b["nhsNumber"], "state": "NOT_BOOKED"})(w, nil, nil)
	}}
	srv := httptest.NewServer(sut)
	t.Cleanup(srv.Close)
	clock := record.NewClock(nil)
	h := record.NewHistory(nil)
	rep := load.Run(t.Context(), load.RunConfig{
		Clock:    clock,
		Pacer:    load.ConstantPacer{Freq: 200, Per: time.Second, Duration: 100 * time.Millisecond},
		Workload: load.NewReferPatient(load.ReferPatientConfig{BaseURL: srv.URL, Client: srv.Client(), Seed: 3, Clock: clock}),
		History:  h,
		Timeout:  5 * time.Second,
	})
	require.EqualValues(t, 20, rep.Issued)
	nhs := map[string]bool{}
	for _, op := range h.Operations() {
		require.Equal(t, "refer-patient", op.Workload)
		require.Equal(t, record.OK, op.Outcome, op.Error)
		require.Equal(t, "U"+op.Key(record.KeyNHSNumber), op.Key(record.KeyUBRN))
		require.GreaterOrEqual(t, op.Call, op.Intended)
		nhs[op.Key(record.KeyNHSNumber)] = true
	}
	require.Len(t, nhs, 20, "every arrival refers a different patient")
}

// Arrivals the generator dropped never ask for their patient; the workload
// must not hold those patients for ever, and later arrivals keep their
// reproducible patients.
func TestReferPatientForgetsDroppedArrivals(t *testing.T) {
	sut := &fakeSUT{respond: answer(http.StatusCreated, map[string]string{})}
	srv := httptest.NewServer(sut)
	t.Cleanup(srv.Close)

	want := synthetic.NewPatients(5, synthetic.PracticeODS(5))
	var wantNHS []string
	for range 20001 {
		wantNHS = append(wantNHS, want.Next().NHSNumber)
	}
	w := load.NewReferPatient(load.ReferPatientConfig{BaseURL: srv.URL, Seed: 5})
	// Only every thousandth arrival asks; the rest were "dropped".
	for n := uint64(0); n <= 20000; n += 1000 {
		op := w.Iterate(t.Context(), load.Arrival{N: n})
		require.Equal(t, wantNHS[n], op.Key(record.KeyNHSNumber), "arrival %d", n)
	}
	require.LessOrEqual(t, load.WaitingPatients(w), 2*4096+1000)
}
