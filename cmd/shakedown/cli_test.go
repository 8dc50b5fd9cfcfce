package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := execute(context.Background(), args, &out, &out)
	return code, out.String()
}

func TestCLIExitCodes(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("name: x\nservices: [nope]\n"), 0o644))
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "version", args: []string{"version"}, wantCode: 0, wantOut: []string{"shakedown", "toxiproxy"}},
		{name: "unknown command is usage", args: []string{"frobnicate"}, wantCode: 2, wantOut: []string{"unknown command"}},
		{name: "run without a scenario is usage", args: []string{"run"}, wantCode: 2, wantOut: []string{"requires at least 1 arg"}},
		{name: "validate a good library file", args: []string{"validate", "../../scenarios/ers-outage-referrals.yaml"}, wantCode: 0, wantOut: []string{"ok (ers-outage-referrals"}},
		{name: "validate a broken file lists problems", args: []string{"validate", broken}, wantCode: 2, wantOut: []string{broken + ":2:", "nope"}},
		{name: "validate a missing file", args: []string{"validate", "no/such.yaml"}, wantCode: 2, wantOut: []string{"no/such.yaml"}},
		{name: "run a broken file is invalid, nothing starts", args: []string{"run", broken}, wantCode: 2, wantOut: []string{"invalid scenario"}},
		{name: "containers mode is not available yet", args: []string{"run", "--mode", "containers", "--out", t.TempDir(), "../../scenarios/ers-outage-referrals.yaml"}, wantCode: 2, wantOut: []string{"containers mode", "--mode embedded"}},
		{name: "bad --sut-cmd quoting", args: []string{"run", "--sut-cmd", "'oops", "../../scenarios/ers-outage-referrals.yaml"}, wantCode: 2, wantOut: []string{"--sut-cmd", "unterminated"}},
		{name: "list the library", args: []string{"list", "../../scenarios"}, wantCode: 0, wantOut: []string{"ers-outage-referrals", "e-RS goes down"}},
		{name: "mocks refuse a non-loopback address", args: []string{"mocks", "serve", "ers", "--addr", "0.0.0.0:9000"}, wantCode: 2, wantOut: []string{"--addr", "outside 127.0.0.0/8"}},
		{name: "mocks refuse an unknown service", args: []string{"mocks", "serve", "pas"}, wantCode: 2, wantOut: []string{"unknown service", "ers, gpconnect"}},
		{name: "report on a directory that is not a run", args: []string{"report", "text", t.TempDir()}, wantCode: 2, wantOut: []string{"shakedown run directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCLI(t, tt.args...)
			require.Equal(t, tt.wantCode, code, out)
			for _, w := range tt.wantOut {
				require.Contains(t, out, w)
			}
		})
	}
}
