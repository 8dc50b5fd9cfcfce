package load_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/load"
)

func TestConstantPacerPace(t *testing.T) {
	tenPerSecond := load.ConstantPacer{Freq: 10, Per: time.Second, Duration: time.Second}
	threePerSecond := load.ConstantPacer{Freq: 3, Per: time.Second, Duration: 2 * time.Second}
	tests := []struct {
		name     string
		pacer    load.ConstantPacer
		elapsed  time.Duration
		hits     uint64
		wantWait time.Duration
		wantStop bool
	}{
		// The first arrival is due at once.
		{"first arrival", tenPerSecond, 0, 0, 0, false},
		// Arrival i is due at i×interval.
		{"second arrival from start", tenPerSecond, 0, 1, 100 * time.Millisecond, false},
		{"second arrival part way", tenPerSecond, 40 * time.Millisecond, 1, 60 * time.Millisecond, false},
		{"tenth arrival from previous due", tenPerSecond, 800 * time.Millisecond, 9, 100 * time.Millisecond, false},
		// A late caller is told to go now, never to skip.
		{"late caller", tenPerSecond, 450 * time.Millisecond, 2, 0, false},
		// Arrival 10 would be due at 1s == Duration: stop.
		{"stop at duration", tenPerSecond, 900 * time.Millisecond, 10, 0, true},
		{"stop past duration", tenPerSecond, 0, 11, 0, true},
		// Uneven intervals do not drift: arrival 3 is at exactly 1s.
		{"uneven interval", threePerSecond, 0, 1, 333333333 * time.Nanosecond, false},
		{"uneven no drift", threePerSecond, 0, 3, time.Second, false},
		{"uneven last", threePerSecond, 0, 5, 1666666666 * time.Nanosecond, false},
		{"uneven stop", threePerSecond, 0, 6, 0, true},
		// Per a minute.
		{"per minute", load.ConstantPacer{Freq: 2, Per: time.Minute, Duration: time.Hour}, 0, 1, 30 * time.Second, false},
		// Invalid pacers plan nothing.
		{"zero freq", load.ConstantPacer{Per: time.Second, Duration: time.Second}, 0, 0, 0, true},
		{"zero per", load.ConstantPacer{Freq: 1, Duration: time.Second}, 0, 0, 0, true},
		{"zero duration", load.ConstantPacer{Freq: 1, Per: time.Second}, 0, 0, 0, true},
		{"negative freq", load.ConstantPacer{Freq: -5, Per: time.Second, Duration: time.Second}, 0, 0, 0, true},
		// Absurd hit counts stop rather than overflow.
		{"overflow", tenPerSecond, 0, 1 << 62, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, stop := tt.pacer.Pace(tt.elapsed, tt.hits)
			require.Equal(t, tt.wantStop, stop, "stop")
			require.Equal(t, tt.wantWait, wait, "wait")
		})
	}
}

func TestConstantPacerPlannedAndRate(t *testing.T) {
	tests := []struct {
		name        string
		pacer       load.ConstantPacer
		wantPlanned int64
		wantRate    float64
	}{
		{"10/s for 1s", load.ConstantPacer{Freq: 10, Per: time.Second, Duration: time.Second}, 10, 10},
		{"5/s for 3m", load.ConstantPacer{Freq: 5, Per: time.Second, Duration: 3 * time.Minute}, 900, 5},
		{"3/s for 2s", load.ConstantPacer{Freq: 3, Per: time.Second, Duration: 2 * time.Second}, 6, 3},
		// 3/s for 1.1s: arrivals at 0, 0.33, 0.67 and 1.0s.
		{"3/s for 1.1s", load.ConstantPacer{Freq: 3, Per: time.Second, Duration: 1100 * time.Millisecond}, 4, 3},
		{"1/m for 90s", load.ConstantPacer{Freq: 1, Per: time.Minute, Duration: 90 * time.Second}, 2, 1.0 / 60},
		{"tiny duration", load.ConstantPacer{Freq: 1, Per: time.Second, Duration: time.Nanosecond}, 1, 1},
		{"1000/s for 1h", load.ConstantPacer{Freq: 1000, Per: time.Second, Duration: time.Hour}, 3_600_000, 1000},
		{"invalid", load.ConstantPacer{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantPlanned, tt.pacer.Planned())
			require.InDelta(t, tt.wantRate, tt.pacer.Rate(0), 1e-9)
			// The generic walk agrees with the closed form.
			n, ok := load.PlannedArrivals(walkOnly{tt.pacer})
			require.True(t, ok)
			require.Equal(t, tt.wantPlanned, n, "walked")
		})
	}
}

// walkOnly hides ConstantPacer.Planned so PlannedArrivals must walk.
type walkOnly struct{ p load.ConstantPacer }

func (w walkOnly) Pace(e time.Duration, h uint64) (time.Duration, bool) { return w.p.Pace(e, h) }
func (w walkOnly) Rate(e time.Duration) float64                         { return w.p.Rate(e) }

// forever never stops.
type forever struct{}

func (forever) Pace(time.Duration, uint64) (time.Duration, bool) { return time.Millisecond, false }
func (forever) Rate(time.Duration) float64                       { return 1000 }

func TestPlannedArrivalsUnknown(t *testing.T) {
	n, ok := load.PlannedArrivals(forever{})
	require.False(t, ok)
	require.Zero(t, n)
}
