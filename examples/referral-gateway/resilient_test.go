package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestResilientUncertainOutcomes: whatever the way an attempt's outcome is
// lost, the referral ends up in e-RS exactly once.
func TestResilientUncertainOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		faults     func() []fault
		timeout    time.Duration
		creates    int  // createReferral calls e-RS saw
		reconciled bool // the UBRN was learned from the worklist
	}{
		{
			name:    "lost response after commit: reconciled, not re-sent",
			faults:  func() []fault { return []fault{{commit: true, drop: true}} },
			creates: 1, reconciled: true,
		},
		{
			name:    "500 after commit: reconciled, not re-sent",
			faults:  func() []fault { return []fault{{commit: true, status: 500}} },
			creates: 1, reconciled: true,
		},
		{
			name:    "timeout after commit: reconciled, not re-sent",
			faults:  func() []fault { return []fault{{commit: true, hold: make(chan struct{})}} },
			timeout: 300 * time.Millisecond,
			creates: 1, reconciled: true,
		},
		{
			name: "timeout, commit lands after the client gave up: found within the settle window",
			faults: func() []fault {
				return []fault{{hold: make(chan struct{}), commitAfterHold: true}}
			},
			timeout: 300 * time.Millisecond,
			creates: 1, reconciled: true,
		},
		{
			name:    "connection dropped before commit: not in e-RS, sent again once",
			faults:  func() []fault { return []fault{{drop: true}} },
			creates: 2,
		},
		{
			name:    "500 without commit: not in e-RS, sent again once",
			faults:  func() []fault { return []fault{{status: 500}} },
			creates: 2,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ers := newFakeERS(t)
			ers.then(tc.faults()...)
			cfg := testConfig(modeResilient, ers.base, t.TempDir())
			if tc.timeout > 0 {
				cfg.attemptTimeout = tc.timeout
			}
			g := startResilient(t, cfg, true)
			nhs := patients(uint64(200+i), 1)[0]

			resp := g.post(t, referralFor("req-1", nhs))
			require.Equal(t, http.StatusAccepted, resp.Status, "body: %v", resp.Body)
			require.Equal(t, "queued", resp.str("state"))

			st := waitState(t, g.srv.URL, "req-1", stateCreated, 10*time.Second)
			inERS := ers.referralsFor(nhs)
			require.Len(t, inERS, 1, "exactly one referral in e-RS for the patient")
			require.Equal(t, inERS[0].UBRN, st.str("ubrn"))
			require.Len(t, ers.createCalls(), tc.creates)
			worklist, reads := ers.counts()
			require.GreaterOrEqual(t, worklist, 1, "an uncertain send is reconciled against the worklist")
			if tc.reconciled {
				require.GreaterOrEqual(t, reads, 1, "the worklist candidate is read back")
			}
			require.Empty(t, ers.problems())
		})
	}
}

// TestResilientHonoursRetryAfter: after a 429 or 503 with Retry-After, no
// request reaches e-RS before that time, and a clear refusal is not treated
// as uncertain.
func TestResilientHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		faults []fault
	}{
		{name: "503 Retry-After 1", faults: []fault{{status: 503, retryAfter: "1"}}},
		{name: "429 Retry-After 1", faults: []fault{{status: 429, retryAfter: "1"}}},
		{name: "429 twice", faults: []fault{{status: 429, retryAfter: "1"}, {status: 429, retryAfter: "1"}}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ers := newFakeERS(t)
			ers.then(tc.faults...)
			g := startResilient(t, testConfig(modeResilient, ers.base, t.TempDir()), true)
			nhs := patients(uint64(300+i), 1)[0]

			require.Equal(t, http.StatusAccepted, g.post(t, referralFor("req-1", nhs)).Status)
			waitState(t, g.srv.URL, "req-1", stateCreated, 10*time.Second)

			calls := ers.createCalls()
			require.Len(t, calls, len(tc.faults)+1)
			for j := 1; j < len(calls); j++ {
				gap := calls[j].At.Sub(calls[j-1].At)
				require.GreaterOrEqual(t, gap, time.Second, "attempt %d came %v after a Retry-After: 1", j+1, gap)
			}
			worklist, _ := ers.counts()
			require.Zero(t, worklist, "a clear 429/503 is not uncertain: no reconciliation needed")
			require.Len(t, ers.referralsFor(nhs), 1)
		})
	}
}

// TestResilientRetryAfterHoldsWholeBacklog: one Retry-After holds every
// worker, not just the referral that got it.
func TestResilientRetryAfterHoldsWholeBacklog(t *testing.T) {
	ers := newFakeERS(t)
	ers.always(&fault{status: 503, retryAfter: "1"})
	cfg := testConfig(modeResilient, ers.base, t.TempDir())
	cfg.workers = 1 // one worker so the first answer is seen before any other send
	g := startResilient(t, cfg, true)
	nhs := patients(350, 5)
	for i, n := range nhs {
		require.Equal(t, http.StatusAccepted, g.post(t, referralFor(fmt.Sprintf("req-%d", i), n)).Status)
	}
	// Let e-RS refuse for a while, then recover.
	first := <-ers.received
	second := <-ers.received
	require.GreaterOrEqual(t, second.At.Sub(first.At), time.Second)
	ers.always(nil)
	for i := range nhs {
		waitState(t, g.srv.URL, fmt.Sprintf("req-%d", i), stateCreated, 10*time.Second)
	}
	calls := ers.createCalls()
	for j := 1; j < len(calls); j++ {
		if calls[j-1].Answered == 503 {
			require.GreaterOrEqual(t, calls[j].At.Sub(calls[j-1].At), time.Second, "call %d", j+1)
		}
	}
	require.Len(t, ers.allReferrals(), len(nhs))
}

// TestResilientSurvivesRestart: a referral accepted by one instance that
// stopped before sending is sent exactly once by the next instance on the
// same state directory, and its requestId is still known.
func TestResilientSurvivesRestart(t *testing.T) {
	ers := newFakeERS(t)
	dir := t.TempDir()
	cfg := testConfig(modeResilient, ers.base, dir)
	nhs := patients(400, 1)[0]

	first := startResilient(t, cfg, false) // accepts, never sends
	resp := first.post(t, referralFor("req-1", nhs))
	require.Equal(t, http.StatusAccepted, resp.Status)
	require.Equal(t, "queued", first.status(t, "req-1").str("state"))
	first.stop(t)
	require.Empty(t, ers.createCalls())

	second := startResilient(t, cfg, true)
	st := waitState(t, second.srv.URL, "req-1", stateCreated, 10*time.Second)
	require.Len(t, ers.createCalls(), 1)
	require.Equal(t, ers.referralsFor(nhs)[0].UBRN, st.str("ubrn"))

	// The caller retries its request against the new instance: same answer,
	// nothing new sent.
	again := second.post(t, referralFor("req-1", nhs))
	require.Equal(t, http.StatusAccepted, again.Status)
	require.Equal(t, "created", again.str("state"))
	require.Equal(t, st.str("ubrn"), again.str("ubrn"))
	second.stop(t)

	third := startResilient(t, cfg, true)
	require.Equal(t, "created", third.status(t, "req-1").str("state"))
	require.Len(t, ers.createCalls(), 1, "a finished referral is never sent again")
}

// TestResilientReconcilesABatch: referrals a crashed instance left in
// flight are settled by one worklist fetch; those e-RS holds are recorded
// with their UBRN, the rest are sent once.
func TestResilientReconcilesABatch(t *testing.T) {
	ers := newFakeERS(t)
	dir := t.TempDir()
	cfg := testConfig(modeResilient, ers.base, dir)
	nhs := patients(450, 6)
	now := time.Now()

	// What a crash leaves behind: six records in state "sending".
	box, err := openOutbox(dir, testLogger(t))
	require.NoError(t, err)
	want := map[string]string{} // requestId -> UBRN already in e-RS
	for i, n := range nhs {
		id := fmt.Sprintf("req-%d", i)
		e, _, err := box.add(referralFor(id, n))
		require.NoError(t, err)
		require.NoError(t, box.update(e, func(r *record) {
			r.State, r.Attempts = stateSending, 1
			r.FirstAttemptAt, r.LastAttemptAt = now.Add(-time.Minute), now.Add(-time.Minute)
		}))
		switch {
		case i < 4: // the send committed in e-RS (its clock 1s behind ours)
			want[id] = ers.seed(n, now.Add(-time.Minute-time.Second))
		case i == 4: // the patient has an older referral, which is not ours
			ers.seed(n, now.Add(-time.Hour))
		}
	}

	g := startResilient(t, cfg, true)
	for i := range nhs {
		id := fmt.Sprintf("req-%d", i)
		st := waitState(t, g.srv.URL, id, stateCreated, 10*time.Second)
		if ubrn, ok := want[id]; ok {
			require.Equal(t, ubrn, st.str("ubrn"), id)
		} else {
			require.NotEmpty(t, st.str("ubrn"))
		}
	}
	worklist, reads := ers.counts()
	require.Equal(t, 1, worklist, "one worklist fetch settles the whole batch")
	require.Equal(t, 4, reads, "each match is read back")
	require.Len(t, ers.createCalls(), 2, "only the two that never reached e-RS are sent")
	require.Len(t, ers.referralsFor(nhs[4]), 2, "the old referral plus the new one")
}

// TestResilientIdempotentByRequestID: concurrent repeats of one requestId are
// stored and sent once; a requestId reused for another referral is refused.
func TestResilientIdempotentByRequestID(t *testing.T) {
	ers := newFakeERS(t)
	dir := t.TempDir()
	g := startResilient(t, testConfig(modeResilient, ers.base, dir), true)
	nhs := patients(500, 2)

	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = g.post(t, referralFor("req-1", nhs[0])).Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		require.Equal(t, http.StatusAccepted, s)
	}
	waitState(t, g.srv.URL, "req-1", stateCreated, 10*time.Second)
	require.Len(t, ers.createCalls(), 1)

	files, err := filepath.Glob(filepath.Join(dir, "outbox", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)

	conflict := g.post(t, referralFor("req-1", nhs[1]))
	require.Equal(t, http.StatusConflict, conflict.Status)
	require.Contains(t, conflict.str("error"), "different referral")
	require.Equal(t, http.StatusNotFound, g.status(t, "nope").Status)
}

// TestResilientNonRetryable: a 4xx that will not get better marks the
// referral failed after one attempt.
func TestResilientNonRetryable(t *testing.T) {
	for i, status := range []int{400, 401, 403, 404, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			ers := newFakeERS(t)
			ers.then(fault{status: status})
			g := startResilient(t, testConfig(modeResilient, ers.base, t.TempDir()), true)
			nhs := patients(uint64(600+i), 1)[0]
			require.Equal(t, http.StatusAccepted, g.post(t, referralFor("req-1", nhs)).Status)
			st := waitState(t, g.srv.URL, "req-1", stateFailed, 10*time.Second)
			require.Contains(t, st.str("lastError"), fmt.Sprint(status))
			require.Len(t, ers.createCalls(), 1)
			require.Empty(t, ers.allReferrals())
		})
	}
}

// TestResilientDrainsBacklog measures how fast a backlog drains once e-RS
// comes back, with the default worker count and backoff.
func TestResilientDrainsBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("measures drain time")
	}
	tests := []struct {
		name    string
		outage  bool
		latency time.Duration
	}{
		{name: "100 referrals, no outage, 20ms e-RS latency", latency: 20 * time.Millisecond},
		{name: "100 referrals queued during a 503 outage", outage: true, latency: 20 * time.Millisecond},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ers := newFakeERS(t)
			ers.setLatency(tc.latency)
			if tc.outage {
				ers.always(&fault{status: 503})
			}
			cfg := testConfig(modeResilient, ers.base, t.TempDir())
			// Production defaults for the things that govern drain time.
			cfg.workers, cfg.backoffBase, cfg.backoffCap = 4, 250*time.Millisecond, 5*time.Second
			g := startResilient(t, cfg, true)
			nhs := patients(uint64(700+i), 100)

			acceptStart := time.Now()
			for j, n := range nhs {
				require.Equal(t, http.StatusAccepted, g.post(t, referralFor(fmt.Sprintf("req-%d", j), n)).Status)
			}
			acceptTime := time.Since(acceptStart)
			if tc.outage {
				// Keep e-RS down until the backoff has grown, then recover.
				deadline := time.After(20 * time.Second)
				for len(ers.createCalls()) < 5 {
					select {
					case <-ers.received:
					case <-deadline:
						t.Fatal("no retries during the outage")
					}
				}
				ers.always(nil)
			}
			up := time.Now()
			if !tc.outage {
				up = acceptStart // no outage: measure from the first accept
			}
			for j := range nhs {
				waitState(t, g.srv.URL, fmt.Sprintf("req-%d", j), stateCreated, 30*time.Second)
			}
			drain := time.Since(up)
			outageCalls := 0
			var firstOK, lastOK time.Time
			for _, c := range ers.createCalls() {
				switch c.Answered {
				case 503:
					outageCalls++
				case http.StatusCreated:
					if firstOK.IsZero() {
						firstOK = c.At
					}
					lastOK = c.At
				}
			}
			t.Logf("accepted 100 in %v (%.1f ms each, fsync'd); e-RS up -> all created %v "+
				"(first send after recovery at +%v, first to last create %v); %d calls during the outage",
				acceptTime.Round(time.Millisecond), float64(acceptTime.Microseconds())/100/1000,
				drain.Round(time.Millisecond), firstOK.Sub(up).Round(time.Millisecond),
				lastOK.Sub(firstOK).Round(time.Millisecond), outageCalls)
			require.Len(t, ers.allReferrals(), 100)
			require.Less(t, drain, 15*time.Second)
		})
	}
}

// TestOutboxReload covers what a restart finds on disk.
func TestOutboxReload(t *testing.T) {
	dir := t.TempDir()
	log := testLogger(t)
	box, err := openOutbox(dir, log)
	require.NoError(t, err)
	nhs := patients(800, 3)
	for i, n := range nhs {
		_, created, err := box.add(referralFor(fmt.Sprintf("req-%d", i), n))
		require.NoError(t, err)
		require.True(t, created)
	}
	require.NoError(t, box.update(box.get("req-1"), func(r *record) {
		r.State, r.Attempts = stateSending, 1
		r.FirstAttemptAt, r.LastAttemptAt = time.Now(), time.Now()
	}))
	outboxDir := filepath.Join(dir, "outbox")
	// An unfinished write and a damaged record.
	require.NoError(t, os.WriteFile(filepath.Join(outboxDir, ".tmp-123"), []byte("{"), 0o600))
	damaged := filepath.Join(outboxDir, fileName("req-2"))
	require.NoError(t, os.WriteFile(damaged, []byte("{not json"), 0o600))

	again, err := openOutbox(dir, log)
	require.NoError(t, err)
	require.Equal(t, stateQueued, again.get("req-0").snapshot().State)
	rec := again.get("req-1").snapshot()
	require.Equal(t, stateUncertain, rec.State, "in flight at the crash: it may have reached e-RS")
	require.NotZero(t, rec.FirstAttemptAt)
	require.Nil(t, again.get("req-2"))
	require.FileExists(t, damaged+".corrupt", "a damaged record is kept for a person")
	require.NoFileExists(t, filepath.Join(outboxDir, ".tmp-123"))

	reread, err := readRecord(filepath.Join(outboxDir, fileName("req-1")))
	require.NoError(t, err)
	require.Equal(t, stateUncertain, reread.State, "the change is on disk too")
}
