package check

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Helpers that put figures into the plain words reviewers read.

// human formats a duration for a reader: "350ms", "2.5s", "75s", "2m15s".
// Under two minutes it stays in seconds, so "1m" is never misread.
func human(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
	case d < 2*time.Minute:
		s = strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + "s"
	default:
		d = d.Round(time.Second)
		m, sec := d/time.Minute, (d%time.Minute)/time.Second
		if sec == 0 {
			s = fmt.Sprintf("%dm", m)
		} else {
			s = fmt.Sprintf("%dm%02ds", m, sec)
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// percent formats a fraction as a percentage with one decimal.
func percent(f float64) string {
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

// plural picks the singular or plural noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listed joins up to limit items ("a, b, c and 4 more").
func listed(items []string, limit int) string {
	if len(items) <= limit {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:limit], ", "), len(items)-limit)
}

// capped returns at most MaxEvidence operations.
func capped(ops []record.Operation) []record.Operation {
	if len(ops) <= MaxEvidence {
		return ops
	}
	return ops[:MaxEvidence:MaxEvidence]
}
