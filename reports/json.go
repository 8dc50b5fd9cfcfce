package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shakedown-harness/shakedown/harness"
)

// JSON writes the result as indented JSON (the format of result.json).
func JSON(w io.Writer, r *harness.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	return nil
}

// ReadResult loads result.json from a run directory.
func ReadResult(dir string) (*harness.Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return nil, fmt.Errorf("read result of run %s: %w (is it a shakedown run directory?)", dir, err)
	}
	var r harness.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "result.json"), err)
	}
	return &r, nil
}
