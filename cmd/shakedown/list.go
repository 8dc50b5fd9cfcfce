package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/spf13/cobra"
)

func newListCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "list [DIR|FILE...]",
		Short: "List scenarios with their one-line descriptions (default: ./scenarios)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"scenarios"}
			}
			var files []string
			for _, a := range args {
				st, err := os.Stat(a)
				if err != nil {
					return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("list %s: %w (give a scenario directory or file)", a, err)}
				}
				if !st.IsDir() {
					files = append(files, a)
					continue
				}
				for _, pat := range []string{"*.yaml", "*.yml"} {
					m, _ := filepath.Glob(filepath.Join(a, pat))
					files = append(files, m...)
				}
			}
			slices.Sort(files)
			tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
			bad := 0
			for _, f := range files {
				sc, err := scenario.LoadFile(f)
				if err != nil {
					bad++
					fmt.Fprintf(tw, "%s\t(invalid: run 'shakedown validate %s')\t%s\n", filepath.Base(f), f, f)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", sc.Name, firstSentence(sc.Description), f)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if bad > 0 {
				return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("%d scenario files are invalid", bad)}
			}
			return nil
		},
	}
}

func firstSentence(s string) string {
	for i, c := range s {
		if c == '\n' || (c == '.' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n')) {
			return s[:i+1]
		}
	}
	return s
}
