package pathology

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
)

// ackFrame answers msg with an AA.
func ackFrame(t *testing.T, msg []byte) []byte {
	m, err := hl7.Parse(msg)
	require.NoError(t, err)
	return hl7.BuildACK(m, "", hl7.ACK{Code: hl7.AA, ControlID: "A-" + m.ControlID(), Time: t0}).Bytes()
}

func TestLabResendsOnACKTimeoutWithSameMSH10(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan []byte, 4)
		lab := NewLab("pipe", WithSeed(3), pipeDialer(func(c net.Conn) {
			defer c.Close()
			r, w := hl7.NewReader(c, 0), hl7.NewWriter(c)
			first, err := r.ReadFrame() // never answered
			if err != nil {
				return
			}
			got <- first
			second, err := r.ReadFrame()
			if err != nil {
				return
			}
			got <- second
			_ = w.WriteFrame(ackFrame(t, second))
			_, _ = r.ReadFrame() // until the lab closes
		}))
		defer lab.Close()
		start := time.Now()
		recs, err := lab.Send(t.Context(), 1)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		rec := recs[0]
		first, second := <-got, <-got
		require.Equal(t, first, second, "the resend is the same message")
		m, err := hl7.Parse(first)
		require.NoError(t, err)
		require.Equal(t, rec.MSH10, m.ControlID())
		require.Equal(t, 2, rec.Attempts())
		require.Equal(t, DefaultACKTimeout, rec.SentAt[1].Sub(rec.SentAt[0]), "resent after exactly the default ACK timeout")
		require.Equal(t, start, rec.SentAt[0])
		require.Equal(t, OutcomeAccepted, rec.Outcome)
		require.NotNil(t, rec.ACK)
		require.True(t, rec.ACK.Matched)

		es := lab.Journal().Entries()
		require.Equal(t, []string{"result.sent", "result.resent", "ack.received"}, kinds(es))
		for _, e := range es {
			require.Equal(t, Service, e.Service)
			require.Equal(t, rec.MSH10, e.Keys[keyMSH10])
		}
		require.Equal(t, map[string]string{"attempt": "1", "status": rec.Status}, es[0].Attrs)
		require.Equal(t, rec.NHSNumber, es[0].Keys[keyNHSNumber])
		require.Equal(t, map[string]string{"attempt": "2", "status": rec.Status, "reason": "ack-timeout"}, es[1].Attrs)
		require.Equal(t, map[string]string{"code": "AA", "msa2": rec.MSH10, "matched": "true"}, es[2].Attrs)
	})
}

// TestLateACKIsMismatched is nextgenhealthcare/connect#1441: the ACK for
// message 1 arrives after the sender gave up on it, while message 2 is in
// flight. It must be recorded as mismatched, never taken as message 2's.
func TestLateACKIsMismatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewListener(WithSeed(4))
		_, err := l.Faults().Add(Spec{Kind: LateACK, Delay: 1500 * time.Millisecond})
		require.NoError(t, err)
		lab := NewLab("pipe", WithSeed(4), WithACKTimeout(time.Second), WithMaxAttempts(1), pipeDialer(l.ServeConn))
		recs, err := lab.Send(t.Context(), 2)
		require.NoError(t, err)
		require.NoError(t, lab.Close())
		require.NoError(t, l.Close())

		first, second := recs[0], recs[1]
		require.Equal(t, OutcomeNoACK, first.Outcome)
		require.Empty(t, first.ACKs)
		require.Len(t, second.ACKs, 1, "message 1's late ACK arrived while message 2 was in flight")
		late := second.ACKs[0]
		require.Equal(t, first.MSH10, late.MSA2)
		require.False(t, late.Matched)
		require.Nil(t, second.ACK, "the late ACK was not taken as message 2's")
		require.Equal(t, OutcomeNoACK, second.Outcome)
		require.Equal(t, 1, second.Mismatched())
		require.True(t, late.Late, "it names a message this lab sent: late, not stray")
		require.Zero(t, second.Stray())

		acks := ofKind(lab.Journal().Entries(), "ack.received")
		require.Len(t, acks, 1)
		require.Equal(t, second.MSH10, acks[0].Keys[keyMSH10])
		require.Equal(t, map[string]string{"code": "AA", "msa2": first.MSH10, "matched": "false"}, acks[0].Attrs)
		require.Len(t, ofKind(l.Journal().Entries(), "ack.delayed"), 2)
	})
}

// TestMirthResendFlood: with the ACK withheld, a sender that resends on
// every timeout delivers the same result again and again.
func TestWithheldACKMakesDuplicates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewListener(WithSeed(5))
		id, err := l.Faults().Add(Spec{Kind: WithholdACK})
		require.NoError(t, err)
		lab := NewLab("pipe", WithSeed(5), WithACKTimeout(time.Second), WithMaxAttempts(4), pipeDialer(l.ServeConn))
		recs, err := lab.Send(t.Context(), 1)
		require.NoError(t, err)
		require.NoError(t, lab.Close())
		require.NoError(t, l.Close())
		require.Equal(t, 4, recs[0].Attempts())
		require.Equal(t, OutcomeNoACK, recs[0].Outcome)
		acc := ofKind(l.Journal().Entries(), "result.accepted")
		require.Len(t, acc, 4)
		for _, e := range acc {
			require.Equal(t, recs[0].MSH10, e.Keys[keyMSH10])
		}
		c, ok := l.Faults().Counts(id)
		require.True(t, ok)
		require.Equal(t, int64(4), c.Faulted)
		require.Len(t, ofKind(lab.Journal().Entries(), "result.resent"), 3)
	})
}

func TestLabReconnectsAfterConnectionLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewListener(WithSeed(6))
		dials := 0
		lab := NewLab("pipe", WithSeed(6), WithDialer(func(ctx context.Context) (net.Conn, error) {
			dials++
			client, server := net.Pipe()
			if dials == 1 {
				go func() { // read the message, then drop the connection
					_, _ = hl7.NewReader(server, 0).ReadFrame()
					_ = server.Close()
				}()
			} else {
				go l.ServeConn(server)
			}
			return client, nil
		}))
		recs, err := lab.Send(t.Context(), 1)
		require.NoError(t, err)
		require.NoError(t, lab.Close())
		require.NoError(t, l.Close())
		require.Equal(t, 2, dials)
		require.Equal(t, 2, recs[0].Attempts())
		require.Equal(t, OutcomeAccepted, recs[0].Outcome)
		resent := ofKind(lab.Journal().Entries(), "result.resent")
		require.Len(t, resent, 1)
		require.Equal(t, "connection-lost", resent[0].Attrs["reason"])
	})
}

func TestSenderFaults(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		check func(t *testing.T, rec Record, lab *Lab, l *Listener)
	}{
		{"burst", Spec{Kind: Burst, Times: 3}, func(t *testing.T, rec Record, lab *Lab, l *Listener) {
			require.Equal(t, 3, rec.Attempts())
			require.Equal(t, OutcomeAccepted, rec.Outcome)
			require.Len(t, rec.ACKs, 3)
			acc := ofKind(l.Journal().Entries(), "result.accepted")
			require.Len(t, acc, 3)
			require.Equal(t, "2", acc[2].Attrs["duplicate_msh10"])
			resent := ofKind(lab.Journal().Entries(), "result.resent")
			require.Len(t, resent, 2)
			require.Equal(t, "burst", resent[0].Attrs["reason"])
		}},
		{"silent drop", Spec{Kind: SilentDrop}, func(t *testing.T, rec Record, lab *Lab, l *Listener) {
			require.True(t, rec.Dropped)
			require.Equal(t, OutcomeDropped, rec.Outcome)
			require.Equal(t, []string{"result.sent", "result.dropped"}, kinds(lab.Journal().Entries()))
			require.Empty(t, l.Journal().Entries())
		}},
		{"receiver AE", Spec{Kind: ErrorACK}, func(t *testing.T, rec Record, lab *Lab, l *Listener) {
			require.Equal(t, OutcomeError, rec.Outcome)
			require.Equal(t, 1, rec.Attempts(), "AE is not resent")
			rej := ofKind(l.Journal().Entries(), "result.rejected")
			require.Len(t, rej, 1)
			require.Equal(t, string(ErrorACK), rej[0].Attrs["fault"])
		}},
		{"receiver AR", Spec{Kind: RejectACK, Text: "down for maintenance"}, func(t *testing.T, rec Record, lab *Lab, l *Listener) {
			require.Equal(t, OutcomeRejected, rec.Outcome)
			require.Contains(t, ofKind(l.Journal().Entries(), "result.rejected")[0].Attrs["error"], "down for maintenance")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewListener(WithSeed(7))
				lab := NewLab("pipe", WithSeed(7), WithACKTimeout(time.Second), WithMaxAttempts(1), pipeDialer(l.ServeConn))
				f := lab.Faults()
				if !containsKind(SenderKinds, tt.spec.Kind) {
					f = l.Faults()
				}
				_, err := f.Add(tt.spec)
				require.NoError(t, err)
				recs, err := lab.Send(t.Context(), 1)
				require.NoError(t, err)
				require.NoError(t, lab.Close())
				require.NoError(t, l.Close())
				tt.check(t, recs[0], lab, l)
				require.Equal(t, int64(1), f.Total().Faulted)
			})
		})
	}
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// TestBacklogFlood: results held during an outage all go out at once when
// it ends (Grimethorpe: no results for days, then ~2,500 at once).
func TestBacklogFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewListener(WithSeed(8))
		lab := NewLab("pipe", WithSeed(8), pipeDialer(l.ServeConn))
		id, err := lab.Faults().Add(Spec{Kind: Backlog})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- lab.Run(ctx, time.Second) }()
		<-time.After(10*time.Second + time.Millisecond) // the outage, on the bubble's clock
		synctest.Wait()
		require.Empty(t, l.Journal().Entries(), "nothing reaches the receiver during the outage")
		released := time.Now()
		_, err = lab.Faults().Remove(id)
		require.NoError(t, err)
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, lab.Close())
		require.NoError(t, l.Close())

		recs := lab.Records()
		require.Len(t, recs, 11)
		require.True(t, recs[0].Held)
		for _, r := range recs {
			require.Equal(t, OutcomeAccepted, r.Outcome)
			require.Equal(t, released, r.SentAt[0], "the backlog goes out at once")
		}
		require.Len(t, ofKind(l.Journal().Entries(), "result.accepted"), 11)
	})
}

// TestLabToListenerOverTCP: real sockets, every result accepted, journals
// agree, and the same seed gives the same results.
func TestLabToListenerOverTCP(t *testing.T) {
	run := func(t *testing.T) ([]Record, []string) {
		probe := NewLab("", WithSeed(9), WithClock(fixedClock))
		var known []string
		for _, p := range probe.Patients() {
			known = append(known, p.NHSNumber)
		}
		l := NewListener(WithSeed(9), WithClock(fixedClock), WithKnownPatients(known...))
		startListener(t, l)
		lab := NewLab(l.Addr(), WithSeed(9), WithClock(fixedClock), WithVersion(hl7.V251))
		defer lab.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		recs, err := lab.Send(ctx, 25)
		require.NoError(t, err)
		var hashes []string
		for _, e := range ofKind(l.Journal().Entries(), "result.accepted") {
			hashes = append(hashes, e.Attrs["content_hash"])
			require.Equal(t, hl7.V251, e.Attrs["version"])
		}
		return recs, hashes
	}
	recs, hashes := run(t)
	require.Len(t, hashes, 25)
	statuses := map[string]bool{}
	for _, r := range recs {
		require.Equal(t, OutcomeAccepted, r.Outcome)
		require.Equal(t, 1, r.Attempts())
		require.Equal(t, r.MSH10, r.ACK.MSA2)
		statuses[r.Status] = true
	}
	require.Len(t, statuses, 4, "F, P, C and X all appear in 25 results")
	recs2, hashes2 := run(t)
	require.Equal(t, hashes, hashes2, "the same seed sends the same clinical content")
	for i := range recs {
		require.Equal(t, recs[i].MSH10, recs2[i].MSH10)
		require.Equal(t, recs[i].NHSNumber, recs2[i].NHSNumber)
	}
}

func TestFaultSpecValidation(t *testing.T) {
	tests := []struct {
		name string
		f    *Faults
		spec Spec
		want string
	}{
		{"sender kind on receiver", newFaults(ReceiverKinds), Spec{Kind: Burst}, "not implemented here"},
		{"late ack without delay", newFaults(ReceiverKinds), Spec{Kind: LateACK}, "positive delay"},
		{"burst of one", newFaults(SenderKinds), Spec{Kind: Burst, Times: 1}, "times must be 2"},
		{"bad fraction", newFaults(SenderKinds), Spec{Kind: SilentDrop, Fraction: 2}, "fraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Add(tt.spec)
			require.ErrorContains(t, err, tt.want)
		})
	}
	f := newFaults(SenderKinds)
	id, err := f.Add(Spec{Kind: SilentDrop, Fraction: 0.3, Seed: 42})
	require.NoError(t, err)
	hits := 0
	for range 1000 {
		if _, ok := f.pick(SilentDrop); ok {
			hits++
		}
	}
	c, err := f.Remove(id)
	require.NoError(t, err)
	require.Equal(t, int64(1000), c.Seen)
	require.Equal(t, int64(hits), c.Faulted)
	require.InDelta(t, 300, hits, 60)
	_, err = f.Remove(id)
	require.Error(t, err)
	got, ok := f.Counts(id)
	require.True(t, ok)
	require.Equal(t, c, got)
}
