package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"
)

// errBreakerOpen: GP Connect is not being called for now.
var errBreakerOpen = errors.New("GP Connect circuit breaker is open")

// resilientHook answers within the budget whatever GP Connect does. The
// record comes from the per-patient cache, or from one bounded GP Connect
// call (problems and recent investigations only) inside the budget, unless
// the circuit breaker is open. Anything that stops the service rating the
// order gives 200 with a single info card saying so: the order is never
// blocked. Only well-formed cards with sanitised, clamped text are sent.
func (s *service) resilientHook(ctx context.Context, w http.ResponseWriter, q recordQuery, orders []draftOrder, log *slog.Logger) {
	if len(orders) == 0 {
		writeJSON(w, http.StatusOK, hookResponse{Cards: []card{}}) // nothing to rate: no advice
		return
	}
	rec, source, err := s.recordFor(ctx, q)
	if err != nil {
		log.Warn("order not rated", "reason", err)
		writeJSON(w, http.StatusOK, unavailable())
		return
	}
	now := s.now()
	resp := hookResponse{Cards: []card{}}
	for _, o := range orders {
		rt := rate(o.order, rec, now)
		resp.Cards = append(resp.Cards, ratingCard(rt))
		resp.SystemActions = append(resp.SystemActions, systemAction{
			Type:        "update",
			Description: "PAMA rating " + rt.code,
			Resource:    ratedResource(o, rt.code),
		})
		log.Debug("rated", "order", sanitise(o.id, 64), "rating", rt.code, "rule", rt.rule, "record", source)
	}
	writeJSON(w, http.StatusOK, resp)
}

func unavailable() hookResponse {
	return hookResponse{Cards: []card{{
		UUID:      newUUID(),
		Summary:   unavailableSummary,
		Detail:    "The patient's GP record could not be read in time, so this order was not rated. Order as you would without decision support.",
		Indicator: "info",
		Source:    cardSource{Label: sourceLabel},
	}}}
}

func ratingCard(rt rating) card {
	summary := sanitise(rt.procedure, 60)
	if summary == "" {
		summary = "Imaging order"
	}
	detail := "PAMA rating: " + rt.code + ". " + rt.reason
	if rt.indication != nil {
		detail += " Indication from the GP record: " + rt.indication.display + "."
	}
	detail += " (Illustrative rules, not clinical guidance.)"
	return card{
		UUID:      newUUID(),
		Summary:   sanitise(summary+": "+ratingWords(rt.code), maxSummary),
		Detail:    sanitise(detail, maxDetail),
		Indicator: "info",
		Source:    cardSource{Label: sourceLabel},
	}
}

// recordFor returns the patient's record and where it came from.
func (s *service) recordFor(ctx context.Context, q recordQuery) (record, string, error) {
	key := q.base + "|" + q.nhsNumber
	if rec, ok := s.cache.get(key); ok {
		return rec, "cache", nil
	}
	if !s.breaker.allow() {
		return record{}, "", errBreakerOpen
	}
	// Keep a little of the budget for answering.
	fetchCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		reserve := min(100*time.Millisecond, s.cfg.budget/10)
		var cancel context.CancelFunc
		fetchCtx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		defer cancel()
	}
	rec, err := s.fetch(fetchCtx, q)
	switch {
	case err == nil:
		s.breaker.success()
		s.cache.put(key, rec)
		return rec, "gpconnect", nil
	case unavailableUpstream(err, ctx):
		s.breaker.failure()
	case errors.Is(err, context.Canceled):
		s.breaker.release() // the host gave up; says nothing about GP Connect
	default:
		s.breaker.success() // GP Connect answered; the problem is this record
	}
	return record{}, "", err
}

// unavailableUpstream is true for failures that say GP Connect (or the SSP
// in front of it) is down or slow.
func unavailableUpstream(err error, hookCtx context.Context) bool {
	var ue *upstreamError
	if errors.As(err, &ue) {
		return ue.transient()
	}
	if errors.Is(err, errRecordTooLarge) || errors.Is(err, errMalformedRecord) {
		return false
	}
	if errors.Is(err, context.Canceled) && hookCtx.Err() == nil {
		return false
	}
	return true // timeouts, refused or reset connections, truncated bodies
}

// fetch makes one bounded GP Connect call and parses the record strictly.
func (s *service) fetch(ctx context.Context, q recordQuery) (record, error) {
	s.fetches.Add(1)
	resp, err := s.gpc.do(ctx, q)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			return record{}, fmt.Errorf("GP Connect did not answer within the budget: %w", err)
		}
		return record{}, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != fhirJSON && mt != "application/json" {
		return record{}, malformed("Content-Type %q is not FHIR JSON", clamp(resp.Header.Get("Content-Type"), 60))
	}
	max := s.cfg.maxRecordBytes
	if resp.ContentLength > max {
		return record{}, fmt.Errorf("%w (%d bytes, limit %d)", errRecordTooLarge, resp.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return record{}, fmt.Errorf("reading the record: %w", err)
	}
	if int64(len(body)) > max {
		return record{}, fmt.Errorf("%w (limit %d)", errRecordTooLarge, max)
	}
	return parseRecord(body)
}

// recordCache keeps parsed records per patient for ttl.
type recordCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	entries map[string]cacheEntry
}

type cacheEntry struct {
	rec     record
	fetched time.Time
}

func newRecordCache(ttl time.Duration, max int, now func() time.Time) *recordCache {
	return &recordCache{ttl: ttl, max: max, now: now, entries: map[string]cacheEntry{}}
}

func (c *recordCache) get(key string) (record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().Sub(e.fetched) >= c.ttl {
		delete(c.entries, key)
		return record{}, false
	}
	return e.rec, true
}

func (c *recordCache) put(key string, rec record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		oldestKey, oldest := "", now
		for k, e := range c.entries {
			if now.Sub(e.fetched) >= c.ttl {
				delete(c.entries, k)
				continue
			}
			if e.fetched.Before(oldest) || oldestKey == "" {
				oldestKey, oldest = k, e.fetched
			}
		}
		if len(c.entries) >= c.max {
			delete(c.entries, oldestKey)
		}
	}
	c.entries[key] = cacheEntry{rec: rec, fetched: now}
}

// breaker is a consecutive-failure circuit breaker. Closed: calls go
// through. After threshold consecutive failures it opens: no calls for
// cooldown. Then it lets exactly one probe through (half-open); the probe's
// success closes it, its failure opens it again for another cooldown.
type breaker struct {
	mu        sync.Mutex
	now       func() time.Time
	threshold int
	cooldown  time.Duration
	failures  int
	state     breakerState
	openedAt  time.Time
	probing   bool
}

type breakerState int

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, now: now}
}

func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.state, b.probing = breakerHalfOpen, true
		return true
	case breakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.state, b.probing = 0, breakerClosed, false
}

func (b *breaker) failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.state == breakerHalfOpen || b.failures >= b.threshold {
		b.state, b.openedAt, b.probing = breakerOpen, b.now(), false
	}
}

// release ends a probe that told us nothing.
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *breaker) stateName() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return [...]string{"closed", "open", "half-open"}[b.state]
}
