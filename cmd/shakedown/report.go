package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/reports"
	"github.com/spf13/cobra"
)

func newReportCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render reports from run directories",
	}
	var labels []string
	compare := &cobra.Command{
		Use:     "compare RUN_DIR...",
		Short:   "Print the verdict tables of several runs side by side",
		Example: `  shakedown report compare out/naive/ers-outage-referrals out/resilient/ers-outage-referrals --label naive,resilient`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(labels) > 0 && len(labels) != len(args) {
				return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("--label gives %d labels for %d run directories; give one per directory", len(labels), len(args))}
			}
			var runs []reports.Labelled
			for i, dir := range args {
				r, err := reports.ReadResult(dir)
				if err != nil {
					return &exitError{code: harness.ExitInvalid, err: err}
				}
				l := filepath.Base(filepath.Dir(filepath.Clean(dir)))
				if len(labels) > 0 {
					l = labels[i]
				}
				runs = append(runs, reports.Labelled{Label: l, Result: r})
			}
			return reports.Compare(stdout, runs)
		},
	}
	compare.Flags().StringSliceVar(&labels, "label", nil, "column headings, one per run directory (default: each run directory's parent name)")
	text := &cobra.Command{
		Use:   "text RUN_DIR",
		Short: "Print the summary of a finished run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := reports.ReadResult(args[0])
			if err != nil {
				return &exitError{code: harness.ExitInvalid, err: err}
			}
			return reports.Text(stdout, r)
		},
	}
	junit := &cobra.Command{
		Use:   "junit RUN_DIR",
		Short: "Print the JUnit XML of a finished run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := reports.ReadResult(args[0])
			if err != nil {
				return &exitError{code: harness.ExitInvalid, err: err}
			}
			return reports.JUnit(stdout, r)
		},
	}
	cmd.AddCommand(compare, text, junit)
	return cmd
}
