// Package reports owns the renderers of a run's result: the text summary
// printed at the end of a run, the side-by-side comparison of several runs
// of one scenario (for example a naive and a resilient integration), JUnit
// XML for suppliers' CI (one testcase per check, the verdict message as the
// failure text) and JSON. Every renderer is func(io.Writer, ...) error and
// has a golden file in testdata/ (go test ./reports -update rewrites them).
package reports
