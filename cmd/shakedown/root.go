package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:   "shakedown",
		Short: "Pilot an NHS GP-practice integration against realistic mocks, faults and load, and judge it",
		Long: `shakedown runs realistic mocks of the services a GP-practice integration talks to
(e-RS today; GP Connect, MESH and pathology feeds next) behind Toxiproxy, drives
clinical workloads through the integration under test, injects faults on one
timeline and judges the run with clinical-safety checks.

Exit codes: 0 all checks passed; 1 a check failed; 2 invalid scenario or usage;
3 the harness or stack failed; 4 inconclusive; 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "harness diagnostics on stderr: debug, info, warn or error")
	logger := func() *slog.Logger {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(strings.ToUpper(logLevel))); err != nil {
			lv = slog.LevelWarn
		}
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	}
	root.AddCommand(
		newRunCmd(stdout, logger),
		newValidateCmd(stdout),
		newListCmd(stdout),
		newMocksCmd(stdout, logger),
		newReportCmd(stdout),
		newReplayCmd(stdout),
		newVersionCmd(stdout),
	)
	return root
}
