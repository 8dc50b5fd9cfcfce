package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// Replay re-evaluates the checks of a finished run from its run directory
// alone — scenario.yaml, operations.jsonl, journals/, faults.json and
// result.json — without starting anything. A failing CI run thus becomes a
// regression fixture for the checks. The directory is not modified.
func Replay(dir string, opts ...Option) (*Result, error) {
	cfg := defaults()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, &UsageError{Err: err}
		}
	}
	prev, err := ReadResult(dir)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	sc, err := scenario.LoadFile(filepath.Join(dir, "scenario.yaml"))
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("replay %s: %w", dir, err)}
	}
	ops, err := readOperations(filepath.Join(dir, "operations.jsonl"))
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	var faults []record.FaultWindow
	if err := readJSON(filepath.Join(dir, "faults.json"), &faults); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, &UsageError{Err: err}
	}
	in := &check.Input{
		Operations: ops,
		Faults:     faults,
		SUT:        prev.SUTEvents,
		Load:       prev.Load,
		LoadEnd:    prev.LoadEnd,
		End:        prev.End,
	}
	files, err := filepath.Glob(filepath.Join(dir, "journals", "*.jsonl"))
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("list journals of %s: %w", dir, err)}
	}
	for _, f := range files {
		effects, err := readEffects(f)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		in.Effects = append(in.Effects, effects...)
	}
	sort.SliceStable(in.Effects, func(a, b int) bool { return in.Effects[a].At < in.Effects[b].At })

	res := *prev
	res.Verdicts, res.Validity, res.ExpectMet = nil, nil, nil
	res.ExpectFail = cfg.expectFail
	for _, spec := range sc.Checks {
		c, err := check.FromSpec(spec)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("check %s at %s: %w", spec.Name, spec.Pos, err)}
		}
		res.Verdicts = append(res.Verdicts, c.Evaluate(in))
	}
	res.Validity = validity(in.Load, in.Faults, cfg.minLoad)
	res.Phases = phaseSummaries(in)
	res.Status = overall(res.Verdicts, res.Validity)
	if res.Interrupted || res.HarnessError != "" {
		res.Status = check.Inconclusive
	}
	if len(cfg.expectFail) > 0 && res.HarnessError == "" && !res.Interrupted {
		res.ExpectMet = expectationMet(&res, cfg.expectFail)
	}
	return &res, nil
}

// ReadResult loads result.json from a finished run directory.
func ReadResult(dir string) (*Result, error) {
	var r Result
	if err := readJSON(filepath.Join(dir, "result.json"), &r); err != nil {
		return nil, fmt.Errorf("read result of run %s: %w (is it a shakedown run directory?)", dir, err)
	}
	return &r, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

func readOperations(path string) ([]record.Operation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	ops, err := record.ReadOperations(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ops, nil
}

func readEffects(path string) ([]record.Effect, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	var out []record.Effect
	dec := json.NewDecoder(f)
	for dec.More() {
		var e record.Effect
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("parse %s entry %d: %w", path, len(out)+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}
