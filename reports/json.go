package reports

import (
	"encoding/json"
	"fmt"
	"io"

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

// ReadResult loads result.json from a run directory (harness.ReadResult).
func ReadResult(dir string) (*harness.Result, error) { return harness.ReadResult(dir) }
