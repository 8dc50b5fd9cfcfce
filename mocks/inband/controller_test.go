package inband_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    inband.Spec
		wantErr []string // substrings; empty means valid
	}{
		{name: "status 429", spec: inband.Spec{Kind: inband.Status, Status: 429}},
		{name: "status 400 lower bound", spec: inband.Spec{Kind: inband.Status, Status: 400}},
		{name: "status 599 upper bound", spec: inband.Spec{Kind: inband.Status, Status: 599}},
		{name: "status with retry-after and code", spec: inband.Spec{Kind: inband.Status, Status: 503, Code: "SYSTEM_UNAVAILABLE", RetryAfter: 1500 * time.Millisecond}},
		{name: "status missing", spec: inband.Spec{Kind: inband.Status}, wantErr: []string{"between 400 and 599, got 0"}},
		{name: "status 200", spec: inband.Spec{Kind: inband.Status, Status: 200}, wantErr: []string{"got 200"}},
		{name: "status 399", spec: inband.Spec{Kind: inband.Status, Status: 399}, wantErr: []string{"got 399"}},
		{name: "status 600", spec: inband.Spec{Kind: inband.Status, Status: 600}, wantErr: []string{"got 600"}},
		{name: "lost response", spec: inband.Spec{Kind: inband.LostResponse}},
		{name: "lost response with operations", spec: inband.Spec{Kind: inband.LostResponse, Operations: []string{"create"}}},
		{name: "delay", spec: inband.Spec{Kind: inband.Delay, Delay: time.Second}},
		{name: "delay zero", spec: inband.Spec{Kind: inband.Delay}, wantErr: []string{"positive delay"}},
		{name: "delay negative", spec: inband.Spec{Kind: inband.Delay, Delay: -time.Second}, wantErr: []string{"positive delay"}},
		{name: "fraction zero means all", spec: inband.Spec{Kind: inband.LostResponse, Fraction: 0}},
		{name: "fraction half", spec: inband.Spec{Kind: inband.LostResponse, Fraction: 0.5, Seed: 7}},
		{name: "fraction one", spec: inband.Spec{Kind: inband.LostResponse, Fraction: 1}},
		{name: "fraction negative", spec: inband.Spec{Kind: inband.LostResponse, Fraction: -0.1}, wantErr: []string{"fraction must be within 0..1, got -0.1"}},
		{name: "fraction above one", spec: inband.Spec{Kind: inband.LostResponse, Fraction: 1.5}, wantErr: []string{"got 1.5"}},
		{name: "unknown kind", spec: inband.Spec{Kind: "explode"}, wantErr: []string{`unknown in-band fault kind "explode"`, "status", "lost-response", "delay"}},
		{name: "empty kind", spec: inband.Spec{}, wantErr: []string{`unknown in-band fault kind ""`}},
		{name: "several problems joined", spec: inband.Spec{Kind: inband.Status, Status: 200, Fraction: 2}, wantErr: []string{"got 200", "got 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tc.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

// serve sends one request for operation op through h and returns the status.
func serve(t *testing.T, h http.Handler, op string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/"+op, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// pathClassifier names the operation after the request path.
func pathClassifier(r *http.Request) string { return r.URL.Path[1:] }

// statusResponder writes spec.Status with the spec code as the body.
func statusResponder(w http.ResponseWriter, _ *http.Request, spec inband.Spec) {
	w.WriteHeader(spec.Status)
	_, _ = w.Write([]byte(spec.Code))
}

// okHandler answers 200.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
})

func TestControllerAddAssignsSequentialIDs(t *testing.T) {
	c := inband.NewController()
	ids := make([]string, 0, 3)
	for range 3 {
		id, err := c.Add(inband.Spec{Kind: inband.LostResponse})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.Equal(t, []string{"f1", "f2", "f3"}, ids)
}

func TestControllerAddRejectsInvalidSpec(t *testing.T) {
	c := inband.NewController()
	id, err := c.Add(inband.Spec{Kind: inband.Status, Status: 200})
	require.ErrorContains(t, err, "add in-band fault")
	require.ErrorContains(t, err, "got 200")
	require.Empty(t, id)
	require.Empty(t, c.Active())

	// A rejected spec does not use up an id.
	id, err = c.Add(inband.Spec{Kind: inband.LostResponse})
	require.NoError(t, err)
	require.Equal(t, "f1", id)
}

func TestControllerActive(t *testing.T) {
	c := inband.NewController()
	require.Empty(t, c.Active())

	s1 := inband.Spec{Kind: inband.Status, Status: 503, Operations: []string{"create"}}
	s2 := inband.Spec{Kind: inband.Delay, Delay: time.Second}
	id1, err := c.Add(s1)
	require.NoError(t, err)
	id2, err := c.Add(s2)
	require.NoError(t, err)
	require.Equal(t, map[string]inband.Spec{id1: s1, id2: s2}, c.Active())

	_, err = c.Remove(id1)
	require.NoError(t, err)
	require.Equal(t, map[string]inband.Spec{id2: s2}, c.Active())

	c.Clear()
	require.Empty(t, c.Active())
}

func TestControllerSpecIsNotAliased(t *testing.T) {
	c := inband.NewController()
	ops := []string{"create"}
	id, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Operations: ops})
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)

	// Neither the caller's slice nor the one Active hands out may change
	// which operations the fault hits.
	ops[0] = "read"
	c.Active()[id].Operations[0] = "read"

	require.Equal(t, http.StatusOK, serve(t, h, "read"))
	require.Equal(t, http.StatusServiceUnavailable, serve(t, h, "create"))
	require.Equal(t, []string{"create"}, c.Active()[id].Operations)
}

func TestControllerRemoveReturnsFinalCounts(t *testing.T) {
	c := inband.NewController()
	id, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503})
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)
	for range 3 {
		require.Equal(t, http.StatusServiceUnavailable, serve(t, h, "create"))
	}

	n, err := c.Remove(id)
	require.NoError(t, err)
	require.Equal(t, inband.Counts{Seen: 3, Faulted: 3}, n)

	// Once removed the fault no longer sees or faults traffic...
	require.Equal(t, http.StatusOK, serve(t, h, "create"))
	// ...and its counts survive the removal.
	got, ok := c.Counts(id)
	require.True(t, ok)
	require.Equal(t, inband.Counts{Seen: 3, Faulted: 3}, got)
	require.Equal(t, inband.Counts{Seen: 3, Faulted: 3}, c.Total())

	// Removing it again reports the same final counts.
	again, err := c.Remove(id)
	require.NoError(t, err)
	require.Equal(t, n, again)
}

func TestControllerRemoveUnknownID(t *testing.T) {
	tests := []struct {
		name string
		id   string
	}{
		{name: "never added", id: "f9"},
		{name: "empty", id: ""},
		{name: "not an id", id: "banana"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			_, err := c.Add(inband.Spec{Kind: inband.LostResponse})
			require.NoError(t, err)

			n, err := c.Remove(tc.id)
			require.ErrorContains(t, err, "no fault with id")
			require.ErrorContains(t, err, `"`+tc.id+`"`)
			require.Zero(t, n)
			require.Len(t, c.Active(), 1, "a failed remove must not touch active faults")

			_, ok := c.Counts(tc.id)
			require.False(t, ok)
		})
	}
}

func TestControllerCountsAndTotal(t *testing.T) {
	c := inband.NewController()
	require.Zero(t, c.Total())

	create, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Operations: []string{"create"}})
	require.NoError(t, err)
	cancel, err := c.Add(inband.Spec{Kind: inband.Status, Status: 500, Operations: []string{"cancel"}})
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)

	for range 2 {
		serve(t, h, "create")
	}
	serve(t, h, "cancel")
	serve(t, h, "read")

	got, ok := c.Counts(create)
	require.True(t, ok)
	require.Equal(t, inband.Counts{Seen: 2, Faulted: 2}, got)
	got, ok = c.Counts(cancel)
	require.True(t, ok)
	require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, got)
	require.Equal(t, inband.Counts{Seen: 3, Faulted: 3}, c.Total())

	_, ok = c.Counts("f99")
	require.False(t, ok)
}

func TestControllerClear(t *testing.T) {
	c := inband.NewController()
	a, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Operations: []string{"create"}})
	require.NoError(t, err)
	b, err := c.Add(inband.Spec{Kind: inband.Status, Status: 429})
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)
	serve(t, h, "create")
	serve(t, h, "read")

	c.Clear()
	require.Empty(t, c.Active())
	require.Equal(t, http.StatusOK, serve(t, h, "create"))

	// Counts of cleared faults survive, and they can still be "removed".
	got, ok := c.Counts(a)
	require.True(t, ok)
	require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, got)
	n, err := c.Remove(b)
	require.NoError(t, err)
	require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, n)
	require.Equal(t, inband.Counts{Seen: 2, Faulted: 2}, c.Total())

	// Clearing an empty controller is harmless and ids keep counting up.
	c.Clear()
	id, err := c.Add(inband.Spec{Kind: inband.LostResponse})
	require.NoError(t, err)
	require.Equal(t, "f3", id)
}

func TestControllerFirstMatchingFaultWins(t *testing.T) {
	c := inband.NewController()
	first, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503})
	require.NoError(t, err)
	second, err := c.Add(inband.Spec{Kind: inband.Status, Status: 500})
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)

	require.Equal(t, http.StatusServiceUnavailable, serve(t, h, "create"))
	n, _ := c.Counts(first)
	require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, n)
	n, _ = c.Counts(second)
	require.Zero(t, n, "a later fault does not see a request an earlier one faulted")
}

func TestControllerOperationsFilter(t *testing.T) {
	tests := []struct {
		name        string
		operations  []string
		op          string
		wantFaulted bool
	}{
		{name: "no filter hits known op", operations: nil, op: "create", wantFaulted: true},
		{name: "no filter hits unclassified", operations: nil, op: "", wantFaulted: true},
		{name: "listed op", operations: []string{"create"}, op: "create", wantFaulted: true},
		{name: "one of several listed", operations: []string{"create", "cancel"}, op: "cancel", wantFaulted: true},
		{name: "other op", operations: []string{"create"}, op: "read", wantFaulted: false},
		{name: "unclassified with filter", operations: []string{"create"}, op: "", wantFaulted: false},
		{name: "case sensitive", operations: []string{"create"}, op: "Create", wantFaulted: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			id, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Operations: tc.operations})
			require.NoError(t, err)

			var handled, observed int
			next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				handled++
				w.WriteHeader(http.StatusOK)
			})
			classify := func(*http.Request) string { return tc.op }
			observe := func(*http.Request, string, inband.Spec) { observed++ }
			h := c.Middleware(next, classify, statusResponder, observe)

			code := serve(t, h, "ignored")
			n, ok := c.Counts(id)
			require.True(t, ok)
			if tc.wantFaulted {
				require.Equal(t, http.StatusServiceUnavailable, code)
				require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, n)
				require.Zero(t, handled)
				require.Equal(t, 1, observed)
				return
			}
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, inband.Counts{}, n, "requests of other operations are not even seen")
			require.Equal(t, 1, handled)
			require.Zero(t, observed)
		})
	}
}

// faultPattern drives n requests through a fresh controller holding spec and
// reports which of them were faulted.
func faultPattern(t *testing.T, spec inband.Spec, n int) []bool {
	t.Helper()
	c := inband.NewController()
	id, err := c.Add(spec)
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)
	out := make([]bool, n)
	var faulted int64
	for i := range out {
		out[i] = serve(t, h, "create") == spec.Status
		if out[i] {
			faulted++
		}
	}
	got, ok := c.Counts(id)
	require.True(t, ok)
	require.Equal(t, inband.Counts{Seen: int64(n), Faulted: faulted}, got)
	return out
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func TestFractionIsSeededAndProportional(t *testing.T) {
	const n = 2000
	tests := []struct {
		name     string
		fraction float64
		seed     uint64
	}{
		{name: "tenth", fraction: 0.1, seed: 1},
		{name: "third", fraction: 0.3, seed: 42},
		{name: "half seed zero", fraction: 0.5, seed: 0},
		{name: "nine tenths", fraction: 0.9, seed: 12345},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := inband.Spec{Kind: inband.Status, Status: 503, Fraction: tc.fraction, Seed: tc.seed}
			first := faultPattern(t, spec, n)
			second := faultPattern(t, spec, n)
			require.Equal(t, first, second, "the same seed must fault the same requests")

			// Roughly n*fraction: allow five standard deviations.
			want := float64(n) * tc.fraction
			sd := 5 * math.Sqrt(float64(n)*tc.fraction*(1-tc.fraction))
			require.InDelta(t, want, countTrue(first), sd)

			other := spec
			other.Seed = tc.seed + 1
			require.NotEqual(t, first, faultPattern(t, other, n), "a different seed must fault different requests")
		})
	}
}

func TestFractionZeroAndOneFaultEverything(t *testing.T) {
	for _, fraction := range []float64{0, 1} {
		spec := inband.Spec{Kind: inband.Status, Status: 503, Fraction: fraction, Seed: 9}
		require.Equal(t, 100, countTrue(faultPattern(t, spec, 100)), "fraction %v", fraction)
	}
}

func TestFractionSkippedRequestFallsThroughToLaterFault(t *testing.T) {
	c := inband.NewController()
	partial, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Fraction: 0.5, Seed: 3})
	require.NoError(t, err)
	catchAll, err := c.Add(inband.Spec{Kind: inband.Status, Status: 500})
	require.NoError(t, err)
	h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)

	const n = 200
	var got503, got500 int64
	for range n {
		switch serve(t, h, "create") {
		case http.StatusServiceUnavailable:
			got503++
		case http.StatusInternalServerError:
			got500++
		default:
			t.Fatal("every request should be faulted by one of the two faults")
		}
	}
	p, _ := c.Counts(partial)
	a, _ := c.Counts(catchAll)
	require.Equal(t, inband.Counts{Seen: n, Faulted: got503}, p)
	require.Equal(t, inband.Counts{Seen: got500, Faulted: got500}, a)
	require.Equal(t, inband.Counts{Seen: n + got500, Faulted: n}, c.Total())
}
