package record_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

var base = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// fakeNow is an injectable now func whose current time the test sets.
type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time { return f.t }

func TestClock(t *testing.T) {
	f := &fakeNow{t: base}
	c := record.NewClock(f.now)
	require.Equal(t, base, c.Base())
	require.Zero(t, c.Now())

	tests := []struct {
		name string
		at   time.Time
		want time.Duration
	}{
		{name: "base", at: base, want: 0},
		{name: "later", at: base.Add(1500 * time.Millisecond), want: 1500 * time.Millisecond},
		{name: "much later", at: base.Add(3 * time.Hour), want: 3 * time.Hour},
		{name: "nanosecond", at: base.Add(time.Nanosecond), want: time.Nanosecond},
		{name: "before base", at: base.Add(-time.Second), want: -time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.t = tc.at
			require.Equal(t, tc.want, c.Now())
			require.Equal(t, tc.want, c.Offset(tc.at))
			require.True(t, c.At(tc.want).Equal(tc.at), "At(Offset(t)) == t")
			require.Equal(t, tc.want, c.Offset(c.At(tc.want)), "Offset(At(d)) == d")
			require.Equal(t, base, c.Base(), "the base never moves")
		})
	}
}

func TestClockDefaultsToTimeNow(t *testing.T) {
	before := time.Now()
	c := record.NewClock(nil)
	after := time.Now()
	require.False(t, c.Base().Before(before))
	require.False(t, c.Base().After(after))
	require.GreaterOrEqual(t, c.Now(), time.Duration(0))
	require.LessOrEqual(t, c.Offset(before), time.Duration(0))
}

func TestOperationLatencyAndKey(t *testing.T) {
	tests := []struct {
		name        string
		op          record.Operation
		wantLatency time.Duration
		key         string
		wantKey     string
	}{
		{
			name:        "sent on time",
			op:          record.Operation{Intended: time.Second, Call: time.Second, Return: 1250 * time.Millisecond, Keys: map[string]string{record.KeyUBRN: "000000000001"}},
			wantLatency: 250 * time.Millisecond,
			key:         record.KeyUBRN, wantKey: "000000000001",
		},
		{
			name:        "stalled generator counts from intended",
			op:          record.Operation{Intended: time.Second, Call: 3 * time.Second, Return: 3100 * time.Millisecond, Keys: map[string]string{record.KeyNHSNumber: "9000000009"}},
			wantLatency: 2100 * time.Millisecond,
			key:         record.KeyNHSNumber, wantKey: "9000000009",
		},
		{
			name:        "missing key",
			op:          record.Operation{Intended: 0, Return: time.Millisecond, Keys: map[string]string{record.KeyUBRN: "1"}},
			wantLatency: time.Millisecond,
			key:         record.KeyCorrelationID, wantKey: "",
		},
		{
			name:        "nil keys",
			op:          record.Operation{},
			wantLatency: 0,
			key:         record.KeyRequestID, wantKey: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.wantLatency, tc.op.Latency())
			require.Equal(t, tc.wantKey, tc.op.Key(tc.key))
		})
	}
}

func TestEffectsOf(t *testing.T) {
	f := &fakeNow{t: base}
	c := record.NewClock(f.now)
	j := journal.New("ers", f.now)

	f.t = base.Add(2 * time.Second)
	_, err := j.Record("referral.created", map[string]string{record.KeyUBRN: "1"}, map[string]string{"specialty": "cardiology"})
	require.NoError(t, err)
	f.t = base.Add(2*time.Second + 500*time.Millisecond)
	_, err = j.Record("request.faulted", nil, nil)
	require.NoError(t, err)

	// An entry from before the run started lands at a negative offset.
	early := journal.Entry{Service: "pds", Kind: "patient.read", Time: base.Add(-time.Second)}

	got := record.EffectsOf(c, append(j.Entries(), early))
	want := []record.Effect{
		{Service: "ers", Kind: "referral.created", At: 2 * time.Second, Keys: map[string]string{record.KeyUBRN: "1"}, Attrs: map[string]string{"specialty": "cardiology"}},
		{Service: "ers", Kind: "request.faulted", At: 2500 * time.Millisecond},
		{Service: "pds", Kind: "patient.read", At: -time.Second},
	}
	require.Equal(t, want, got)
	require.Equal(t, "1", got[0].Key(record.KeyUBRN))
	require.Empty(t, got[0].Key(record.KeyNHSNumber))
	require.Empty(t, got[1].Key(record.KeyUBRN))

	empty := record.EffectsOf(c, nil)
	require.NotNil(t, empty)
	require.Empty(t, empty)
}

func TestFaultWindowContains(t *testing.T) {
	s := time.Second
	tests := []struct {
		name   string
		window record.FaultWindow
		at     time.Duration
		want   bool
	}{
		// Reverted: the window is [Injected, Reverted).
		{name: "reverted: before injected", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 11 * s, Reverted: 22 * s}, at: 11*s - 1, want: false},
		{name: "reverted: at injected", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 11 * s, Reverted: 22 * s}, at: 11 * s, want: true},
		{name: "reverted: at planned start before injected", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 11 * s, Reverted: 22 * s}, at: 10 * s, want: false},
		{name: "reverted: after planned end before reverted", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 11 * s, Reverted: 22 * s}, at: 21 * s, want: true},
		{name: "reverted: just before reverted", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 11 * s, Reverted: 22 * s}, at: 22*s - 1, want: true},
		{name: "reverted: at reverted (half-open)", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 11 * s, Reverted: 22 * s}, at: 22 * s, want: false},
		{name: "reverted early: after reverted before planned end", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 10 * s, Reverted: 15 * s}, at: 16 * s, want: false},

		// Never reverted: falls back to the planned End.
		{name: "not reverted: inside", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 10 * s}, at: 15 * s, want: true},
		{name: "not reverted: just before end", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 10 * s}, at: 20*s - 1, want: true},
		{name: "not reverted: at end (half-open)", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 10 * s}, at: 20 * s, want: false},
		{name: "not reverted: before injected", window: record.FaultWindow{Start: 10 * s, End: 20 * s, Injected: 10 * s}, at: 9 * s, want: false},

		// Degenerate windows contain nothing.
		{name: "instantaneous", window: record.FaultWindow{Start: 10 * s, End: 10 * s, Injected: 10 * s}, at: 10 * s, want: false},
		{name: "zero window", window: record.FaultWindow{}, at: 0, want: false},
		{name: "injected at zero", window: record.FaultWindow{End: 5 * s}, at: 0, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.window.Contains(tc.at))
		})
	}
}
