package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/harness/stack"
)

// revertTimeout bounds each revert, including cleanup after an interrupt.
const revertTimeout = 30 * time.Second

// counterSource gives per-service traffic counters (the stack).
type counterSource interface {
	Counters(service string) stack.Counters
}

// step is one timeline entry while the run goes.
type step struct {
	spec   scenario.Step
	fault  fault.Fault
	window record.FaultWindow
	before stack.Counters

	once   sync.Once
	revert fault.Revert
}

// timeline runs the fault steps on the run clock and guarantees every
// injected fault is reverted exactly once: at the end of its window, or in
// reverse injection order by revertAll.
type timeline struct {
	clock     *record.Clock
	target    fault.Target
	counters  counterSource
	logger    *slog.Logger
	progress  func(format string, args ...any)
	loadStart time.Duration

	mu      sync.Mutex
	steps   []*step
	applied []*step // injection order; reverted steps are removed
	errs    []error
}

func newTimeline(s *scenario.Scenario, seed uint64, clock *record.Clock, target fault.Target, counters counterSource,
	logger *slog.Logger, progress func(string, ...any)) (*timeline, error) {
	t := &timeline{clock: clock, target: target, counters: counters, logger: logger, progress: progress}
	var errs []error
	for i, sp := range s.Timeline {
		f, err := fault.FromStep(sp, i+1, seed)
		if err != nil {
			errs = append(errs, fmt.Errorf("timeline[%d] at %s (%s): %w", i, sp.Pos, sp.Fault, err))
			continue
		}
		target := sp.Service
		if target == "" {
			target = sp.Target
		}
		t.steps = append(t.steps, &step{
			spec:  sp,
			fault: f,
			window: record.FaultWindow{
				Index:  i + 1,
				Name:   f.Name(),
				Kind:   sp.Fault,
				Target: target,
				Params: stepParams(sp),
			},
		})
	}
	return t, errors.Join(errs...)
}

// run plays the timeline from loadStart until every window has closed or
// ctx is done. Windows may overlap; each step has its own goroutine.
func (t *timeline) run(ctx context.Context, loadStart time.Duration) {
	t.loadStart = loadStart
	var wg sync.WaitGroup
	for _, s := range t.steps {
		s.window.Start = loadStart + s.spec.At
		s.window.End = loadStart + s.spec.End()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.play(ctx, s)
		}()
	}
	wg.Wait()
}

func (t *timeline) play(ctx context.Context, s *step) {
	if !t.sleepUntil(ctx, s.window.Start) {
		return
	}
	if s.window.Target != "" && s.spec.Service != "" {
		s.before = t.counters.Counters(s.spec.Service)
	}
	// The window opens when injection starts: the fault may take effect at
	// any moment while Inject runs (a SIGKILL lands before Kill returns).
	injecting := t.clock.Now()
	ictx, cancel := context.WithTimeout(ctx, revertTimeout)
	rev, err := s.fault.Inject(ictx, t.target)
	cancel()
	t.mu.Lock()
	s.window.Injected = injecting
	if err != nil {
		s.window.Error = "inject: " + err.Error()
		t.errs = append(t.errs, fmt.Errorf("inject fault %d (%s) at %s: %w", s.window.Index, s.fault.Name(), s.spec.Pos, err))
		t.mu.Unlock()
		t.progress("fault %d FAILED to inject: %s: %v", s.window.Index, s.fault.Name(), err)
		return
	}
	s.revert = rev
	t.applied = append(t.applied, s)
	t.mu.Unlock()
	t.progress("fault %d injected: %s", s.window.Index, s.fault.Name())

	if !t.sleepUntil(ctx, s.window.End) {
		return // revertAll undoes it
	}
	t.undo(context.WithoutCancel(ctx), s)
}

// undo reverts s once and closes its window.
func (t *timeline) undo(ctx context.Context, s *step) {
	s.once.Do(func() {
		rctx, cancel := context.WithTimeout(ctx, revertTimeout)
		defer cancel()
		err := s.revert(rctx)
		t.mu.Lock()
		defer t.mu.Unlock()
		s.window.Reverted = t.clock.Now()
		if s.spec.Service != "" {
			after := t.counters.Counters(s.spec.Service)
			s.window.Evidence.Connections = after.Connections - s.before.Connections
			s.window.Evidence.BytesIn = after.BytesIn - s.before.BytesIn
			s.window.Evidence.BytesOut = after.BytesOut - s.before.BytesOut
			s.window.Evidence.Requests = after.Requests - s.before.Requests
			s.window.Evidence.Faulted = after.Faulted - s.before.Faulted
		}
		t.applied = slices.DeleteFunc(t.applied, func(x *step) bool { return x == s })
		if err != nil {
			s.window.Error = joinNonEmpty(s.window.Error, "revert: "+err.Error())
			t.errs = append(t.errs, fmt.Errorf("revert fault %d (%s): %w", s.window.Index, s.fault.Name(), err))
			t.progress("fault %d FAILED to revert: %v", s.window.Index, err)
			return
		}
		t.progress("fault %d reverted: %s", s.window.Index, s.fault.Name())
	})
}

// revertAll undoes every fault still applied, newest first. It is safe to
// call at any time and more than once.
func (t *timeline) revertAll(ctx context.Context) {
	t.mu.Lock()
	pending := slices.Clone(t.applied)
	t.mu.Unlock()
	for i := len(pending) - 1; i >= 0; i-- {
		t.undo(ctx, pending[i])
	}
}

// pending reports whether any fault is still applied.
func (t *timeline) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.applied)
}

// windows returns the fault windows so far.
func (t *timeline) windows() []record.FaultWindow {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]record.FaultWindow, 0, len(t.steps))
	for _, s := range t.steps {
		out = append(out, s.window)
	}
	return out
}

func (t *timeline) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return errors.Join(t.errs...)
}

// sleepUntil waits until the run clock reaches offset; false if ctx ended.
func (t *timeline) sleepUntil(ctx context.Context, offset time.Duration) bool {
	return sleepUntil(ctx, t.clock, offset)
}

func sleepUntil(ctx context.Context, clock *record.Clock, offset time.Duration) bool {
	d := offset - clock.Now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// stepParams renders the attributes a step set, for reports.
func stepParams(s scenario.Step) map[string]string {
	p := map[string]string{}
	put := func(k string, v string) { p[k] = v }
	dur := func(k string, d time.Duration) {
		if d != 0 {
			put(k, d.String())
		}
	}
	num := func(k string, n int64) {
		if n != 0 {
			put(k, strconv.FormatInt(n, 10))
		}
	}
	dur("at", s.At)
	dur("for", s.For)
	if s.Stream != "" {
		put("stream", s.Stream)
	}
	dur("latency", s.Latency)
	dur("jitter", s.Jitter)
	num("rate_kbps", s.RateKBps)
	dur("delay", s.Delay)
	dur("timeout", s.Timeout)
	num("average_size", s.AverageSize)
	num("size_variation", s.SizeVariation)
	num("bytes", s.Bytes)
	num("status", int64(s.Status))
	if s.Code != "" {
		put("code", s.Code)
	}
	dur("retry_after", s.RetryAfter)
	if s.Fraction != 0 {
		put("fraction", strconv.FormatFloat(s.Fraction, 'f', -1, 64))
	}
	for i, op := range s.Operations {
		put("operations."+strconv.Itoa(i), op)
	}
	dur("restart_after", s.RestartAfter)
	return p
}
