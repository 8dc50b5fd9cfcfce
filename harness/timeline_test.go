package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/stretchr/testify/require"
)

// fakeTarget records every control call with the run-clock time it came.
type fakeTarget struct {
	mu      sync.Mutex
	clock   *record.Clock
	calls   []string
	failOn  string
	faulted int64
}

func (f *fakeTarget) log(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s@%s", call, f.clock.Now().Round(time.Millisecond)))
	if call == f.failOn {
		return errors.New("injected failure for " + call)
	}
	return nil
}

func (f *fakeTarget) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type fakeProxy struct{ t *fakeTarget }

func (p fakeProxy) AddToxic(_ context.Context, tx fault.Toxic) error {
	return p.t.log("add " + tx.Type)
}
func (p fakeProxy) RemoveToxic(context.Context, string) error { return p.t.log("remove toxic") }
func (p fakeProxy) Disable(context.Context) error             { return p.t.log("disable") }
func (p fakeProxy) Enable(context.Context) error              { return p.t.log("enable") }

type fakeProcess struct{ t *fakeTarget }

func (p fakeProcess) Kill(context.Context) error    { return p.t.log("kill") }
func (p fakeProcess) Restart(context.Context) error { return p.t.log("restart") }
func (p fakeProcess) Pause(context.Context) error   { return p.t.log("pause") }
func (p fakeProcess) Resume(context.Context) error  { return p.t.log("resume") }

type fakeInBand struct{ t *fakeTarget }

func (b fakeInBand) AddFault(_ context.Context, s inband.Spec) (string, error) {
	b.t.mu.Lock()
	b.t.faulted += 3
	b.t.mu.Unlock()
	return "f1", b.t.log("add in-band " + string(s.Kind))
}
func (b fakeInBand) RemoveFault(context.Context, string) (inband.Counts, error) {
	return inband.Counts{Seen: 5, Faulted: 3}, b.t.log("remove in-band")
}

func (f *fakeTarget) Proxy(string) (fault.Proxy, error)   { return fakeProxy{f}, nil }
func (f *fakeTarget) SUT() (fault.Process, error)         { return fakeProcess{f}, nil }
func (f *fakeTarget) InBand(string) (fault.InBand, error) { return fakeInBand{f}, nil }
func (f *fakeTarget) Counters(string) stack.Counters {
	f.mu.Lock()
	defer f.mu.Unlock()
	return stack.Counters{Requests: f.faulted * 2, Faulted: f.faulted}
}

func testScenario(steps ...scenario.Step) *scenario.Scenario {
	return &scenario.Scenario{Name: "t", Services: []string{"ers"}, Timeline: steps}
}

func TestTimelineInjectsAndRevertsOnTheRunClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		ft := &fakeTarget{clock: clock}
		sc := testScenario(
			scenario.Step{At: 10 * time.Second, For: 5 * time.Second, Fault: "down", Service: "ers"},
			scenario.Step{At: 12 * time.Second, For: 10 * time.Second, Fault: "latency", Service: "ers", Latency: time.Second},
			scenario.Step{At: 20 * time.Second, Fault: "crash", Target: "sut", RestartAfter: 3 * time.Second},
			scenario.Step{At: 30 * time.Second, For: 2 * time.Second, Fault: "status", Service: "ers", Status: 503},
		)
		tl, err := newTimeline(sc, 1, clock, ft, ft, slog.New(slog.DiscardHandler), func(string, ...any) {})
		require.NoError(t, err)
		tl.run(t.Context(), 0)
		require.Equal(t, []string{
			"disable@10s", "add latency@12s", "enable@15s", "kill@20s", "remove toxic@22s",
			"restart@23s", "add in-band status@30s", "remove in-band@32s",
		}, ft.Calls())
		require.Zero(t, tl.pending())
		ws := tl.windows()
		require.Len(t, ws, 4)
		require.Equal(t, 10*time.Second, ws[0].Injected)
		require.Equal(t, 15*time.Second, ws[0].Reverted)
		require.Equal(t, 23*time.Second, ws[2].Reverted, "a crash window closes when the SUT is restarted")
		require.Equal(t, int64(3), ws[3].Evidence.Faulted, "in-band evidence is the counter delta over the window")
		require.NoError(t, tl.err())
	})
}

func TestTimelineRevertAllUndoesNewestFirstAndOnlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		ft := &fakeTarget{clock: clock}
		sc := testScenario(
			scenario.Step{At: time.Second, For: time.Hour, Fault: "down", Service: "ers"},
			scenario.Step{At: 2 * time.Second, For: time.Hour, Fault: "latency", Service: "ers", Latency: time.Second},
			scenario.Step{At: 3 * time.Second, For: time.Hour, Fault: "hang", Target: "sut"},
			scenario.Step{At: time.Minute, For: time.Second, Fault: "lost-response", Service: "ers"},
		)
		tl, err := newTimeline(sc, 1, clock, ft, ft, slog.New(slog.DiscardHandler), func(string, ...any) {})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { tl.run(ctx, 0); close(done) }()
		<-time.After(10 * time.Second) // fake time inside the bubble
		synctest.Wait()
		require.Equal(t, 3, tl.pending())
		cancel() // the interrupt
		<-done
		tl.revertAll(context.Background())
		tl.revertAll(context.Background()) // idempotent
		require.Equal(t, []string{
			"disable@1s", "add latency@2s", "pause@3s",
			"resume@10s", "remove toxic@10s", "enable@10s",
		}, ft.Calls(), "newest first, once each; the fault never due is never injected")
		ws := tl.windows()
		require.Zero(t, ws[3].Injected)
	})
}

func TestTimelineRecordsInjectFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := record.NewClock(nil)
		ft := &fakeTarget{clock: clock, failOn: "disable"}
		sc := testScenario(scenario.Step{At: time.Second, For: time.Second, Fault: "down", Service: "ers"})
		tl, err := newTimeline(sc, 1, clock, ft, ft, slog.New(slog.DiscardHandler), func(string, ...any) {})
		require.NoError(t, err)
		tl.run(t.Context(), 0)
		require.ErrorContains(t, tl.err(), "inject fault 1")
		require.Contains(t, tl.windows()[0].Error, "injected failure for disable")
		require.Zero(t, tl.pending(), "a fault that failed to inject has nothing to revert")
	})
}

func TestJudgeWindows(t *testing.T) {
	s := time.Second
	ops := []record.Operation{
		{Intended: 1 * s, Return: 2 * s, Outcome: record.OK},
		{Intended: 11 * s, Return: 12 * s, Outcome: record.Fail},
		{Intended: 12 * s, Return: 13 * s, Outcome: record.OK},
		{Intended: 9 * s, Return: 10500 * time.Millisecond, Outcome: record.Unknown}, // started before, ended inside
	}
	tests := []struct {
		name        string
		w           record.FaultWindow
		wantTouched bool
		wantOps     int64
		wantAff     int64
	}{
		{name: "down with traffic", w: record.FaultWindow{Kind: "down", Injected: 10 * s, Reverted: 15 * s}, wantTouched: true, wantOps: 3, wantAff: 2},
		{name: "down with no traffic", w: record.FaultWindow{Kind: "down", Injected: 20 * s, Reverted: 25 * s}},
		{name: "toxic with bytes", w: record.FaultWindow{Kind: "latency", Injected: 20 * s, Reverted: 25 * s, Evidence: record.Evidence{BytesIn: 10}}, wantTouched: true},
		{name: "toxic with nothing through the proxy", w: record.FaultWindow{Kind: "latency", Injected: 10 * s, Reverted: 15 * s}, wantOps: 3, wantAff: 2},
		{name: "in-band that faulted nothing", w: record.FaultWindow{Kind: "status", Injected: 10 * s, Reverted: 15 * s, Evidence: record.Evidence{Requests: 9}}, wantOps: 3, wantAff: 2},
		{name: "in-band that faulted", w: record.FaultWindow{Kind: "lost-response", Injected: 10 * s, Reverted: 15 * s, Evidence: record.Evidence{Faulted: 1}}, wantTouched: true, wantOps: 3, wantAff: 2},
		{name: "crash while requests came", w: record.FaultWindow{Kind: "crash", Injected: 11 * s, Reverted: 12 * s}, wantTouched: true, wantOps: 1, wantAff: 1},
		{name: "a fault that failed never counts", w: record.FaultWindow{Kind: "down", Injected: 10 * s, Reverted: 15 * s, Error: "inject: boom"}, wantOps: 3, wantAff: 2},
		{name: "never injected", w: record.FaultWindow{Kind: "down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judgeWindows([]record.FaultWindow{tt.w}, ops)[0]
			require.Equal(t, tt.wantTouched, got.Touched, got.Evidence.Notes)
			require.Equal(t, tt.wantOps, got.Evidence.Operations)
			require.Equal(t, tt.wantAff, got.Evidence.Affected)
			require.NotEmpty(t, got.Evidence.Notes, "evidence must always be explained in words")
		})
	}
}
