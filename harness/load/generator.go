package load

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Defaults applied by Run, matching the scenario format's documented
// defaults for a load entry.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 1000
)

// RunConfig is one workload's load: what to run, at what pace, and where to
// record it.
type RunConfig struct {
	// Name labels the load in the report and logs (default Workload.Name()).
	Name string
	// Clock is the run clock; arrivals' Intended offsets are on it. Nil
	// starts a new clock (only sensible in tests).
	Clock *record.Clock
	// Pacer says when each arrival is due, measured from the moment Run
	// starts. Required.
	Pacer Pacer
	// Workload runs once per arrival. It must be safe for concurrent use.
	// Required.
	Workload Workload
	// History receives every operation. Nil keeps them in a private
	// in-memory history that nobody reads.
	History *record.History
	// Timeout bounds each operation (the clinician's patience); default
	// DefaultTimeout.
	Timeout time.Duration
	// MaxInFlight bounds concurrent operations; an arrival that would exceed
	// it is dropped and counted, never delayed. Default DefaultMaxInFlight.
	MaxInFlight int
	// Planned is the number of arrivals expected, for the report. Zero asks
	// the pacer (see PlannedArrivals).
	Planned int64
	// Logger receives progress and problems; nil discards them.
	Logger *slog.Logger
}

// Run drives cfg.Workload as an open model: each arrival starts in its own
// goroutine at its due time, whether or not earlier arrivals have returned,
// so a slow system under test cannot slow the offered load. An arrival is
// recorded with Intended set to its due time on the run clock, so latency
// (Return − Intended) includes any lag in the generator itself. When
// MaxInFlight operations are already running, an arrival is dropped and
// counted rather than delayed.
//
// Cancelling ctx stops new arrivals. Operations already in flight are not
// cancelled with it: each runs under its own Timeout, and Run returns once
// they have all finished and been appended to the history.
//
// In the report, Planned comes from cfg.Planned or the pacer, Rate is the
// pacer's rate at the start, and Duration is how long arrivals were issued
// for: from the start to the last arrival when the pacer stopped (900ms for
// 10/s over 1s), or to the cancellation. Planned − Issued − Dropped arrivals
// were never reached because ctx was cancelled.
//
// Run panics if cfg.Pacer or cfg.Workload is nil.
func Run(ctx context.Context, cfg RunConfig) record.LoadReport {
	if cfg.Pacer == nil || cfg.Workload == nil {
		panic("load.Run: RunConfig needs a Pacer and a Workload")
	}
	g := newGenerator(cfg)
	return g.run(ctx)
}

type generator struct {
	name     string
	clock    *record.Clock
	pacer    Pacer
	workload Workload
	history  *record.History
	timeout  time.Duration
	maxIn    int64
	planned  int64
	log      *slog.Logger

	inFlight atomic.Int64
	wg       sync.WaitGroup
}

func newGenerator(cfg RunConfig) *generator {
	g := &generator{
		name:     cfg.Name,
		clock:    cfg.Clock,
		pacer:    cfg.Pacer,
		workload: cfg.Workload,
		history:  cfg.History,
		timeout:  cfg.Timeout,
		maxIn:    int64(cfg.MaxInFlight),
		planned:  cfg.Planned,
		log:      cfg.Logger,
	}
	if g.name == "" {
		g.name = cfg.Workload.Name()
	}
	if g.clock == nil {
		g.clock = record.NewClock(nil)
	}
	if g.history == nil {
		g.history = record.NewHistory(nil)
	}
	if g.timeout <= 0 {
		g.timeout = DefaultTimeout
	}
	if g.maxIn <= 0 {
		g.maxIn = DefaultMaxInFlight
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.log = g.log.With("workload", g.name)
	if g.planned <= 0 {
		if n, ok := PlannedArrivals(g.pacer); ok {
			g.planned = n
		} else {
			g.log.Warn("cannot tell how many arrivals the pacer plans; reporting 0 planned")
		}
	}
	return g
}

func (g *generator) run(ctx context.Context) record.LoadReport {
	began := g.clock.Now()
	rep := record.LoadReport{
		Workload: g.name,
		Planned:  g.planned,
		Rate:     g.pacer.Rate(0),
	}
	g.log.Info("load starting", "planned", g.planned, "rate_per_second", rep.Rate,
		"timeout", g.timeout, "max_in_flight", g.maxIn)

	// Since Go 1.23 a stopped timer can be Reset without draining it.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	// due is the next arrival's offset from began in the pacer's virtual
	// time. Asking the pacer from the previous due time (rather than from
	// the wall clock) keeps every arrival's due time exact even when the
	// generator runs late, so the lag shows up in latency instead of
	// vanishing from it.
	var due time.Duration
loop:
	for hits := uint64(0); ; hits++ {
		wait, stop := g.pacer.Pace(due, hits)
		if stop {
			break
		}
		due += wait
		intended := began + due
		if d := intended - g.clock.Now(); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		a := Arrival{N: hits, Intended: intended}
		if g.inFlight.Load() >= g.maxIn {
			rep.Dropped++
			g.log.Debug("arrival dropped: too many operations in flight", "n", a.N,
				"intended", a.Intended, "in_flight", g.maxIn)
			continue
		}
		// Only this goroutine increments, so the bound above holds.
		if n := g.inFlight.Add(1); n > rep.MaxInFlight {
			rep.MaxInFlight = n
		}
		rep.Issued++
		g.wg.Add(1)
		go g.arrive(ctx, a)
	}
	rep.Duration = g.clock.Now() - began
	if ctx.Err() != nil {
		g.log.Info("load stopped early: cancelled", "issued", rep.Issued, "planned", rep.Planned)
	}
	g.wg.Wait()

	if rep.Dropped > 0 {
		g.log.Warn("arrivals dropped because too many operations were in flight",
			"dropped", rep.Dropped, "max_in_flight", g.maxIn)
	}
	g.log.Info("load finished", "planned", rep.Planned, "issued", rep.Issued,
		"dropped", rep.Dropped, "max_in_flight_seen", rep.MaxInFlight, "duration", rep.Duration)
	return rep
}

// arrive runs one arrival and records it. The operation's context is
// detached from ctx's cancellation (stopping the load must not abort calls
// already made) and bounded by the timeout instead.
func (g *generator) arrive(ctx context.Context, a Arrival) {
	defer g.wg.Done()
	defer g.inFlight.Add(-1)

	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
	defer cancel()

	op := g.iterate(opCtx, a)
	op.Workload = g.name
	op.Intended = a.Intended
	g.history.Append(op)
}

// iterate calls the workload, turning a panic into an Unknown operation so
// one broken journey cannot take the run (and its unwritten history) down.
func (g *generator) iterate(ctx context.Context, a Arrival) (op record.Operation) {
	defer func() {
		if r := recover(); r != nil {
			now := g.clock.Now()
			g.log.Error("workload panicked", "n", a.N, "panic", r)
			op = record.Operation{
				Call:    now,
				Return:  now,
				Outcome: record.Unknown,
				Error:   fmt.Sprintf("workload panicked: %v", r),
			}
		}
	}()
	return g.workload.Iterate(ctx, a)
}
