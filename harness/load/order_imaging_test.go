package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

func practice(n int) []synthetic.Patient {
	ps := synthetic.NewPatients(3, "Y12345")
	out := make([]synthetic.Patient, n)
	for i := range out {
		out[i] = ps.Next()
	}
	return out
}

// script is what a fake host does for one hook: how long the screen waits
// and the answer (Blocked is filled in from the wait).
type script struct {
	wait time.Duration
	call cdshooks.Call
}

// fakeHost answers each hook from a script, waiting on the (fake, under
// synctest) clock, and records requests and feedback.
type fakeHost struct {
	scripts map[string]script

	mu       sync.Mutex
	requests []cdshooks.Request
	feedback []cdshooks.Feedback
}

func (h *fakeHost) Invoke(ctx context.Context, req cdshooks.Request) cdshooks.Call {
	h.mu.Lock()
	h.requests = append(h.requests, req)
	h.mu.Unlock()
	s := h.scripts[req.Hook]
	c := s.call
	c.Hook, c.Service, c.Budget = req.Hook, req.ServiceID, 2*time.Second
	if c.Outcome == "" {
		c.Outcome = cdshooks.OutcomeNoCards
		c.Status = 200
	}
	began := time.Now()
	select {
	case <-time.After(s.wait):
	case <-ctx.Done():
		c = cdshooks.Call{Hook: req.Hook, Service: req.ServiceID, Budget: 2 * time.Second, Outcome: cdshooks.OutcomeError, Err: ctx.Err()}
	}
	c.Blocked = time.Since(began)
	c.Freeze = c.Blocked > c.Budget
	return c
}

func (h *fakeHost) Feedback(_ context.Context, service string, fb cdshooks.Feedback) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if service != load.ServiceOrderSign {
		return errors.New("feedback to the wrong service " + service)
	}
	h.feedback = append(h.feedback, fb)
	return nil
}

func cardsAnswer() cdshooks.Call {
	return cdshooks.Call{Status: 200, Outcome: cdshooks.OutcomeCards, Response: cdshooks.Response{Cards: []cdshooks.Card{{
		UUID: "card-1", Summary: "Lumbar spine imaging: not appropriate", Indicator: "warning",
		Suggestions:     []cdshooks.Suggestion{{Label: "Cancel the order", UUID: "sugg-1"}},
		OverrideReasons: []cdshooks.Coding{{Code: "clinical-judgement", Display: "Clinical judgement"}},
	}}}}
}

func TestOrderImaging(t *testing.T) {
	tests := []struct {
		name          string
		scripts       map[string]script
		timeout       time.Duration
		budget        time.Duration
		wantOutcome   record.Outcome
		wantSigned    bool
		wantCDSFailed bool
		wantHooks     []string // outcomes, in order
		wantBlocked   time.Duration
		wantFreezes   int
		wantUnsafe    []string
		wantJournal   string
		wantReason    string
		wantError     string
		wantFeedback  int
	}{
		{
			name: "decision support answers quickly",
			scripts: map[string]script{
				"order-select": {wait: 300 * time.Millisecond, call: cardsAnswer()},
				"order-sign":   {wait: 200 * time.Millisecond, call: cardsAnswer()},
			},
			wantOutcome: record.OK, wantSigned: true,
			wantHooks:   []string{"cards", "cards"},
			wantBlocked: 500 * time.Millisecond,
			wantJournal: load.KindOrderSigned, wantFeedback: 1,
		},
		{
			name: "decision support fails: the order is signed without it",
			scripts: map[string]script{
				"order-select": {wait: 100 * time.Millisecond, call: cdshooks.Call{Status: 503, Outcome: cdshooks.OutcomeError, Err: errors.New("HTTP 503")}},
				"order-sign":   {wait: 3 * time.Second, call: cdshooks.Call{Outcome: cdshooks.OutcomeTimeout, Err: errors.New("no answer")}},
			},
			wantOutcome: record.OK, wantSigned: true, wantCDSFailed: true,
			wantHooks:   []string{"error", "timeout"},
			wantBlocked: 3100 * time.Millisecond, wantFreezes: 1,
			wantJournal: load.KindOrderSigned,
		},
		{
			name: "an unsafe answer loses the order",
			scripts: map[string]script{
				"order-select": {wait: 100 * time.Millisecond, call: cdshooks.Call{Status: 200, Outcome: cdshooks.OutcomeUnsafe, Unsafe: "invalid-json",
					Problems: []cdshooks.Problem{{Path: "$", Msg: "unexpected end of JSON input"}}}},
			},
			wantOutcome: record.Fail, wantCDSFailed: true,
			wantHooks:   []string{"unsafe"}, // order-sign never fires: the host went down
			wantBlocked: 100 * time.Millisecond,
			wantUnsafe:  []string{"invalid-json (order-select): $: unexpected end of JSON input"},
			wantJournal: load.KindOrderAbandoned, wantReason: load.ReasonUnsafe,
			wantError: "order lost: the order-select answer was unsafe (invalid-json)",
		},
		{
			name: "the clinician gives up",
			scripts: map[string]script{
				"order-select": {wait: 8 * time.Second, call: cardsAnswer()},
				"order-sign":   {wait: 8 * time.Second, call: cardsAnswer()},
			},
			timeout:     10 * time.Second,
			wantOutcome: record.Fail, wantCDSFailed: true,
			wantHooks: []string{"cards", "error"},
			// order-select froze the screen (8s); order-sign was cut off at
			// exactly the 2s budget, which is not over it.
			wantBlocked: 10 * time.Second, wantFreezes: 1,
			wantJournal: load.KindOrderAbandoned, wantReason: load.ReasonGaveUp,
			wantError: "the clinician gave up waiting after 10s, before the order was signed: context deadline exceeded",
		},
		{
			name: "the scenario's budget judges freezes",
			scripts: map[string]script{
				"order-select": {wait: 1500 * time.Millisecond},
				"order-sign":   {wait: 500 * time.Millisecond},
			},
			budget:      time.Second,
			wantOutcome: record.OK, wantSigned: true,
			wantHooks:   []string{"no-cards", "no-cards"},
			wantBlocked: 2 * time.Second, wantFreezes: 1,
			wantJournal: load.KindOrderSigned,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				host := &fakeHost{scripts: tt.scripts}
				j := journal.New("gpconnect", nil)
				clock := record.NewClock(nil)
				w, err := load.NewOrderImaging(load.OrderImagingConfig{
					Host: host, Patients: practice(5), Seed: 42, Clock: clock, Journal: j, Budget: tt.budget,
				})
				require.NoError(t, err)
				require.Equal(t, "order-imaging", w.Name())

				ctx := t.Context()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				op := w.Iterate(ctx, load.Arrival{N: 7})

				require.Equal(t, "order", op.Action)
				require.Equal(t, tt.wantOutcome, op.Outcome, op.Error)
				require.NotEmpty(t, op.Key(record.KeyNHSNumber))
				require.NotEmpty(t, op.Key(load.KeyOrderID))
				require.Equal(t, tt.wantBlocked, op.Return-op.Call, "the fake clock makes the timing exact")
				require.NotNil(t, op.Host)
				h := op.Host
				require.Equal(t, tt.wantSigned, h.Signed)
				require.Equal(t, tt.wantCDSFailed, h.CDSFailed)
				require.Equal(t, tt.wantBlocked, h.Blocked)
				require.Equal(t, tt.wantFreezes, h.Freezes)
				require.Equal(t, tt.wantUnsafe, h.Unsafe)
				var outcomes []string
				for _, c := range h.Hooks {
					outcomes = append(outcomes, c.Outcome)
					require.Equal(t, cmpOr(tt.budget, 2*time.Second), c.Budget)
				}
				require.Equal(t, tt.wantHooks, outcomes)
				if tt.wantError != "" {
					require.Contains(t, op.Error, tt.wantError)
				} else {
					require.Empty(t, op.Error)
				}

				entries := j.Entries()
				require.Len(t, entries, 1)
				require.Equal(t, tt.wantJournal, entries[0].Kind)
				require.Equal(t, map[string]string{"nhs_number": op.Key("nhs_number"), "order_id": op.Key("order_id")}, entries[0].Keys)
				require.Equal(t, tt.wantReason, entries[0].Attrs["reason"])

				require.Len(t, host.feedback, tt.wantFeedback)

				// What the host was asked: the same draft order, on both hooks.
				require.Len(t, host.requests, len(tt.wantHooks))
				for i, r := range host.requests {
					require.Equal(t, []string{"order-select", "order-sign"}[i], r.Hook)
					require.Equal(t, []string{load.ServiceOrderSelect, load.ServiceOrderSign}[i], r.ServiceID)
					require.Equal(t, op.Key(record.KeyNHSNumber), r.Context["patientId"], "the example CDS service wants the NHS number")
					require.Equal(t, load.DefaultUserID, r.Context["userId"])
					require.Len(t, r.HookInstance, 36)
				}
			})
		})
	}
}

func cmpOr(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}

func TestOrderImagingFeedbackIsSeeded(t *testing.T) {
	run := func(seed uint64) (outcomes []string) {
		host := &fakeHost{scripts: map[string]script{"order-sign": {call: cardsAnswer()}}}
		w, err := load.NewOrderImaging(load.OrderImagingConfig{Host: host, Patients: practice(3), Seed: seed})
		require.NoError(t, err)
		for n := range uint64(20) {
			require.Equal(t, record.OK, w.Iterate(t.Context(), load.Arrival{N: n}).Outcome)
		}
		for _, fb := range host.feedback {
			require.Equal(t, "card-1", fb.Card)
			switch fb.Outcome {
			case cdshooks.OutcomeAccepted:
				require.Equal(t, []cdshooks.AcceptedSuggestion{{ID: "sugg-1"}}, fb.AcceptedSuggestions)
				require.Nil(t, fb.OverrideReason)
			case cdshooks.OutcomeOverridden:
				require.NotNil(t, fb.OverrideReason)
				require.Equal(t, "clinical-judgement", fb.OverrideReason.Reason.Code)
			default:
				t.Fatalf("feedback outcome %q", fb.Outcome)
			}
			outcomes = append(outcomes, fb.Outcome)
		}
		return outcomes
	}
	a := run(9)
	require.Len(t, a, 20)
	require.Equal(t, a, run(9), "the same seed gives the same clinician")
	require.Contains(t, a, cdshooks.OutcomeAccepted)
	require.Contains(t, a, cdshooks.OutcomeOverridden)
}

func TestOrderImagingChoicesAreSeeded(t *testing.T) {
	patients := practice(4)
	plan := func(seed uint64, arrivals []uint64) []string {
		host := &fakeHost{}
		w, err := load.NewOrderImaging(load.OrderImagingConfig{Host: host, Patients: patients, Seed: seed})
		require.NoError(t, err)
		out := make([]string, len(arrivals))
		for i, n := range arrivals {
			op := w.Iterate(t.Context(), load.Arrival{N: n})
			proc := host.requests[len(host.requests)-1].Context["draftOrders"].(map[string]any)["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["code"].(map[string]any)["text"]
			out[i] = op.Key(record.KeyNHSNumber) + " " + op.Key(load.KeyOrderID) + " " + proc.(string)
		}
		return out
	}
	forward := plan(5, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	backward := plan(5, []uint64{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0})
	for i := range forward {
		require.Equal(t, forward[i], backward[len(backward)-1-i], "arrival %d's choices do not depend on the order arrivals run in", i)
	}
	require.NotEqual(t, forward, plan(6, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}))

	nhs := map[string]int{}
	procs := map[string]bool{}
	ids := map[string]bool{}
	for _, s := range forward {
		f := strings.SplitN(s, " ", 3)
		nhs[f[0]]++
		ids[f[1]] = true
		procs[f[2]] = true
	}
	require.Len(t, ids, 12, "every order has its own id")
	require.LessOrEqual(t, len(nhs), 4, "orders are for the practice's patients")
	require.Less(t, len(nhs), 12, "patients repeat")
	require.Greater(t, len(procs), 1, "orders are drawn from the catalogue")
	for p := range procs {
		require.True(t, strings.Contains(p, "MRI") || strings.Contains(p, "CT") || strings.Contains(p, "X-ray"), p)
	}
}

func TestNewOrderImagingErrors(t *testing.T) {
	_, err := load.NewOrderImaging(load.OrderImagingConfig{Budget: -time.Second})
	require.ErrorContains(t, err, "order-imaging workload: no CDS Hooks host")
	require.ErrorContains(t, err, "no patients to order for")
	require.ErrorContains(t, err, "the UI budget must not be negative")
}

func TestImagingOrders(t *testing.T) {
	orders := load.ImagingOrders()
	require.Len(t, orders, 4)
	for _, o := range orders {
		require.NotEmpty(t, o.Procedure.Code)
		require.NotEmpty(t, o.Procedure.Display)
		require.Equal(t, "http://snomed.info/sct", o.Reason.System)
	}
	orders[0].Procedure.Display = "scribbled"
	require.Equal(t, "MRI lumbar spine", load.ImagingOrders()[0].Procedure.Display)
}

// fakeCDSService is a CDS service over HTTP: order-select answers with no
// cards, order-sign with one card; it records the feedback it gets.
type fakeCDSService struct {
	mu       sync.Mutex
	hooks    []string
	feedback []json.RawMessage
}

func (s *fakeCDSService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/cds-services/" + load.ServiceOrderSelect:
		s.hooks = append(s.hooks, "order-select")
		_, _ = io.WriteString(w, `{"cards": []}`)
	case "/cds-services/" + load.ServiceOrderSign:
		s.hooks = append(s.hooks, "order-sign")
		_, _ = io.WriteString(w, `{"cards": [{"uuid": "c-1", "summary": "Lumbar spine imaging: not appropriate", "indicator": "warning",
			"source": {"label": "Imaging guidance"},
			"suggestions": [{"label": "Cancel the order", "uuid": "s-1"}],
			"overrideReasons": [{"code": "clinical-judgement", "display": "Clinical judgement"}]}]}`)
	case "/cds-services/" + load.ServiceOrderSign + "/feedback":
		s.feedback = append(s.feedback, body)
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

// Against a real CDS Hooks host and a CDS service over HTTP.
func TestOrderImagingThroughARealHost(t *testing.T) {
	svc := &fakeCDSService{}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	signer, err := cdshooks.NewSigner()
	require.NoError(t, err)
	host, err := cdshooks.NewHost(cdshooks.HostConfig{
		ServiceBase: srv.URL + "/cds-services", Issuer: "https://gpconnect.shakedown.invalid", Signer: signer,
		Budget: time.Second,
	})
	require.NoError(t, err)
	j := journal.New("gpconnect", nil)
	w, err := load.NewOrderImaging(load.OrderImagingConfig{Host: host, Patients: practice(10), Seed: 1, Journal: j})
	require.NoError(t, err)

	for n := range uint64(6) {
		op := w.Iterate(t.Context(), load.Arrival{N: n})
		require.Equal(t, record.OK, op.Outcome, op.Error)
		require.Empty(t, op.Error)
		h := op.Host
		require.True(t, h.Signed)
		require.False(t, h.CDSFailed)
		require.Len(t, h.Hooks, 2)
		require.Equal(t, "no-cards", h.Hooks[0].Outcome)
		require.Equal(t, "cards", h.Hooks[1].Outcome)
		require.Equal(t, 1, h.Hooks[1].Cards)
		require.Equal(t, time.Second, h.Hooks[0].Budget, "the host's budget, when the workload has none")
		require.Equal(t, h.Hooks[0].Blocked+h.Hooks[1].Blocked, h.Blocked)
		require.Equal(t, 200, op.Status)
	}
	require.Equal(t, 6, j.Count(load.KindOrderSigned))
	svc.mu.Lock()
	defer svc.mu.Unlock()
	require.Len(t, svc.hooks, 12)
	require.Len(t, svc.feedback, 6, "one feedback per order-sign card")
	var fb struct {
		Feedback []struct {
			Card    string `json:"card"`
			Outcome string `json:"outcome"`
		} `json:"feedback"`
	}
	require.NoError(t, json.Unmarshal(svc.feedback[0], &fb))
	require.Equal(t, "c-1", fb.Feedback[0].Card)
	require.Contains(t, []string{"accepted", "overridden"}, fb.Feedback[0].Outcome)
}
