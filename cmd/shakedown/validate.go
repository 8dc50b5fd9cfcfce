package main

import (
	"fmt"
	"io"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/spf13/cobra"
)

func newValidateCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files without starting anything; list every problem with its line",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, p := range args {
				sc, err := scenario.LoadFile(p)
				if err != nil {
					bad++
					fmt.Fprintln(stdout, err)
					continue
				}
				fmt.Fprintf(stdout, "%s: ok (%s: %d load, %d faults, %d checks)\n", p, sc.Name, len(sc.Load), len(sc.Timeline), len(sc.Checks))
			}
			if bad > 0 {
				return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("%d of %d scenario files are invalid", bad, len(args))}
			}
			return nil
		},
	}
}
