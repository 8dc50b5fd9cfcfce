package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
)

// naive is how the incidents happen (issue 4): it ACKs AA as soon as the
// frame parses, before anything is stored or sent; it sends from memory, so
// a crash loses what was ACKed; on a MESH timeout or connection error it
// re-POSTs at once, and each POST is a new MESH message; and it does not
// de-duplicate, so a lab resend of the same MSH-10 is forwarded again.
type naive struct {
	cfg  config
	mesh *meshClient
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	n      int
}

func newNaive(cfg config, mc *meshClient, log *slog.Logger) *naive {
	ctx, cancel := context.WithCancel(context.Background())
	return &naive{cfg: cfg, mesh: mc, log: log, ctx: ctx, cancel: cancel}
}

func (n *naive) start() {}

func (n *naive) accept(_ context.Context, r *result) (string, *hl7.AckError) {
	n.mu.Lock()
	n.n++
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer func() { n.mu.Lock(); n.n--; n.mu.Unlock() }()
		n.forward(r)
	}()
	return hl7.AA, nil
}

func (n *naive) forward(r *result) {
	log := n.log.With("msh10", r.MSH10)
	for attempt := 1; attempt <= n.cfg.naiveAttempts; attempt++ {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.attemptTimeout)
		id, err := n.mesh.send(ctx, r)
		cancel()
		if err == nil {
			log.Info("sent to MESH", "message_id", id, "attempt", attempt)
			return
		}
		var se *sendError
		if n.ctx.Err() != nil || !errors.As(err, &se) || se.status != 0 {
			log.Error("result not sent; dropped", "err", err, "attempt", attempt)
			return
		}
		log.Warn("MESH did not answer; posting again", "err", err, "attempt", attempt)
	}
	log.Error("result not sent; giving up", "attempts", n.cfg.naiveAttempts)
}

func (n *naive) pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.n
}

func (n *naive) shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		return errors.New("results in memory were dropped at shutdown")
	}
}
