package pathology

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
)

// TestSendOneConcurrentCallers: many goroutines call SendOne; results go
// out one at a time in seed order, each gets its own matched AA, and the
// content hash is the one the listener computes from the wire.
func TestSendOneConcurrentCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const seed, callers, each = 11, 8, 3
		l := NewListener(WithSeed(seed))
		var (
			mu       sync.Mutex
			inFlight int
			overlap  bool
		)
		lab := NewLab("pipe", WithSeed(seed), pipeDialer(func(c net.Conn) {
			defer c.Close()
			r, w := hl7.NewReader(c, 0), hl7.NewWriter(c)
			for {
				f, err := r.ReadFrame()
				if err != nil {
					return
				}
				mu.Lock()
				inFlight++
				overlap = overlap || inFlight > 1
				mu.Unlock()
				<-time.After(100 * time.Millisecond) // fake time: the receiver takes its time
				mu.Lock()
				inFlight--
				mu.Unlock()
				if err := w.WriteFrame(ackFrame(t, f)); err != nil {
					return
				}
			}
		}))
		probe := NewLab("", WithSeed(seed))
		var want []string
		for range callers * each {
			want = append(want, probe.gen.Next().ControlID)
		}

		var (
			wg   sync.WaitGroup
			rmu  sync.Mutex
			recs []Record
		)
		for range callers {
			wg.Go(func() {
				for range each {
					r, err := lab.SendOne(t.Context())
					require.NoError(t, err)
					rmu.Lock()
					recs = append(recs, r)
					rmu.Unlock()
				}
			})
		}
		wg.Wait()
		require.NoError(t, lab.Close())
		require.NoError(t, l.Close())
		require.False(t, overlap)

		require.Len(t, recs, callers*each)
		slices.SortFunc(recs, func(a, b Record) int { return a.FirstSent().Compare(b.FirstSent()) })
		var got []string
		for i, r := range recs {
			got = append(got, r.MSH10)
			require.Equal(t, OutcomeAccepted, r.Outcome)
			require.True(t, r.Matched())
			require.Equal(t, hl7.AA, r.ACKCode())
			require.Equal(t, 1, r.Attempts())
			require.Zero(t, r.Mismatched())
			require.Equal(t, 100*time.Millisecond, r.Acked().Sub(r.FirstSent()))
			require.Len(t, r.ContentHash, 64)
			require.NotEmpty(t, r.NHSNumber)
			require.Contains(t, []string{"F", "P", "C", "X"}, r.Status)
			if i > 0 {
				require.False(t, r.FirstSent().Before(recs[i-1].Acked()), "sent only after the previous one was acknowledged")
			}
		}
		require.Equal(t, want, got, "results go out in seed order")
		require.Len(t, lab.Records(), callers*each)

		sent := ofKind(lab.Journal().Entries(), "result.sent")
		require.Len(t, sent, callers*each)
		for i, e := range sent {
			require.Equal(t, recs[i].MSH10, e.Keys[keyMSH10])
			require.Equal(t, recs[i].NHSNumber, e.Keys[keyNHSNumber])
			require.Equal(t, recs[i].ContentHash, e.Keys[keyContentHash])
		}
	})
}

// TestSendOneContentHashMatchesListener: the lab's hash is the one the
// listener computes from the bytes it received.
func TestSendOneContentHashMatchesListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewListener(WithSeed(12))
		lab := NewLab("pipe", WithSeed(12), pipeDialer(l.ServeConn))
		var recs []Record
		for range 20 {
			r, err := lab.SendOne(t.Context())
			require.NoError(t, err)
			recs = append(recs, r)
		}
		require.NoError(t, lab.Close())
		require.NoError(t, l.Close())
		acc := ofKind(l.Journal().Entries(), "result.accepted")
		require.Len(t, acc, len(recs))
		for i, e := range acc {
			require.Equal(t, recs[i].MSH10, e.Keys[keyMSH10])
			require.Equal(t, recs[i].ContentHash, e.Attrs["content_hash"])
		}
	})
}

func TestSendOneResendsOnACKTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan []byte, 4)
		lab := NewLab("pipe", WithSeed(13), WithACKTimeout(2*time.Second), pipeDialer(func(c net.Conn) {
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
			_, _ = r.ReadFrame()
		}))
		defer lab.Close()
		start := time.Now()
		rec, err := lab.SendOne(t.Context())
		require.NoError(t, err)
		first, second := <-got, <-got
		require.Equal(t, first, second, "the resend is the same message, same MSH-10")
		m, err := hl7.Parse(first)
		require.NoError(t, err)
		require.Equal(t, rec.MSH10, m.ControlID())
		require.Equal(t, ContentHash(m), rec.ContentHash)
		require.Equal(t, 2, rec.Attempts())
		require.Equal(t, start, rec.FirstSent())
		require.Equal(t, start.Add(2*time.Second), rec.Acked())
		require.True(t, rec.Matched())
		require.Equal(t, hl7.AA, rec.ACKCode())
		require.Zero(t, rec.Mismatched())
		es := lab.Journal().Entries()
		require.Equal(t, []string{"result.sent", "result.resent", "ack.received"}, kinds(es))
		require.Equal(t, rec.ContentHash, es[0].Keys[keyContentHash])
		require.Equal(t, rec.ContentHash, es[1].Keys[keyContentHash])
		require.Equal(t, "ack-timeout", es[1].Attrs["reason"])
	})
}

// TestSendOneCountsMismatchedLateACK: message 1 is never answered in
// time; its ACK arrives while message 2 is in flight, before message 2's
// own. Message 2 counts one mismatched ACK and is still matched.
func TestSendOneCountsMismatchedLateACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := NewLab("pipe", WithSeed(14), WithACKTimeout(time.Second), WithMaxAttempts(1), pipeDialer(func(c net.Conn) {
			defer c.Close()
			r, w := hl7.NewReader(c, 0), hl7.NewWriter(c)
			first, err := r.ReadFrame()
			if err != nil {
				return
			}
			second, err := r.ReadFrame()
			if err != nil {
				return
			}
			_ = w.WriteFrame(ackFrame(t, first)) // late: message 1 gave up
			_ = w.WriteFrame(ackFrame(t, second))
			_, _ = r.ReadFrame()
		}))
		defer lab.Close()
		type res struct {
			r   Record
			err error
		}
		out := make(chan res, 2)
		for range 2 {
			go func() {
				r, err := lab.SendOne(t.Context())
				out <- res{r, err}
			}()
		}
		a, b := <-out, <-out
		require.NoError(t, a.err)
		require.NoError(t, b.err)
		first, second := a.r, b.r
		if second.FirstSent().Before(first.FirstSent()) {
			first, second = second, first
		}
		require.Equal(t, OutcomeNoACK, first.Outcome)
		require.False(t, first.Matched())
		require.Empty(t, first.ACKCode())
		require.True(t, first.Acked().IsZero())
		require.Zero(t, first.Mismatched())
		require.Equal(t, 1, first.Attempts())

		require.Equal(t, OutcomeAccepted, second.Outcome)
		require.True(t, second.Matched())
		require.Equal(t, hl7.AA, second.ACKCode())
		require.Equal(t, 1, second.Mismatched(), "message 1's late ACK")
		require.Zero(t, second.Stray(), "a late ACK is not a stray one")
		require.Equal(t, first.MSH10, second.ACKs[0].MSA2)
		require.Equal(t, second.MSH10, second.ACK.MSA2)
	})
}

func TestSendOneOutcomesAndErrors(t *testing.T) {
	t.Run("AE is an outcome, not an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := NewListener(WithSeed(15))
			_, err := l.Faults().Add(Spec{Kind: ErrorACK})
			require.NoError(t, err)
			lab := NewLab("pipe", WithSeed(15), pipeDialer(l.ServeConn))
			rec, err := lab.SendOne(t.Context())
			require.NoError(t, err)
			require.NoError(t, lab.Close())
			require.NoError(t, l.Close())
			require.Equal(t, OutcomeError, rec.Outcome)
			require.Equal(t, hl7.AE, rec.ACKCode())
			require.True(t, rec.Matched())
			require.Equal(t, 1, rec.Attempts())
		})
	})
	t.Run("ctx ends while waiting for the turn", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lab := NewLab("pipe", WithSeed(16), pipeDialer(func(c net.Conn) { // never answers
				defer c.Close()
				r := hl7.NewReader(c, 0)
				for {
					if _, err := r.ReadFrame(); err != nil {
						return
					}
				}
			}))
			defer lab.Close()
			long, stopLong := context.WithCancel(t.Context())
			done := make(chan Record)
			go func() {
				r, err := lab.SendOne(long)
				require.ErrorIs(t, err, context.Canceled)
				done <- r
			}()
			synctest.Wait() // the first is in flight
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			rec, err := lab.SendOne(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Empty(t, rec.MSH10, "no result was generated")
			stopLong()
			first := <-done
			require.Equal(t, OutcomeCancelled, first.Outcome)
			require.NotEmpty(t, first.MSH10)
			require.Len(t, lab.Records(), 1)
		})
	})
	t.Run("closed lab", func(t *testing.T) {
		lab := NewLab("127.0.0.1:1", WithSeed(17))
		require.NoError(t, lab.Close())
		rec, err := lab.SendOne(t.Context())
		require.Error(t, err)
		require.Equal(t, OutcomeCancelled, rec.Outcome)
	})
}
