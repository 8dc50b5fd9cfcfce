package load_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/pathology"
)

func TestLabResultsOutcomes(t *testing.T) {
	base := time.Now()
	cur := base
	clock := record.NewClock(func() time.Time { return cur })
	cur = base.Add(5 * time.Second) // every Now on the run clock is then 5s
	sent := base.Add(2 * time.Second)
	full := load.LabSend{MSH10: "M1", NHSNumber: "9990000018", ContentHash: "h1", Attempts: 1, FirstSent: sent}

	tests := []struct {
		name      string
		send      load.LabSend
		err       error
		cancelled bool
		want      record.Outcome
		wantErr   string
		wantKeys  map[string]string
	}{
		{
			name: "a matching AA is OK",
			send: with(full, func(s *load.LabSend) { s.ACK, s.Matched = "AA", true }),
			want: record.OK,
			wantKeys: map[string]string{"msh10": "M1", "nhs_number": "9990000018", "content_hash": "h1",
				"attempts": "1"},
		},
		{
			name:    "AE is a failure the lab knows about",
			send:    with(full, func(s *load.LabSend) { s.ACK, s.Matched = "AE", true }),
			want:    record.Fail,
			wantErr: "the SUT answered AE (application error)",
		},
		{
			name:    "AR is a failure the lab knows about",
			send:    with(full, func(s *load.LabSend) { s.ACK, s.Matched = "AR", true }),
			want:    record.Fail,
			wantErr: "the SUT answered AR (application reject)",
		},
		{
			name:    "no ACK after the attempts is unknown",
			send:    with(full, func(s *load.LabSend) { s.Attempts = 3 }),
			want:    record.Unknown,
			wantErr: "no ACK after 3 attempts",
		},
		{
			name:      "the timeout ending the wait is unknown",
			send:      full,
			err:       context.DeadlineExceeded,
			cancelled: true,
			want:      record.Unknown,
			wantErr:   "no ACK before the timeout",
		},
		{
			name:    "an error from the lab is unknown",
			send:    full,
			err:     errors.New("lab closed"),
			want:    record.Unknown,
			wantErr: "no ACK: lab closed",
		},
		{
			name: "an AA that also saw another message's ACK keeps the count",
			send: with(full, func(s *load.LabSend) { s.ACK, s.Matched, s.Mismatched, s.Attempts = "AA", true, 2, 2 }),
			want: record.OK,
			wantKeys: map[string]string{"msh10": "M1", "nhs_number": "9990000018", "content_hash": "h1",
				"attempts": "2", "mismatched_acks": "2"},
			wantErr: "2 ACK(s) for another message arrived while this one was in flight",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := load.NewLabResults(load.LabResultsConfig{
				Clock: clock,
				Lab: load.LabSenderFunc(func(context.Context) (load.LabSend, error) {
					return tc.send, tc.err
				}),
			})
			require.Equal(t, "lab-results", w.Name())
			ctx := context.Background()
			if tc.cancelled {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			op := w.Iterate(ctx, load.Arrival{})
			require.Equal(t, "result", op.Action)
			require.Equal(t, tc.want, op.Outcome)
			require.Zero(t, op.Status)
			require.Equal(t, 2*time.Second, op.Call, "the call is when the result first went on the wire")
			require.Equal(t, 5*time.Second, op.Return)
			if tc.wantErr == "" {
				require.Empty(t, op.Error)
			} else {
				require.Contains(t, op.Error, tc.wantErr)
			}
			if tc.wantKeys != nil {
				require.Equal(t, tc.wantKeys, op.Keys)
			}
		})
	}
}

func TestLabResultsNothingSent(t *testing.T) {
	w := load.NewLabResults(load.LabResultsConfig{Lab: load.LabSenderFunc(func(ctx context.Context) (load.LabSend, error) {
		return load.LabSend{}, context.DeadlineExceeded
	})})
	op := w.Iterate(context.Background(), load.Arrival{})
	require.Equal(t, record.Unknown, op.Outcome)
	require.Empty(t, op.Keys[load.KeyMSH10])
	require.LessOrEqual(t, op.Call, op.Return)
}

// TestPathologyLab drives the real lab mock against its own listener
// through the adapter.
func TestPathologyLab(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lab := pathology.NewLab(ln.Addr().String(), pathology.WithSeed(7), pathology.WithACKTimeout(2*time.Second))
	t.Cleanup(func() { _ = lab.Close() })
	var known []string
	for _, p := range lab.Patients() {
		known = append(known, p.NHSNumber)
	}
	l := pathology.NewListener(pathology.WithKnownPatients(known...))
	l.Start(ln)
	t.Cleanup(func() { _ = l.Close() })
	w := load.NewLabResults(load.LabResultsConfig{Lab: load.PathologyLab(lab)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op := w.Iterate(ctx, load.Arrival{})
	require.Equal(t, record.OK, op.Outcome, op.Error)
	require.NotEmpty(t, op.Keys[load.KeyMSH10])
	require.NotEmpty(t, op.Keys[load.KeyContentHash])
	require.NotEmpty(t, op.Keys[record.KeyNHSNumber])
	require.Equal(t, "1", op.Keys[load.KeyAttempts])
}

func with(s load.LabSend, f func(*load.LabSend)) load.LabSend {
	f(&s)
	return s
}
