package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/check"
)

// Text writes the human summary of one run.
func Text(w io.Writer, r *harness.Result) error {
	ew := &errWriter{w: w}
	ew.printf("shakedown: %s   seed %d   %s mode   %s\n", r.Scenario, r.Seed, r.Mode, r.Wall.Round(100*time.Millisecond))
	if r.Description != "" {
		ew.printf("  %s\n", strings.TrimSpace(r.Description))
	}
	ew.printf("  SUT: %s\n", r.SUT)
	ew.printf("  run directory: %s\n", r.Dir)

	if len(r.Load) > 0 {
		ew.printf("\nLoad\n")
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		for _, l := range r.Load {
			fmt.Fprintf(tw, "  %s\t%d of %d planned arrivals at %.3g/s over %s\t%d dropped\tpeak %d in flight\n",
				l.Workload, l.Issued, l.Planned, l.Rate, l.Duration.Round(100*time.Millisecond), l.Dropped, l.MaxInFlight)
		}
		ew.err = firstErr(ew.err, tw.Flush())
	}

	if len(r.Faults) > 0 {
		ew.printf("\nFault timeline (times from the start of load)\n")
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  #\twindow\tfault\ttouched traffic\n")
		for _, f := range r.Faults {
			touched := "no"
			if f.Touched {
				touched = "yes"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s: %s\n", f.Index, window(f.Injected-r.LoadStart, f.Reverted-r.LoadStart, f.Reverted != 0),
				f.Name, touched, evidenceLine(f.Evidence.Operations, f.Evidence.Affected, f.Evidence.Requests, f.Evidence.Faulted, f.Evidence.Connections))
		}
		ew.err = firstErr(ew.err, tw.Flush())
	}

	if len(r.Phases) > 0 {
		ew.printf("\nTraffic by phase (latency from the intended send time)\n")
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "phase\tops\tok\tfail\tunknown\terrors\tp50\tp95\tp99\tmax\t\n")
		for _, p := range r.Phases {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f%%\t%s\t%s\t%s\t%s\t\n", p.Phase, p.Count, p.OK, p.Fail, p.Unknown,
				100*p.ErrorRate, ms(p.P50), ms(p.P95), ms(p.P99), ms(p.Max))
		}
		ew.err = firstErr(ew.err, tw.Flush())
	}

	if n := unexpectedExits(r); n > 0 {
		ew.printf("\nThe SUT exited unexpectedly %d time(s); see sut.stderr.log in the run directory.\n", n)
	}

	ew.printf("\nVerdicts\n")
	verdictLines(ew, r.Verdicts)
	ew.printf("\nRun validity\n")
	verdictLines(ew, r.Validity)
	if r.HarnessError != "" {
		ew.printf("\nHarness error: %s\n", r.HarnessError)
	}
	ew.printf("\nResult: %s (exit %d)\n", outcome(r), r.ExitCode())
	return ew.err
}

func verdictLines(ew *errWriter, vs []check.Verdict) {
	if len(vs) == 0 {
		ew.printf("  (none)\n")
	}
	for _, v := range vs {
		ew.printf("  %-5s %s: %s\n", label(v.Status), v.Check, v.Message)
		for i, d := range v.Details {
			if i == 5 {
				ew.printf("          … %d more in result.json\n", len(v.Details)-5)
				break
			}
			ew.printf("          %s\n", d)
		}
	}
}

func outcome(r *harness.Result) string {
	switch {
	case r.Interrupted:
		return "INTERRUPTED"
	case r.HarnessError != "":
		return "HARNESS ERROR"
	case r.ExpectMet != nil && *r.ExpectMet:
		s := fmt.Sprintf("AS EXPECTED (%s failed, as declared with --expect-fail", strings.Join(r.ExpectFail, ", "))
		if extra := extraFailures(r); len(extra) > 0 {
			s += "; also failed: " + strings.Join(extra, ", ")
		}
		return s + ")"
	case r.ExpectMet != nil:
		return fmt.Sprintf("NOT AS EXPECTED (expected %s to fail; failed: %s)", strings.Join(r.ExpectFail, ", "), orNone(r.Failed()))
	}
	return strings.ToUpper(string(r.Status))
}

// extraFailures are failed checks beyond those declared with --expect-fail.
func extraFailures(r *harness.Result) []string {
	var out []string
	for _, f := range r.Failed() {
		if !slices.Contains(r.ExpectFail, f) {
			out = append(out, f)
		}
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func label(s check.Status) string {
	switch s {
	case check.Pass:
		return "PASS"
	case check.Fail:
		return "FAIL"
	}
	return "INCON"
}

func unexpectedExits(r *harness.Result) int {
	n := 0
	for _, e := range r.SUTEvents {
		if e.Kind == "exited" && !e.Expected {
			n++
		}
	}
	return n
}

func window(from, to time.Duration, closed bool) string {
	if !closed {
		return fmt.Sprintf("%.1fs–(not reverted)", from.Seconds())
	}
	return fmt.Sprintf("%.1fs–%.1fs", from.Seconds(), to.Seconds())
}

func evidenceLine(ops, affected, requests, faulted, conns int64) string {
	parts := []string{fmt.Sprintf("%d ops in flight, %d affected", ops, affected)}
	if requests > 0 || conns > 0 {
		parts = append(parts, fmt.Sprintf("%d requests/%d connections reached the mock", requests, conns))
	}
	if faulted > 0 {
		parts = append(parts, fmt.Sprintf("%d faulted in-band", faulted))
	}
	return strings.Join(parts, "; ")
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
