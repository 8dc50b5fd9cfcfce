package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// naiveAttempts is how many times naive mode sends one referral.
const naiveAttempts = 5

// naive is how the incidents happened: the clinician's request waits on
// e-RS, the client has no timeout, and every failure — including a response
// lost after e-RS committed the referral — is "fixed" by sending the same
// referral again at once. Nothing survives a restart.
type naive struct {
	cfg config
	log *slog.Logger
	ers *ersClient

	mu   sync.Mutex
	refs map[string]referralStatus
}

func newNaive(cfg config, log *slog.Logger) *naive {
	// No Timeout: a stalled e-RS blocks the clinician indefinitely.
	hc := &http.Client{}
	return &naive{cfg: cfg, log: log, ers: newERSClient(cfg, hc), refs: map[string]referralStatus{}}
}

func (n *naive) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", handleHealth)
	mux.HandleFunc("POST /referrals", n.post)
	mux.HandleFunc("GET /referrals/{requestId}", n.get)
	return mux
}

func (n *naive) start()                             {}
func (n *naive) shutdown(ctx context.Context) error { return nil }

func (n *naive) set(st referralStatus) {
	n.mu.Lock()
	n.refs[st.RequestID] = st
	n.mu.Unlock()
}

func (n *naive) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("requestId")
	n.mu.Lock()
	st, ok := n.refs[id]
	n.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, id, "no referral with this requestId")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (n *naive) post(w http.ResponseWriter, r *http.Request) {
	ref, status, err := decodeReferral(r)
	if err != nil {
		writeError(w, status, ref.RequestID, err.Error())
		return
	}
	log := n.log.With("request_id", ref.RequestID, "nhs_number", ref.NHSNumber)
	body, err := createReferralBody(n.cfg.ersURL, ref, time.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, ref.RequestID, err.Error())
		return
	}
	st := referralStatus{RequestID: ref.RequestID, State: stateSending}
	n.set(st)

	var last sendResult
	for attempt := 1; attempt <= naiveAttempts; attempt++ {
		st.Attempts = attempt
		last = n.ers.createReferral(r.Context(), body)
		log.Info("createReferral attempt", "attempt", attempt, "correlation_id", last.correlationID,
			"outcome", last.outcome, "status", last.status, "err", last.err)
		switch last.outcome {
		case outcomeCreated:
			st.State, st.UBRN, st.LastError = stateCreated, last.ubrn, ""
			n.set(st)
			log.Info("referral created", "ubrn", last.ubrn, "attempts", attempt)
			writeJSON(w, http.StatusCreated, referralStatus{RequestID: ref.RequestID, State: stateCreated, UBRN: last.ubrn})
			return
		case outcomeRejected:
			st.State, st.LastError = stateFailed, last.describe()
			n.set(st)
			log.Error("e-RS rejected the referral", "err", st.LastError)
			writeError(w, http.StatusBadGateway, ref.RequestID, "e-RS rejected the referral: "+st.LastError)
			return
		}
		// Anything else: straight back in, no backoff, Retry-After ignored.
	}
	st.State, st.LastError = stateFailed, last.describe()
	n.set(st)
	msg := fmt.Sprintf("e-RS createReferral failed after %d attempts: %s", naiveAttempts, st.LastError)
	log.Error("referral failed", "err", msg)
	writeError(w, http.StatusBadGateway, ref.RequestID, msg)
}
