package main

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
)

// resilient never loses, duplicates or misfiles a result: it stores the
// result durably before ACKing AA; a resend of an MSH-10 it already holds
// is ACKed AA again and not forwarded; one sender sends from the outbox in
// order, with a timeout per call and capped, jittered backoff that honours
// Retry-After; and when a send's outcome is uncertain (timeout, reset, a
// lost 202, a gateway 5xx, or a crash mid-send) it asks MESH tracking for
// the mex-LocalID before it posts again.
type resilient struct {
	cfg  config
	mesh *meshClient
	log  *slog.Logger
	box  *outbox
	now  func() time.Time

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func openResilient(cfg config, mc *meshClient, log *slog.Logger) (*resilient, error) {
	box, err := openOutbox(cfg.stateDir, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &resilient{cfg: cfg, mesh: mc, log: log, box: box, now: time.Now,
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	if n := box.count(stateQueued, stateUncertain); n > 0 {
		log.Info("outbox reloaded", "to_send", n, "uncertain", box.count(stateUncertain))
	}
	return r, nil
}

func (r *resilient) accept(_ context.Context, res *result) (string, *hl7.AckError) {
	added, err := r.box.add(res, r.now().UTC())
	if err != nil {
		// Not stored: the lab must keep it and resend later.
		r.log.Error("cannot store the result; rejecting so the lab resends", "msh10", res.MSH10, "err", err)
		return hl7.AR, &hl7.AckError{Code: hl7.ErrInternal, Text: "cannot store the result now; resend later"}
	}
	if !added {
		rec, _ := r.box.get(res.MSH10)
		r.log.Info("duplicate MSH-10; ACKed again, not forwarded", "msh10", res.MSH10, "state", rec.State, "resends", rec.Resends)
		return hl7.AA, nil
	}
	r.log.Info("result stored", "msh10", res.MSH10, "bundle_id", res.BundleID)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return hl7.AA, nil
}

func (r *resilient) pending() int { return r.box.count(stateQueued, stateSending, stateUncertain) }

func (r *resilient) start() {
	r.once.Do(func() { go r.run() })
}

func (r *resilient) shutdown(ctx context.Context) error {
	r.cancel()
	r.once.Do(func() { close(r.done) }) // never started
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the single sender.
func (r *resilient) run() {
	defer close(r.done)
	streak := 0
	for {
		rec, ok := r.box.next()
		if !ok {
			select {
			case <-r.ctx.Done():
				return
			case <-r.wake:
				continue
			}
		}
		wait, failed := r.attempt(rec)
		if r.ctx.Err() != nil {
			return
		}
		if !failed {
			streak = 0
			continue
		}
		streak++
		d := max(wait, backoff(r.cfg.backoffBase, r.cfg.backoffCap, streak))
		if wait > 0 {
			d = wait // Retry-After says exactly when
		}
		t := time.NewTimer(d)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt moves one record on. It returns how long MESH asked to wait and
// whether the attempt failed (so the sender backs off).
func (r *resilient) attempt(rec record) (time.Duration, bool) {
	log := r.log.With("msh10", rec.MSH10)
	now := func() time.Time { return r.now().UTC() }
	if rec.State == stateUncertain || rec.State == stateSending {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.attemptTimeout)
		id, n, err := r.mesh.track(ctx, rec.MSH10)
		cancel()
		switch {
		case err == nil:
			if n > 1 {
				log.Warn("MESH holds several messages for this result", "count", n)
			}
			if _, werr := r.box.update(rec.MSH10, now(), func(x *record) { x.State, x.MessageID, x.LastError = stateSent, id, "" }); werr != nil {
				log.Error("cannot record the send", "err", werr)
				return 0, true
			}
			log.Info("uncertain send found in MESH tracking; not sending again", "message_id", id)
			return 0, false
		case errors.Is(err, errNotFound):
			log.Info("uncertain send not in MESH tracking; sending again")
		default:
			log.Warn("tracking failed; will check again", "err", err)
			return 0, true
		}
	}
	// Durably "sending" before the POST: a crash from here on is uncertain.
	if _, err := r.box.update(rec.MSH10, now(), func(x *record) { x.State = stateSending; x.Attempts++ }); err != nil {
		log.Error("cannot record the attempt", "err", err)
		return 0, true
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.attemptTimeout)
	id, err := r.mesh.send(ctx, rec.result())
	cancel()
	if err == nil {
		if _, werr := r.box.update(rec.MSH10, now(), func(x *record) { x.State, x.MessageID, x.LastError = stateSent, id, "" }); werr != nil {
			// Left "sending": the next round tracks it and finds it.
			log.Error("sent but cannot record it; will confirm by tracking", "message_id", id, "err", werr)
			return 0, true
		}
		log.Info("sent to MESH", "message_id", id, "attempts", rec.Attempts+1)
		return 0, false
	}
	var se *sendError
	if !errors.As(err, &se) {
		se = &sendError{uncertain: true, err: err}
	}
	next := stateQueued
	switch {
	case se.uncertain:
		next = stateUncertain
	case se.permanent:
		next = stateFailed
	}
	if _, werr := r.box.update(rec.MSH10, now(), func(x *record) { x.State, x.LastError = next, err.Error() }); werr != nil {
		log.Error("cannot record the failed attempt", "err", werr)
	}
	switch next {
	case stateFailed:
		log.Error("MESH refused the result; it needs a person", "err", err)
		return 0, false
	case stateUncertain:
		log.Warn("send outcome uncertain; will check tracking before sending again", "err", err)
	default:
		log.Warn("MESH refused for now; will retry", "err", err, "retry_after", se.retryAfter)
	}
	return se.retryAfter, true
}

// backoff is base doubling per failure up to limit, with equal jitter.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(half+1)
}
