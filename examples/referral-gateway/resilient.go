package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// clockSkew is how far e-RS's clock may be behind ours when matching a
// worklist entry's referralCreated to our first attempt.
const clockSkew = 2 * time.Second

// resilient accepts referrals into a durable outbox and forwards them to
// e-RS in the background, without ever creating a second UBRN for one
// referral.
type resilient struct {
	cfg config
	log *slog.Logger
	ers *ersClient
	box *outbox

	sendQ  *delayQueue // queued referrals, due to be sent
	reconQ *delayQueue // uncertain referrals, due to be reconciled
	gate   *gate
	now    func() time.Time

	// stopCtx ends the waiting for work; killCtx aborts calls in flight.
	stopCtx  context.Context
	stop     context.CancelFunc
	killCtx  context.Context
	kill     context.CancelFunc
	wg       sync.WaitGroup
	startOne sync.Once

	badMu   sync.Mutex
	badUBRN map[string]bool // worklist entries that did not match on read-back
}

// openResilient loads the outbox and schedules everything that is not
// finished. It does not send until start is called.
func openResilient(cfg config, log *slog.Logger) (*resilient, error) {
	box, err := openOutbox(cfg.stateDir, log)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.workers * 2
	tr.DialContext = (&net.Dialer{Timeout: cfg.attemptTimeout, KeepAlive: 30 * time.Second}).DialContext
	// Each call has its own deadline (cfg.attemptTimeout) through its context.
	hc := &http.Client{Transport: tr}

	s := &resilient{
		cfg:     cfg,
		log:     log,
		ers:     newERSClient(cfg, hc),
		box:     box,
		sendQ:   newDelayQueue(),
		reconQ:  newDelayQueue(),
		gate:    newGate(cfg.backoffBase, cfg.backoffCap),
		now:     time.Now,
		badUBRN: map[string]bool{},
	}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	s.killCtx, s.kill = context.WithCancel(context.Background())

	counts := map[state]int{}
	now := s.now()
	for _, e := range box.all() {
		rec := e.snapshot()
		counts[rec.State]++
		switch rec.State {
		case stateQueued:
			s.sendQ.push(rec.RequestID, now)
		case stateUncertain:
			s.reconQ.push(rec.RequestID, now)
		}
	}
	log.Info("outbox loaded", "dir", box.dir,
		"queued", counts[stateQueued], "uncertain", counts[stateUncertain],
		"created", counts[stateCreated], "failed", counts[stateFailed])
	return s, nil
}

func (s *resilient) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", handleHealth)
	mux.HandleFunc("POST /referrals", s.post)
	mux.HandleFunc("GET /referrals/{requestId}", s.get)
	return mux
}

// start launches the sender workers and the reconciler.
func (s *resilient) start() {
	s.startOne.Do(func() {
		for i := range s.cfg.workers {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.sender(i)
			}()
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.reconciler()
		}()
	})
}

// shutdown stops taking work, lets calls in flight finish (their outcome is
// recorded), and aborts them if ctx ends first.
func (s *resilient) shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.kill()
		return nil
	case <-ctx.Done():
		s.kill()
		<-done
		return fmt.Errorf("calls to e-RS were still in flight at shutdown; they are recorded as uncertain")
	}
}

func statusOf(rec record) referralStatus {
	return referralStatus{RequestID: rec.RequestID, State: rec.State, UBRN: rec.UBRN,
		Attempts: rec.Attempts, LastError: rec.LastError}
}

func (s *resilient) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("requestId")
	e := s.box.get(id)
	if e == nil {
		writeError(w, http.StatusNotFound, id, "no referral with this requestId")
		return
	}
	writeJSON(w, http.StatusOK, statusOf(e.snapshot()))
}

func (s *resilient) post(w http.ResponseWriter, r *http.Request) {
	ref, status, err := decodeReferral(r)
	if err != nil {
		writeError(w, status, ref.RequestID, err.Error())
		return
	}
	e, created, err := s.box.add(ref)
	if err != nil {
		s.log.Error("could not store referral; answering 503", "request_id", ref.RequestID, "err", err)
		writeError(w, http.StatusServiceUnavailable, ref.RequestID, "the referral could not be stored durably; try again")
		return
	}
	rec := e.snapshot()
	if !created {
		if rec.Referral != ref {
			writeError(w, http.StatusConflict, ref.RequestID,
				"requestId was already used for a different referral; use a new requestId")
			return
		}
		s.log.Info("repeat of a known referral", "request_id", ref.RequestID, "state", rec.State)
		writeJSON(w, http.StatusAccepted, statusOf(rec))
		return
	}
	s.log.Info("referral accepted", "request_id", ref.RequestID, "nhs_number", ref.NHSNumber)
	s.sendQ.push(ref.RequestID, s.now())
	writeJSON(w, http.StatusAccepted, statusOf(rec))
}

// sender is one worker: it sends queued referrals as they fall due.
func (s *resilient) sender(worker int) {
	for {
		id, err := s.sendQ.pop(s.stopCtx)
		if err != nil {
			return
		}
		s.send(worker, id)
	}
}

func (s *resilient) send(worker int, id string) {
	e := s.box.get(id)
	if e == nil {
		return
	}
	log := s.log.With("request_id", id, "worker", worker)
	release, err := s.gate.acquire(s.stopCtx)
	if err != nil {
		return // shutting down; the record is still queued on disk
	}
	defer release()
	if rec := e.snapshot(); rec.State != stateQueued {
		log.Warn("skipping send: referral is not queued", "state", rec.State)
		return
	}
	start := s.now().UTC()
	if err := s.box.update(e, func(r *record) {
		r.State = stateSending
		r.Attempts++
		if r.FirstAttemptAt.IsZero() {
			r.FirstAttemptAt = start
		}
		r.LastAttemptAt = start
	}); err != nil {
		// Never send what we could not record as in flight.
		log.Error("could not record send; will retry", "err", err)
		s.sendQ.push(id, s.now().Add(s.gate.failure()))
		return
	}
	rec := e.snapshot()
	body, err := createReferralBody(s.cfg.ersURL, rec.Referral, rec.AcceptedAt)
	if err != nil {
		s.finish(log, e, stateFailed, "", "building createReferral: "+err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(s.killCtx, s.cfg.attemptTimeout)
	res := s.ers.createReferral(ctx, body)
	cancel()
	s.gate.note(res.exchange)
	log = log.With("attempt", rec.Attempts, "correlation_id", res.correlationID, "status", res.status,
		"elapsed", s.now().Sub(start).Round(time.Millisecond))

	switch res.outcome {
	case outcomeCreated:
		s.finish(log, e, stateCreated, res.ubrn, "")
	case outcomeRejected:
		s.finish(log, e, stateFailed, "", res.describe())
	case outcomeNotCreated:
		due := s.now().Add(backoff(s.cfg.backoffBase, s.cfg.backoffCap, rec.Attempts))
		if res.hasRetryAfter() {
			due = s.now().Add(res.retryAfter)
		}
		log.Warn("e-RS did not create the referral; will send again",
			"err", res.describe(), "retry_after", res.retryAfter, "retry_in", time.Until(due).Round(time.Millisecond))
		if err := s.box.record(e, func(r *record) { r.State = stateQueued; r.LastError = res.describe() }); err != nil {
			log.Error("could not record outcome", "err", err)
		}
		s.sendQ.push(id, due)
	case outcomeUncertain:
		log.Warn("send outcome unknown; will reconcile against the worklist before sending again",
			"err", res.describe())
		s.markUncertain(log, e, res.describe())
	}
}

// markUncertain records that e may be in e-RS and schedules a reconcile.
func (s *resilient) markUncertain(log *slog.Logger, e *entry, why string) {
	if err := s.box.record(e, func(r *record) { r.State = stateUncertain; r.LastError = why }); err != nil {
		// On disk it is still "sending", which a restart also treats as
		// uncertain; carry on in memory.
		log.Error("could not record uncertain outcome", "err", err)
	}
	s.reconQ.push(e.snapshot().RequestID, s.now())
}

// finish records a final state.
func (s *resilient) finish(log *slog.Logger, e *entry, st state, ubrn, why string) {
	err := s.box.record(e, func(r *record) {
		r.State, r.LastError = st, why
		if ubrn != "" {
			r.UBRN = ubrn
		}
	})
	if err != nil {
		log.Error("could not record final state", "state", st, "ubrn", ubrn, "err", err)
	}
	switch st {
	case stateCreated:
		log.Info("referral created", "ubrn", ubrn)
	case stateFailed:
		log.Error("REFERRAL FAILED: e-RS refused it and it will not be sent again; a person must act on it",
			"nhs_number", e.snapshot().Referral.NHSNumber, "err", why)
	}
}

// reconciler settles uncertain referrals in batches: one worklist fetch
// serves every referral that fell due while the previous batch was running.
func (s *resilient) reconciler() {
	for {
		ids, err := s.reconQ.popAllDue(s.stopCtx)
		if err != nil {
			return
		}
		s.reconcile(ids)
	}
}

func (s *resilient) reconcile(ids []string) {
	log := s.log.With("batch", len(ids))
	release, err := s.gate.acquire(s.stopCtx)
	if err != nil {
		return // shutting down; the records stay uncertain on disk
	}
	ctx, cancel := context.WithTimeout(s.killCtx, s.cfg.attemptTimeout)
	worklist, x, err := s.ers.fetchWorklist(ctx, listAwaitingBooking)
	cancel()
	s.gate.note(x)
	release()
	if err != nil {
		due := s.now().Add(backoff(s.cfg.backoffBase, s.cfg.backoffCap, 1))
		if x.hasRetryAfter() {
			due = s.now().Add(x.retryAfter)
		}
		log.Warn("worklist fetch failed; uncertain referrals wait", "correlation_id", x.correlationID, "err", err)
		for _, id := range ids {
			s.reconQ.push(id, due)
		}
		return
	}
	log.Info("worklist fetched for reconciliation", "entries", len(worklist), "correlation_id", x.correlationID)

	byPatient := map[string][]worklistEntry{}
	for _, we := range worklist {
		byPatient[we.NHSNumber] = append(byPatient[we.NHSNumber], we)
	}
	claimed := map[string]bool{}
	for _, e := range s.box.all() {
		if rec := e.snapshot(); rec.UBRN != "" {
			claimed[rec.UBRN] = true
		}
	}

	// Choose a candidate for each referral (sequentially, so that no two
	// referrals claim one UBRN), then read the candidates back in parallel.
	type job struct {
		e         *entry
		rec       record
		candidate worklistEntry
	}
	var jobs []job
	for _, id := range ids {
		e := s.box.get(id)
		if e == nil {
			continue
		}
		rec := e.snapshot()
		if rec.State != stateUncertain {
			continue
		}
		var found []worklistEntry
		for _, we := range byPatient[rec.Referral.NHSNumber] {
			if claimed[we.UBRN] || s.isBad(we.UBRN) || we.Created.IsZero() {
				continue
			}
			if !we.Created.Before(rec.FirstAttemptAt.Add(-clockSkew)) {
				found = append(found, we)
			}
		}
		if len(found) == 0 {
			s.notFound(e, rec)
			continue
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Created.Before(found[j].Created) })
		if len(found) > 1 {
			ubrns := make([]string, len(found))
			for i, f := range found {
				ubrns[i] = f.UBRN
			}
			s.log.Error("e-RS holds more than one referral for this patient since the first attempt; recording the earliest",
				"request_id", rec.RequestID, "nhs_number", rec.Referral.NHSNumber, "ubrns", ubrns)
		}
		claimed[found[0].UBRN] = true
		jobs = append(jobs, job{e: e, rec: rec, candidate: found[0]})
	}

	sem := make(chan struct{}, s.cfg.workers)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.confirm(j.e, j.rec, j.candidate)
		}()
	}
	wg.Wait()
}

// confirm reads a worklist candidate back (A005) and, if it is this
// patient's, records its UBRN.
func (s *resilient) confirm(e *entry, rec record, cand worklistEntry) {
	log := s.log.With("request_id", rec.RequestID, "ubrn", cand.UBRN)
	release, err := s.gate.acquire(s.stopCtx)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.killCtx, s.cfg.attemptTimeout)
	rr, x, err := s.ers.readReferral(ctx, cand.UBRN)
	cancel()
	s.gate.note(x)
	release()
	switch {
	case x.status == http.StatusNotFound:
		// Listed but not readable: do not trust it as ours.
		log.Error("worklist entry cannot be read back; ignoring it", "correlation_id", x.correlationID, "err", err)
		s.markBad(cand.UBRN)
		s.reconQ.push(rec.RequestID, s.now())
	case err != nil:
		log.Warn("reading the candidate referral back failed; will retry", "correlation_id", x.correlationID, "err", err)
		s.reconQ.push(rec.RequestID, s.now().Add(backoff(s.cfg.backoffBase, s.cfg.backoffCap, 1)))
	case rr.Subject.Identifier.Value != rec.Referral.NHSNumber:
		log.Error("worklist entry does not match on read-back; ignoring it",
			"worklist_patient", cand.NHSNumber, "read_patient", rr.Subject.Identifier.Value)
		s.markBad(cand.UBRN)
		s.reconQ.push(rec.RequestID, s.now())
	default:
		log.Info("reconciled: the uncertain send did reach e-RS; not sending again",
			"created", cand.Created, "correlation_id", x.correlationID)
		s.finish(s.log.With("request_id", rec.RequestID), e, stateCreated, rr.ID, "")
	}
}

// notFound handles an uncertain referral that is not in the worklist. If the
// last send started long enough ago that e-RS would have finished it, the
// referral never arrived and is sent again; otherwise it is looked for again
// once that time has passed.
func (s *resilient) notFound(e *entry, rec record) {
	log := s.log.With("request_id", rec.RequestID)
	settled := rec.LastAttemptAt.Add(s.cfg.settle)
	if now := s.now(); now.Before(settled) {
		log.Info("uncertain referral not in the worklist yet; looking again later", "recheck_in", settled.Sub(now).Round(time.Millisecond))
		s.reconQ.push(rec.RequestID, settled)
		return
	}
	const why = "reconciled: not in e-RS, sending again"
	if err := s.box.update(e, func(r *record) { r.State = stateQueued; r.LastError = why }); err != nil {
		log.Error("could not record reconciliation", "err", err)
		s.reconQ.push(rec.RequestID, s.now().Add(s.gate.failure()))
		return
	}
	log.Info(why)
	s.sendQ.push(rec.RequestID, s.now())
}

func (s *resilient) isBad(ubrn string) bool {
	s.badMu.Lock()
	defer s.badMu.Unlock()
	return s.badUBRN[ubrn]
}

func (s *resilient) markBad(ubrn string) {
	s.badMu.Lock()
	s.badUBRN[ubrn] = true
	s.badMu.Unlock()
}
