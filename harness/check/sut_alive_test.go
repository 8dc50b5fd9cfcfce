package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestSUTAlive(t *testing.T) {
	c := build(t, scenario.CheckSpec{Name: "sut-alive"})
	require.Equal(t, "sut-alive", c.Name())

	ops := []record.Operation{op(0, 40, 1, record.OK), op(1, 42, 5, record.Unknown), op(2, 50, 0.1, record.OK)}
	started := record.SUTEvent{At: 0, Kind: record.SUTStarted, PID: 100}
	tests := []struct {
		name         string
		events       []record.SUTEvent
		wantStatus   check.Status
		wantMessage  string
		wantEvidence []int64
		wantDetails  []string
	}{
		{
			name:        "ran throughout",
			events:      []record.SUTEvent{started, {At: sec(1), Kind: record.SUTHealthy}, {At: sec(300), Kind: record.SUTExited, Expected: true}},
			wantStatus:  check.Pass,
			wantMessage: "The system under test never exited unexpectedly.",
		},
		{
			name: "crashed by the harness and restarted",
			events: []record.SUTEvent{
				started,
				{At: sec(130), Kind: record.SUTKilled, Expected: true},
				{At: sec(130), Kind: record.SUTExited, ExitCode: -1, Expected: true},
				{At: sec(135), Kind: record.SUTStarted, PID: 101},
			},
			wantStatus: check.Pass,
		},
		{
			name:         "exited on its own",
			events:       []record.SUTEvent{started, {At: sec(43.5), Kind: record.SUTExited, PID: 100, ExitCode: 2, Detail: "panic: nil map"}},
			wantStatus:   check.Fail,
			wantMessage:  "The system under test exited unexpectedly at 43.5s with exit code 2.",
			wantEvidence: []int64{2},
			wantDetails:  []string{"Exited unexpectedly at 43.5s with exit code 2 (process 100): panic: nil map."},
		},
		{
			name: "exited twice",
			events: []record.SUTEvent{
				started,
				{At: sec(40.5), Kind: record.SUTExited, ExitCode: 1},
				{At: sec(50), Kind: record.SUTStarted},
				{At: sec(50.05), Kind: record.SUTExited, ExitCode: 137},
			},
			wantStatus:   check.Fail,
			wantMessage:  "The system under test exited unexpectedly 2 times: at 40.5s with exit code 1; at 50.1s with exit code 137.",
			wantEvidence: []int64{1, 3},
		},
		{
			name:        "no lifecycle events",
			wantStatus:  check.Inconclusive,
			wantMessage: "No lifecycle events were recorded for the system under test",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Evaluate(&check.Input{Operations: ops, SUT: tt.events})
			require.Equal(t, "sut-alive", v.Check)
			require.Equal(t, tt.wantStatus, v.Status, v.Message)
			require.Contains(t, v.Message, tt.wantMessage)
			require.Equal(t, tt.wantEvidence, seqs(v.Evidence))
			for _, d := range tt.wantDetails {
				require.Contains(t, joined(v.Details), d)
			}
		})
	}
}
