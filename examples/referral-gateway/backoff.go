package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// backoff returns the delay before retry number n (n >= 1): base doubling up
// to limit, with "equal jitter" (somewhere in the upper half of the step) so
// that a crowd of senders does not retry in lock-step.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(half+1)
}

// gate is the service-wide "not before" time every e-RS call waits for. A
// Retry-After pushes it to exactly the time e-RS asked for; other failures
// that say e-RS is in trouble push it by a backoff that grows with the streak
// of consecutive failures; a success resets the streak. While the streak is
// not zero only one call at a time (a probe) goes through, so a backlog
// neither hammers an e-RS that is down or throttling nor piles up uncertain
// sends against one that swallows requests; the first success lets every
// worker go again.
type gate struct {
	base, limit time.Duration
	now         func() time.Time

	mu        sync.Mutex
	notBefore time.Time
	streak    int
	probing   bool
	changed   chan struct{} // closed and replaced whenever the gate opens up
}

func newGate(base, limit time.Duration) *gate {
	return &gate{base: base, limit: limit, now: time.Now, changed: make(chan struct{})}
}

// acquire waits until a call may be made, or ctx ends. The caller must call
// release once it has reported the call's outcome (note, failure, ...).
func (g *gate) acquire(ctx context.Context) (release func(), err error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g.mu.Lock()
		d := g.notBefore.Sub(g.now())
		if d <= 0 {
			if g.streak == 0 {
				g.mu.Unlock()
				return func() {}, nil
			}
			if !g.probing {
				g.probing = true
				g.mu.Unlock()
				var once sync.Once
				return func() { once.Do(g.endProbe) }, nil
			}
		}
		changed := g.changed
		g.mu.Unlock()
		var timer <-chan time.Time
		var t *time.Timer
		if d > 0 {
			t = time.NewTimer(d)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

func (g *gate) endProbe() {
	g.mu.Lock()
	g.probing = false
	g.broadcast()
	g.mu.Unlock()
}

// broadcast wakes every waiter; g.mu must be held.
func (g *gate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// retryAfter closes the gate for d (e-RS's own Retry-After).
func (g *gate) retryAfter(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streak++
	if until := g.now().Add(d); until.After(g.notBefore) {
		g.notBefore = until
	}
}

// failure records a failure that says e-RS is unavailable or struggling and
// returns the backoff it applied.
func (g *gate) failure() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streak++
	d := backoff(g.base, g.limit, g.streak)
	if until := g.now().Add(d); until.After(g.notBefore) {
		g.notBefore = until
	}
	return d
}

// success resets the failure streak.
func (g *gate) success() {
	g.mu.Lock()
	if g.streak != 0 {
		g.streak = 0
		g.broadcast()
	}
	g.mu.Unlock()
}

// note applies what one exchange says about e-RS's health to the gate: a
// Retry-After is honoured exactly; a 429/503 without one, a 5xx, or a
// transport failure backs off; anything else is a sign of life.
func (g *gate) note(x exchange) {
	switch {
	case x.hasRetryAfter() && (x.status == 429 || x.status == 503):
		g.retryAfter(x.retryAfter)
	case x.status == 0 || x.status == 429 || x.status >= 500:
		g.failure()
	default:
		g.success()
	}
}
