package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
	"github.com/shakedown-harness/shakedown/mocks/pathology"
)

func TestACKRules(t *testing.T) {
	good := oru("CTRL-ACK-1", "F", hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "NA"}, Value: "140", Status: "F"})
	noNHS := oru("CTRL-ACK-2", "F")
	require.NoError(t, noNHS.Set("PID-3", "12345"))
	adt := oru("CTRL-ACK-3", "F")
	require.NoError(t, adt.Set("MSH-9.1", "ADT"))
	require.NoError(t, adt.Set("MSH-9.2", "A01"))
	tests := []struct {
		name     string
		msg      []byte
		code     string
		msa2     string
		forwards int
	}{
		{"valid result is AA", good.Bytes(), hl7.AA, "CTRL-ACK-1", 1},
		{"no NHS number is AE", noNHS.Bytes(), hl7.AE, "CTRL-ACK-2", 0},
		{"wrong message type is AR", adt.Bytes(), hl7.AR, "CTRL-ACK-3", 0},
		{"unparseable is AR", []byte("MSH|^~\\&|LIMS|X|||20250101||ORU^R01|CTRL-ACK-4|P|2.4\rP|x"), hl7.AR, "CTRL-ACK-4", 0},
		{"not HL7 is AR", []byte("hello"), hl7.AR, "", 0},
	}
	for _, modeName := range []string{modeNaive, modeResilient} {
		for _, tt := range tests {
			t.Run(modeName+"/"+tt.name, func(t *testing.T) {
				s := startMesh(t)
				r := startRouter(t, testConfig(t, modeName, s))
				ack := exchange(t, r.addr, tt.msg)
				require.Equal(t, tt.code, ack.Get("MSA-1"))
				require.Equal(t, tt.msa2, ack.Get("MSA-2"))
				require.Equal(t, "ACK", ack.Get("MSH-9.1"))
				if tt.code != hl7.AA {
					require.NotNil(t, ack.Segment("ERR"))
				}
				if tt.forwards > 0 {
					eventually(t, 5*time.Second, "result in MESH", func() bool { return s.sent("") == tt.forwards })
				}
				r.close()
				require.Equal(t, tt.forwards, s.sent(""))
			})
		}
	}
}

// TestDuplicates measures the issue-4 faults in both modes: a lost MESH 202
// and a lab resend of the same MSH-10 after its ACK was lost.
func TestDuplicates(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		lost202   bool
		dropACKs  int
		wantMESH  int
		wantSends int64 // POSTs seen by MESH
	}{
		{"naive lost 202 makes a second MESH message", modeNaive, true, 0, 2, 2},
		{"resilient lost 202 is found by tracking", modeResilient, true, 0, 1, 1},
		{"naive forwards a lab resend again", modeNaive, false, 1, 2, 2},
		{"resilient de-duplicates a lab resend", modeResilient, false, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startMesh(t)
			if tt.lost202 {
				s.onSend = func(n int) (inband.Spec, bool) {
					return inband.Spec{Kind: inband.LostResponse, Operations: []string{mesh.OpSend}}, n == 1
				}
			}
			r := startRouter(t, testConfig(t, tt.mode, s))
			target := r.addr
			if tt.dropACKs > 0 {
				target = startACKDropper(t, r.addr, tt.dropACKs).addr
			}
			lab := pathology.NewLab(target, pathology.WithSeed(7), pathology.WithACKTimeout(300*time.Millisecond), pathology.WithMaxAttempts(5))
			t.Cleanup(func() { _ = lab.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			recs, err := lab.Send(ctx, 1)
			require.NoError(t, err)
			require.Len(t, recs, 1)
			require.Equal(t, pathology.OutcomeAccepted, recs[0].Outcome)
			require.Equal(t, 1+tt.dropACKs, recs[0].Attempts(), "lab sends")
			msh10 := recs[0].MSH10
			eventually(t, 10*time.Second, "sends settle", func() bool { return s.sent(msh10) >= tt.wantMESH })
			r.close() // waits for in-flight sends
			require.Equal(t, tt.wantMESH, s.sent(msh10), "MESH messages for one result")
			require.Equal(t, tt.wantSends, s.sends.Load(), "outbox POSTs")
			t.Logf("%s: lab sends %d, MESH messages %d (duplicates %d)", tt.mode, recs[0].Attempts(), s.sent(msh10), s.sent(msh10)-1)
		})
	}
}

func TestResilientHonoursRetryAfter(t *testing.T) {
	s := startMesh(t)
	s.onSend = func(n int) (inband.Spec, bool) {
		return inband.Spec{Kind: inband.Status, Status: 503, RetryAfter: time.Second, Operations: []string{mesh.OpSend}}, n == 1
	}
	r := startRouter(t, testConfig(t, modeResilient, s)) // backoff base 10 ms
	ack := exchange(t, r.addr, oru("CTRL-RA", "F", hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "NA"}, Value: "140", Status: "F"}).Bytes())
	require.Equal(t, hl7.AA, ack.Get("MSA-1"))
	eventually(t, 10*time.Second, "sent after Retry-After", func() bool { return s.sent("CTRL-RA") == 1 })
	at := s.times()
	require.Len(t, at, 2)
	gap := at[1].Sub(at[0])
	require.GreaterOrEqual(t, gap, 950*time.Millisecond, "second POST came %v after the 503 with Retry-After: 1", gap)
	t.Logf("retry after 503 Retry-After:1 came %v later", gap)
}

func TestResilientSurvivesCrash(t *testing.T) {
	res := func(t *testing.T, id string) *result {
		m, err := hl7.Parse(oru(id, "F", hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "NA"}, Value: "140", Status: "F"}).Bytes())
		require.NoError(t, err)
		r, err := convert(m)
		require.NoError(t, err)
		return r
	}
	t.Run("stored and ACKed, killed before sending", func(t *testing.T) {
		s := startMesh(t)
		cfg := testConfig(t, modeResilient, s)
		first, err := openResilient(cfg, newMeshClient(cfg), testLogger(t))
		require.NoError(t, err)
		code, _ := first.accept(context.Background(), res(t, "CTRL-CRASH-1"))
		require.Equal(t, hl7.AA, code)
		// By the time the ACK is built the record is on disk.
		box, err := openOutbox(cfg.stateDir, testLogger(t))
		require.NoError(t, err)
		rec, ok := box.get("CTRL-CRASH-1")
		require.True(t, ok)
		require.Equal(t, stateQueued, rec.State)
		// "Crash": the first instance never sends. Restart on the same state.
		second, err := openResilient(cfg, newMeshClient(cfg), testLogger(t))
		require.NoError(t, err)
		second.start()
		t.Cleanup(func() { _ = second.shutdown(context.Background()) })
		eventually(t, 5*time.Second, "sent after restart", func() bool { return second.pending() == 0 })
		require.Equal(t, 1, s.sent("CTRL-CRASH-1"))
	})
	t.Run("killed mid-send after MESH stored it", func(t *testing.T) {
		s := startMesh(t)
		s.hold, s.held = make(chan struct{}), make(chan struct{})
		cfg := testConfig(t, modeResilient, s)
		first, err := openResilient(cfg, newMeshClient(cfg), testLogger(t))
		require.NoError(t, err)
		code, _ := first.accept(context.Background(), res(t, "CTRL-CRASH-2"))
		require.Equal(t, hl7.AA, code)
		first.start()
		<-s.held // MESH has stored it; the 202 has not left
		crashed := t.TempDir()
		copyDir(t, filepath.Join(cfg.stateDir, "outbox"), filepath.Join(crashed, "outbox"))
		close(s.hold)
		require.NoError(t, first.shutdown(context.Background()))

		cfg.stateDir = crashed // the disk as the crash left it: state "sending"
		second, err := openResilient(cfg, newMeshClient(cfg), testLogger(t))
		require.NoError(t, err)
		rec, _ := second.box.get("CTRL-CRASH-2")
		require.Equal(t, stateUncertain, rec.State)
		second.start()
		t.Cleanup(func() { _ = second.shutdown(context.Background()) })
		eventually(t, 5*time.Second, "settled after restart", func() bool { return second.pending() == 0 })
		require.Equal(t, 1, s.sent("CTRL-CRASH-2"), "tracking found it; no second message")
		require.Equal(t, int64(1), s.sends.Load())
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(to, 0o700))
	des, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join(from, de.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, de.Name()), b, 0o600))
	}
}
