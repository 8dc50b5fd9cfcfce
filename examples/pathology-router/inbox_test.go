package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
)

const ackWorkflow = "PATH_BS_R4_ACK"

// deliverInbound drops n messages into the router's mailbox, as the
// practice would, and returns their MESH ids.
func deliverInbound(t *testing.T, s *meshServer, prefix string, n int, body func(i int) []byte) []string {
	t.Helper()
	var ids []string
	for i := range n {
		b := []byte(fmt.Sprintf(`{"resourceType":"MessageAcknowledgement","localId":"%s-%d","status":"accepted"}`, prefix, i))
		if body != nil {
			b = body(i)
		}
		id, err := s.mock.Deliver(context.Background(), labMailbox, ackWorkflow, b, fmt.Sprintf("%s-%d", prefix, i))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	s.mock.Sweep()
	return ids
}

// journalCount counts MESH journal entries of kind for message id ("" counts all).
func journalCount(s *meshServer, kind, id string) int {
	n := 0
	for _, e := range s.mock.Journal().Entries() {
		if e.Kind == kind && (id == "" || e.Keys["message_id"] == id) {
			n++
		}
	}
	return n
}

func pollingConfig(t *testing.T, modeName string, s *meshServer) config {
	cfg := testConfig(t, modeName, s)
	cfg.pollInterval = 20 * time.Millisecond
	return cfg
}

func TestInboxCollectedBothModes(t *testing.T) {
	for _, modeName := range []string{modeNaive, modeResilient} {
		t.Run(modeName, func(t *testing.T) {
			s := startMesh(t)
			ids := deliverInbound(t, s, "ACK", 5, nil)
			cfg := pollingConfig(t, modeName, s)
			r := startRouter(t, cfg)
			eventually(t, 10*time.Second, "all acknowledged", func() bool { return journalCount(s, "message.acknowledged", "") == 5 })
			more := deliverInbound(t, s, "LATE", 2, nil)
			eventually(t, 10*time.Second, "later ones acknowledged", func() bool { return journalCount(s, "message.acknowledged", "") == 7 })
			r.close()
			for _, id := range append(ids, more...) {
				require.Equal(t, 1, journalCount(s, "message.acknowledged", id), id)
				require.Equal(t, 1, journalCount(s, "message.downloaded", id), "downloaded once: %s", id)
			}
			if modeName == modeResilient {
				store, err := openInboxStore(cfg.stateDir)
				require.NoError(t, err)
				received, acked := store.count()
				require.Equal(t, 7, received)
				require.Equal(t, 7, acked)
				rec, ok := store.get(ids[0])
				require.True(t, ok)
				require.Equal(t, ackWorkflow, rec.WorkflowID)
				require.Equal(t, "ACK-0", rec.LocalID)
				require.Contains(t, string(rec.Body), `"localId":"ACK-0"`)
			}
		})
	}
}

// MESH refuses an acknowledgement (503, Retry-After) and then recovers:
// resilient honours Retry-After, keeps the record, and acknowledges every
// message without downloading any twice; naive strands the message it
// failed on for good and collects the rest on later polls.
func TestInboxUnderFaults(t *testing.T) {
	for _, modeName := range []string{modeNaive, modeResilient} {
		t.Run(modeName, func(t *testing.T) {
			s := startMesh(t)
			ids := deliverInbound(t, s, "ACK", 4, nil)
			fault, err := s.mock.Faults().Add(inband.Spec{Kind: inband.Status, Status: 503, RetryAfter: time.Second,
				Operations: []string{mesh.OpAcknowledge}})
			require.NoError(t, err)
			r := startRouter(t, pollingConfig(t, modeName, s))
			eventually(t, 10*time.Second, "an acknowledgement refused", func() bool { return journalCount(s, "request.faulted", "") >= 1 })
			_, err = s.mock.Faults().Remove(fault)
			require.NoError(t, err)

			if modeName == modeResilient {
				eventually(t, 15*time.Second, "all acknowledged", func() bool { return journalCount(s, "message.acknowledged", "") == 4 })
				r.close()
				for _, id := range ids {
					require.Equal(t, 1, journalCount(s, "message.downloaded", id), "stored, so not downloaded again: %s", id)
				}
				return
			}
			// Naive: every message it started on during the fault is
			// remembered and never tried again.
			time.Sleep(500 * time.Millisecond) // many naive polls after the fault
			r.close()
			stranded := 0
			for _, id := range ids {
				if journalCount(s, "message.acknowledged", id) == 0 {
					stranded++
					require.Equal(t, 1, journalCount(s, "message.downloaded", id), "never retried: %s", id)
				}
			}
			require.GreaterOrEqual(t, stranded, 1, "naive leaves the message it failed on unacknowledged")
			require.Less(t, stranded, 4, "messages listed after the failure are collected on later polls")
		})
	}
}

// A message whose body is not JSON (a binary attachment, a REPORT with
// an empty body) is still the router's to collect.
func TestInboxNonJSON(t *testing.T) {
	for _, modeName := range []string{modeNaive, modeResilient} {
		t.Run(modeName, func(t *testing.T) {
			s := startMesh(t)
			ids := deliverInbound(t, s, "BIN", 3, func(i int) []byte {
				if i == 0 {
					return []byte("%PDF-1.4 not json")
				}
				return []byte(`{"ok":true}`)
			})
			r := startRouter(t, pollingConfig(t, modeName, s))
			eventually(t, 10*time.Second, "JSON ones acknowledged", func() bool {
				return journalCount(s, "message.acknowledged", ids[1])+journalCount(s, "message.acknowledged", ids[2]) == 2
			})
			time.Sleep(200 * time.Millisecond)
			r.close()
			want := 1
			if modeName == modeNaive {
				want = 0 // naive acknowledges only what it parsed
			}
			require.Equal(t, want, journalCount(s, "message.acknowledged", ids[0]))
		})
	}
}

// Resilient: a message stored before a crash but not acknowledged is
// acknowledged after the restart without being processed again.
func TestInboxResilientRestart(t *testing.T) {
	s := startMesh(t)
	ids := deliverInbound(t, s, "ACK", 1, nil)
	cfg := pollingConfig(t, modeResilient, s)
	store, err := openInboxStore(cfg.stateDir)
	require.NoError(t, err)
	_, err = store.add(inboxMessage{ID: ids[0], WorkflowID: ackWorkflow, Body: []byte(`{}`)}, time.Now())
	require.NoError(t, err)

	r := startRouter(t, cfg)
	eventually(t, 10*time.Second, "acknowledged", func() bool { return journalCount(s, "message.acknowledged", ids[0]) == 1 })
	r.close()
	require.Equal(t, 0, journalCount(s, "message.downloaded", ids[0]), "already stored: not downloaded again")
	store, err = openInboxStore(cfg.stateDir)
	require.NoError(t, err)
	rec, ok := store.get(ids[0])
	require.True(t, ok)
	require.True(t, rec.Acknowledged)
	des, err := os.ReadDir(filepath.Join(cfg.stateDir, "inbox"))
	require.NoError(t, err)
	require.Len(t, des, 1)
}

// MESH down: resilient backs off instead of polling every tick.
func TestInboxResilientBacksOff(t *testing.T) {
	s := startMesh(t)
	fault, err := s.mock.Faults().Add(inband.Spec{Kind: inband.Status, Status: 429, RetryAfter: time.Second,
		Operations: []string{mesh.OpListInbox}})
	require.NoError(t, err)
	cfg := pollingConfig(t, modeResilient, s)
	r := startRouter(t, cfg)
	time.Sleep(1500 * time.Millisecond)
	r.close()
	_, err = s.mock.Faults().Remove(fault)
	require.NoError(t, err)
	n := journalCount(s, "request.faulted", "")
	require.GreaterOrEqual(t, n, 1)
	require.LessOrEqual(t, n, 6, "Retry-After 1s is honoured (a 20ms poll would make ~75 requests)")
}

func TestPollIntervalConfig(t *testing.T) {
	env := map[string]string{envListen: "127.0.0.1:0", envMeshURL: "http://127.0.0.1:1", envMeshTo: gpMailbox,
		envMailbox: labMailbox, envPassword: "p", envSharedKey: "k"}
	cfg, err := parseConfig([]string{"--mode", modeNaive}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, time.Second, cfg.pollInterval)
	cfg, err = parseConfig([]string{"--mode", modeNaive, "--poll-interval", "0"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Zero(t, cfg.pollInterval)
	_, err = parseConfig([]string{"--mode", modeNaive, "--poll-interval", "-1s"}, func(k string) string { return env[k] }, io.Discard)
	require.ErrorContains(t, err, "--poll-interval must not be negative")
}
