package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/reports"
	"github.com/spf13/cobra"
)

type runFlags struct {
	out        string
	mode       string
	seed       uint64
	sutCmd     string
	examples   string
	expectFail []string
	quiet      bool
}

func newRunCmd(stdout io.Writer, logger func() *slog.Logger) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml...",
		Short: "Run scenarios and judge the integration under test",
		Long: `Run each scenario: start the mocks behind Toxiproxy, start the SUT, drive the load
and the fault timeline, drain, judge with the checks, and write one run
directory per scenario under --out (scenario.yaml, seed, operations.jsonl,
faults.json, journals/, result.json, junit.xml, summary.txt, SUT logs).`,
		Example: `  shakedown run scenarios/ers-outage-referrals.yaml
  shakedown run scenarios/ers-outage-referrals.yaml --sut-cmd "./bin/my-gateway --config pilot.yaml"
  shakedown run scenarios/ers-outage-referrals.yaml --seed 42 --out runs/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenarios(cmd, args, f, stdout, logger())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "out", "parent directory for run directories")
	fl.StringVar(&f.mode, "mode", "embedded", "embedded (in-process mocks and Toxiproxy; no Docker)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for every random choice (0: use the scenario's, or choose one)")
	fl.StringVar(&f.sutCmd, "sut-cmd", "", "run this command as the SUT instead of the scenario's (quoted like a shell command)")
	fl.StringVar(&f.examples, "examples", "", "directory {{ .examples }} expands to (default: the directory holding the shakedown binary)")
	fl.StringSliceVar(&f.expectFail, "expect-fail", nil, "checks expected to fail (a known-bad control): exit 0 exactly when every one of these fails (other failures are reported as further catches)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary, not progress")
	return cmd
}

func runScenarios(cmd *cobra.Command, paths []string, f runFlags, stdout io.Writer, logger *slog.Logger) error {
	opts := []harness.Option{
		harness.WithOutDir(f.out),
		harness.WithMode(f.mode),
		harness.WithSeed(f.seed),
		harness.WithLogger(logger),
		harness.WithExpectFail(f.expectFail),
		harness.WithArtifacts(
			harness.Artifact{Name: "junit.xml", Render: reports.JUnit},
			harness.Artifact{Name: "summary.txt", Render: reports.Text},
		),
	}
	if !f.quiet {
		opts = append(opts, harness.WithProgress(stdout))
	}
	if f.sutCmd != "" {
		argv, err := splitCommand(f.sutCmd)
		if err != nil {
			return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("--sut-cmd: %w", err)}
		}
		opts = append(opts, harness.WithSUTCommand(argv))
	}
	examples := f.examples
	if examples == "" {
		if exe, err := os.Executable(); err == nil {
			examples = filepath.Dir(exe)
		}
	}
	if abs, err := filepath.Abs(examples); err == nil {
		examples = abs
	}
	opts = append(opts, harness.WithExamplesDir(examples))

	// Validate every file first: a typo in the third file should not cost
	// the first two runs.
	var scs []*scenario.Scenario
	var problems []string
	for _, p := range paths {
		sc, err := scenario.LoadFile(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		scs = append(scs, sc)
	}
	if len(problems) > 0 {
		return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("invalid scenario:\n%s", strings.Join(problems, "\n"))}
	}

	worst := harness.ExitPass
	for _, sc := range scs {
		if err := cmd.Context().Err(); err != nil {
			return &exitError{code: harness.ExitInterrupted}
		}
		res, err := harness.Run(cmd.Context(), sc, opts...)
		var ue *harness.UsageError
		if errors.As(err, &ue) {
			return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("%s: %w", sc.Source, err)}
		}
		if res == nil {
			return &exitError{code: harness.ExitHarness, err: fmt.Errorf("%s: %w", sc.Source, err)}
		}
		fmt.Fprintln(stdout)
		if werr := reports.Text(stdout, res); werr != nil {
			return &exitError{code: harness.ExitHarness, err: fmt.Errorf("print summary: %w", werr)}
		}
		worst = worse(worst, res.ExitCode())
	}
	if worst != harness.ExitPass {
		return &exitError{code: worst}
	}
	return nil
}

// worse orders exit codes by how much a CI pipeline must care.
func worse(a, b int) int {
	rank := map[int]int{harness.ExitPass: 0, harness.ExitInconclusive: 1, harness.ExitFail: 2,
		harness.ExitInvalid: 3, harness.ExitHarness: 4, harness.ExitInterrupted: 5}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
