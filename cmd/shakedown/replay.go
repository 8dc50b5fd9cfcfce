package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/reports"
	"github.com/spf13/cobra"
)

func newReplayCmd(stdout io.Writer) *cobra.Command {
	var expectFail []string
	cmd := &cobra.Command{
		Use:   "replay RUN_DIR",
		Short: "Re-evaluate the checks of a finished run from its run directory, without starting anything",
		Long: `Replay reads scenario.yaml, operations.jsonl, journals/, faults.json and result.json
from a run directory and judges them again with the scenario's checks, printing the
summary and exiting as the run would have. Nothing is started and nothing is written,
so a failing CI run's directory becomes a regression fixture for the checks.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := harness.Replay(args[0], harness.WithExpectFail(expectFail))
			var ue *harness.UsageError
			if errors.As(err, &ue) {
				return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("replay: %w", err)}
			}
			if err != nil {
				return &exitError{code: harness.ExitHarness, err: fmt.Errorf("replay: %w", err)}
			}
			if err := reports.Text(stdout, res); err != nil {
				return &exitError{code: harness.ExitHarness, err: fmt.Errorf("print summary: %w", err)}
			}
			if code := res.ExitCode(); code != harness.ExitPass {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&expectFail, "expect-fail", nil, "checks expected to fail (as for run)")
	return cmd
}
