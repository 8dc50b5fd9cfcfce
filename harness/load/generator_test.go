package load_test

import (
	"context"
	"sort"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
)

// sleepy is a workload whose every journey takes a fixed time (in the
// synctest bubble's fake time) and notes whether its context was cancelled.
type sleepy struct {
	clock *record.Clock
	took  time.Duration
	// block waits for the context instead of sleeping.
	block     bool
	cancelled atomic.Int64
}

func (s *sleepy) Name() string { return "sleepy" }

func (s *sleepy) Iterate(ctx context.Context, a load.Arrival) record.Operation {
	op := record.Operation{Action: "nap", Call: s.clock.Now()}
	if s.block {
		<-ctx.Done()
	} else {
		select {
		case <-time.After(s.took):
		case <-ctx.Done():
		}
	}
	op.Return = s.clock.Now()
	if err := ctx.Err(); err != nil {
		s.cancelled.Add(1)
		op.Outcome = record.Unknown
		op.Error = err.Error()
		return op
	}
	op.Outcome = record.OK
	return op
}

func byIntended(ops []record.Operation) []record.Operation {
	sort.Slice(ops, func(i, j int) bool { return ops[i].Intended < ops[j].Intended })
	return ops
}

// A workload three times slower than the arrival interval must not slow the
// arrivals: the open model keeps issuing on schedule and latency is measured
// from the intended time.
func TestRunArrivalsDoNotWaitForSlowResponses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		const interval = 100 * time.Millisecond
		w := &sleepy{clock: clock, took: 3 * interval}
		h := record.NewHistory(nil)

		rep := load.Run(t.Context(), load.RunConfig{
			Clock:    clock,
			Pacer:    load.ConstantPacer{Freq: 10, Per: time.Second, Duration: time.Second},
			Workload: w,
			History:  h,
		})

		require.Equal(t, "sleepy", rep.Workload)
		require.EqualValues(t, 10, rep.Planned)
		require.Equal(t, rep.Planned, rep.Issued)
		require.Zero(t, rep.Dropped)
		require.InDelta(t, 10.0, rep.Rate, 1e-9)
		// Arrivals at 0,100,200 are in flight together; at 300ms the first
		// returns as the fourth starts, in either order.
		require.GreaterOrEqual(t, rep.MaxInFlight, int64(3))
		require.LessOrEqual(t, rep.MaxInFlight, int64(4))
		require.Equal(t, 900*time.Millisecond, rep.Duration, "the last arrival was issued at 900ms")
		// Run returned only after the last operation (900ms + 300ms).
		require.Equal(t, 1200*time.Millisecond, clock.Now())

		ops := byIntended(h.Operations())
		require.Len(t, ops, 10)
		for i, op := range ops {
			want := time.Duration(i) * interval
			require.Equal(t, "sleepy", op.Workload)
			require.Equal(t, want, op.Intended, "arrival %d intended", i)
			require.Equal(t, want, op.Call, "arrival %d sent on time", i)
			require.Equal(t, 3*interval, op.Latency(), "arrival %d latency", i)
			require.Equal(t, record.OK, op.Outcome)
		}
	})
}

// Intended is the arrival's due time on the run clock, measured from when the
// load started rather than from the clock's base.
func TestRunIntendedIsOnTheRunClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		<-time.After(5 * time.Second) // fake time: the stack took 5s to start
		h := record.NewHistory(nil)
		load.Run(t.Context(), load.RunConfig{
			Clock:    clock,
			Pacer:    load.ConstantPacer{Freq: 2, Per: time.Second, Duration: time.Second},
			Workload: &sleepy{clock: clock, took: time.Second},
			History:  h,
		})
		ops := byIntended(h.Operations())
		require.Len(t, ops, 2)
		require.Equal(t, 5*time.Second, ops[0].Intended)
		require.Equal(t, 5500*time.Millisecond, ops[1].Intended)
	})
}

// When the generator itself runs late, the arrivals keep their due times, so
// the lag is charged to latency rather than hidden.
func TestRunLateGeneratorKeepsDueTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		h := record.NewHistory(nil)
		load.Run(t.Context(), load.RunConfig{
			Clock:    clock,
			Pacer:    &stallingPacer{inner: load.ConstantPacer{Freq: 10, Per: time.Second, Duration: 500 * time.Millisecond}, stallAt: 2, stall: 250 * time.Millisecond},
			Workload: &sleepy{clock: clock, took: 10 * time.Millisecond},
			History:  h,
		})
		ops := byIntended(h.Operations())
		require.Len(t, ops, 5)
		// Arrival 2 was due at 200ms but the generator only got to it at
		// 350ms (it stalled 250ms after arrival 1 at 100ms). Arrivals 2 and 3
		// go at once, late; arrival 4 is back on time.
		wantCall := []time.Duration{0, 100, 350, 350, 400}
		for i, op := range ops {
			require.Equal(t, time.Duration(i)*100*time.Millisecond, op.Intended, "arrival %d intended", i)
			require.Equal(t, wantCall[i]*time.Millisecond, op.Call, "arrival %d call", i)
			require.Equal(t, op.Call+10*time.Millisecond-op.Intended, op.Latency(), "arrival %d latency includes the lag", i)
		}
	})
}

// stallingPacer simulates a generator stall: before arrival stallAt it
// blocks for stall (in fake time).
type stallingPacer struct {
	inner   load.ConstantPacer
	stallAt uint64
	stall   time.Duration
}

func (p *stallingPacer) Pace(e time.Duration, h uint64) (time.Duration, bool) {
	if h == p.stallAt {
		<-time.After(p.stall) // fake time inside the synctest bubble
	}
	return p.inner.Pace(e, h)
}
func (p *stallingPacer) Rate(e time.Duration) float64 { return p.inner.Rate(e) }
func (p *stallingPacer) Planned() int64               { return p.inner.Planned() }

// Arrivals beyond MaxInFlight are dropped and counted, never delayed.
func TestRunDropsArrivalsOverMaxInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		h := record.NewHistory(nil)
		rep := load.Run(t.Context(), load.RunConfig{
			Clock: clock,
			// Arrivals every 100ms for 1s; each takes 250ms, so only two fit
			// at a time: 0 and 100 run, 200 is dropped, 300 (after 0
			// returned at 250) runs, and so on.
			Pacer:       load.ConstantPacer{Freq: 10, Per: time.Second, Duration: time.Second},
			Workload:    &sleepy{clock: clock, took: 250 * time.Millisecond},
			History:     h,
			MaxInFlight: 2,
		})
		require.EqualValues(t, 10, rep.Planned)
		require.EqualValues(t, 2, rep.MaxInFlight)
		require.Equal(t, rep.Planned, rep.Issued+rep.Dropped)
		require.EqualValues(t, 3, rep.Dropped) // 200, 500, 800
		ops := byIntended(h.Operations())
		require.Len(t, ops, int(rep.Issued))
		var intended []time.Duration
		for _, op := range ops {
			intended = append(intended, op.Intended/time.Millisecond)
			require.Equal(t, op.Intended, op.Call, "an issued arrival is never delayed")
		}
		require.Equal(t, []time.Duration{0, 100, 300, 400, 600, 700, 900}, intended)
	})
}

// Cancelling ctx stops new arrivals, but operations in flight finish on
// their own terms and are recorded before Run returns.
func TestRunCancelStopsArrivalsAndDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-time.After(450 * time.Millisecond) // fake time
			cancel()
		}()
		w := &sleepy{clock: clock, took: 300 * time.Millisecond}
		h := record.NewHistory(nil)
		rep := load.Run(ctx, load.RunConfig{
			Clock:    clock,
			Pacer:    load.ConstantPacer{Freq: 10, Per: time.Second, Duration: time.Minute},
			Workload: w,
			History:  h,
		})
		require.EqualValues(t, 600, rep.Planned)
		require.EqualValues(t, 5, rep.Issued, "arrivals at 0..400ms")
		require.Zero(t, rep.Dropped)
		require.Equal(t, 450*time.Millisecond, rep.Duration)
		require.Equal(t, 700*time.Millisecond, clock.Now(), "Run waited for the 400ms arrival to return")
		require.Zero(t, w.cancelled.Load(), "in-flight operations are not cancelled with the load")
		ops := h.Operations()
		require.Len(t, ops, 5)
		for _, op := range ops {
			require.Equal(t, record.OK, op.Outcome)
		}
	})
}

// A cancelled context before the start issues nothing.
func TestRunAlreadyCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		h := record.NewHistory(nil)
		rep := load.Run(ctx, load.RunConfig{
			Pacer:    load.ConstantPacer{Freq: 10, Per: time.Second, Duration: time.Second},
			Workload: &sleepy{clock: record.NewClock(nil)},
			History:  h,
		})
		require.Zero(t, rep.Issued)
		require.Zero(t, h.Len())
	})
}

// Each operation is bounded by Timeout.
func TestRunTimeoutBoundsOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		w := &sleepy{clock: clock, block: true}
		h := record.NewHistory(nil)
		load.Run(t.Context(), load.RunConfig{
			Clock:    clock,
			Pacer:    load.ConstantPacer{Freq: 4, Per: time.Second, Duration: time.Second},
			Workload: w,
			History:  h,
			Timeout:  250 * time.Millisecond,
		})
		ops := h.Operations()
		require.Len(t, ops, 4)
		for _, op := range ops {
			require.Equal(t, record.Unknown, op.Outcome)
			require.Equal(t, 250*time.Millisecond, op.Latency())
		}
		require.Equal(t, 1000*time.Millisecond, clock.Now())
	})
}

type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Iterate(context.Context, load.Arrival) record.Operation {
	panic("journey bug")
}

// A panicking workload becomes an Unknown operation rather than a crash.
func TestRunRecoversWorkloadPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := record.NewHistory(nil)
		rep := load.Run(t.Context(), load.RunConfig{
			Name:     "custom-name",
			Pacer:    load.ConstantPacer{Freq: 2, Per: time.Second, Duration: time.Second},
			Workload: panicky{},
			History:  h,
		})
		require.Equal(t, "custom-name", rep.Workload)
		ops := h.Operations()
		require.Len(t, ops, 2)
		for _, op := range ops {
			require.Equal(t, "custom-name", op.Workload)
			require.Equal(t, record.Unknown, op.Outcome)
			require.Contains(t, op.Error, "journey bug")
		}
	})
}

func TestRunNeedsPacerAndWorkload(t *testing.T) {
	require.Panics(t, func() { load.Run(t.Context(), load.RunConfig{Workload: panicky{}}) })
	require.Panics(t, func() { load.Run(t.Context(), load.RunConfig{Pacer: load.ConstantPacer{}}) })
}

type noop struct{}

func (noop) Name() string { return "noop" }
func (noop) Iterate(context.Context, load.Arrival) record.Operation {
	return record.Operation{Outcome: record.OK}
}

// BenchmarkGenerator measures the generator's own cost per arrival: every
// arrival is due at once, so the loop never sleeps.
func BenchmarkGenerator(b *testing.B) {
	clock := record.NewClock(nil)
	h := record.NewHistory(nil)
	b.ReportAllocs()
	b.ResetTimer()
	rep := load.Run(b.Context(), load.RunConfig{
		Clock:       clock,
		Pacer:       load.ConstantPacer{Freq: b.N, Per: time.Nanosecond, Duration: time.Nanosecond},
		Workload:    noop{},
		History:     h,
		MaxInFlight: b.N + 1,
	})
	if rep.Issued != int64(b.N) {
		b.Fatalf("issued %d of %d", rep.Issued, b.N)
	}
}
