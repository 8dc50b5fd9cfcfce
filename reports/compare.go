package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/check"
)

// Labelled is one run in a comparison, with the column heading to show.
type Labelled struct {
	Label  string
	Result *harness.Result
}

// Compare writes the verdict tables of several runs side by side: one row
// per check (in the order they first appear), one column per run.
func Compare(w io.Writer, runs []Labelled) error {
	ew := &errWriter{w: w}
	if len(runs) == 0 {
		return fmt.Errorf("compare: no runs given")
	}
	var names []string
	cells := map[string]map[int]check.Verdict{}
	add := func(i int, vs []check.Verdict) {
		for _, v := range vs {
			if !slices.Contains(names, v.Check) {
				names = append(names, v.Check)
			}
			if cells[v.Check] == nil {
				cells[v.Check] = map[int]check.Verdict{}
			}
			cells[v.Check][i] = v
		}
	}
	for i, r := range runs {
		add(i, r.Result.Verdicts)
	}
	nChecks := len(names)
	for i, r := range runs {
		add(i, r.Result.Validity)
	}
	ew.printf("%s: %s\n\n", runs[0].Result.Scenario, strings.TrimSpace(runs[0].Result.Description))
	tw := tabwriter.NewWriter(ew, 2, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "check")
	for _, r := range runs {
		fmt.Fprintf(tw, "\t%s", r.Label)
	}
	fmt.Fprintf(tw, "\n")
	for i, name := range names {
		if i == nChecks {
			fmt.Fprintf(tw, "(run validity)%s\n", strings.Repeat("\t", len(runs)))
		}
		fmt.Fprintf(tw, "%s", name)
		for j := range runs {
			v, ok := cells[name][j]
			switch {
			case !ok:
				fmt.Fprintf(tw, "\t-")
			default:
				fmt.Fprintf(tw, "\t%s %s", label(v.Status), shortReason(v))
			}
		}
		fmt.Fprintf(tw, "\n")
	}
	fmt.Fprintf(tw, "outcome")
	for _, r := range runs {
		fmt.Fprintf(tw, "\t%s (exit %d)", strings.SplitN(outcome(r.Result), " (", 2)[0], r.Result.ExitCode())
	}
	fmt.Fprintf(tw, "\n")
	ew.err = firstErr(ew.err, tw.Flush())
	ew.printf("\n")
	for _, r := range runs {
		ew.printf("%s: seed %d, %s, run directory %s\n", r.Label, r.Result.Seed, r.Result.SUT, r.Result.Dir)
	}
	return ew.err
}

// shortReason is the first clause of a verdict message, to keep the table
// readable; the full message is in each run's summary.
func shortReason(v check.Verdict) string {
	m := v.Message
	for _, sep := range []string{". ", "; ", " ("} {
		if i := strings.Index(m, sep); i > 0 {
			m = m[:i]
		}
	}
	m = strings.TrimSuffix(m, ".")
	const max = 60
	if len(m) > max {
		m = m[:max-1] + "…"
	}
	return strings.TrimSpace(m)
}
