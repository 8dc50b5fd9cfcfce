package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCreateReferralBodyMatchesSandbox pins the A011 body to the e-RS
// sandbox's MinimalRequest.json, field for field.
func TestCreateReferralBodyMatchesSandbox(t *testing.T) {
	want, err := os.ReadFile("testdata/MinimalRequest.json")
	require.NoError(t, err)
	ref := referral{RequestID: "r1", NHSNumber: "9912003888", ServiceID: "11002", Priority: "URGENT",
		Specialty: "CARDIOLOGY", ClinicType: "HEART_FAILURE"}
	start := time.Date(2024, 5, 1, 10, 55, 0, 0, time.FixedZone("BST", 3600))
	got, err := createReferralBody("_baseUrl_", ref, start)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
}

// TestParseWorklistSandbox reads the sandbox's AwaitingBooking worklist.
func TestParseWorklistSandbox(t *testing.T) {
	b, err := os.ReadFile("testdata/AwaitingBooking.json")
	require.NoError(t, err)
	entries, err := parseWorklist(b)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	created := time.Date(2021, 9, 3, 14, 19, 4, 702_000_000, time.UTC)
	require.Equal(t, worklistEntry{UBRN: "000000070001", NHSNumber: "9462979626", Created: created}, entries[0])
	require.Equal(t, "000000070000", entries[1].UBRN)

	_, err = parseWorklist([]byte(`{"resourceType":"OperationOutcome"}`))
	require.ErrorContains(t, err, "expected a List")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "absent", value: "", want: 0},
		{name: "seconds", value: "5", want: 5 * time.Second},
		{name: "zero", value: "0", want: 0},
		{name: "negative", value: "-3", want: 0},
		{name: "HTTP date", value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "date in the past", value: now.Add(-time.Minute).Format(http.TimeFormat), want: 0},
		{name: "absurd is capped", value: "86400", want: maxRetryAfter},
		{name: "garbage", value: "soon", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, parseRetryAfter(tc.value, now))
		})
	}
}

func TestClassifyCreate(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	created := []byte(`{"resourceType":"ReferralRequest","id":"000000070000"}`)
	tests := []struct {
		name string
		x    exchange
		want outcome
	}{
		{name: "201 with a UBRN", x: exchange{status: 201, body: created}, want: outcomeCreated},
		{name: "201 without a readable body", x: exchange{status: 201, body: []byte("<html>")}, want: outcomeUncertain},
		{name: "connection refused", x: exchange{err: refused}, want: outcomeNotCreated},
		{name: "EOF after sending", x: exchange{err: io.EOF}, want: outcomeUncertain},
		{name: "timeout", x: exchange{err: errors.New("context deadline exceeded")}, want: outcomeUncertain},
		{name: "429", x: exchange{status: 429}, want: outcomeNotCreated},
		{name: "503", x: exchange{status: 503}, want: outcomeNotCreated},
		{name: "423 locked", x: exchange{status: 423}, want: outcomeNotCreated},
		{name: "500", x: exchange{status: 500}, want: outcomeUncertain},
		{name: "502", x: exchange{status: 502}, want: outcomeUncertain},
		{name: "504", x: exchange{status: 504}, want: outcomeUncertain},
		{name: "400", x: exchange{status: 400}, want: outcomeRejected},
		{name: "401", x: exchange{status: 401}, want: outcomeRejected},
		{name: "403", x: exchange{status: 403}, want: outcomeRejected},
		{name: "404", x: exchange{status: 404}, want: outcomeRejected},
		{name: "422", x: exchange{status: 422}, want: outcomeRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := classifyCreate(tc.x)
			require.Equal(t, tc.want, r.outcome, "got %v", r.outcome)
			if tc.want == outcomeCreated {
				require.Equal(t, "000000070000", r.ubrn)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	base, limit := 250*time.Millisecond, 5*time.Second
	for n := 1; n <= 12; n++ {
		step := min(base<<(n-1), limit)
		for range 50 {
			d := backoff(base, limit, n)
			require.GreaterOrEqual(t, d, step/2, "retry %d", n)
			require.LessOrEqual(t, d, step, "retry %d", n)
		}
	}
}

// TestGateProbe: after a failure only one call at a time goes through until
// one succeeds; a Retry-After closes the gate for exactly that long.
func TestGateProbe(t *testing.T) {
	g := newGate(time.Millisecond, time.Millisecond)
	release, err := g.acquire(t.Context())
	require.NoError(t, err)
	release()

	g.failure()
	probe, err := g.acquire(t.Context())
	require.NoError(t, err, "one probe may go once the backoff has passed")
	blocked, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = g.acquire(blocked)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second call waits while the probe is out")

	got := make(chan error, 1)
	go func() {
		r, err := g.acquire(t.Context())
		if err == nil {
			r()
		}
		got <- err
	}()
	g.success()
	probe()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not released after the probe succeeded")
	}

	start := time.Now()
	g.retryAfter(300 * time.Millisecond)
	r, err := g.acquire(t.Context())
	require.NoError(t, err)
	r()
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}
