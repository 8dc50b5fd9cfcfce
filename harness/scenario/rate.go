package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseRate parses an arrival rate written COUNT/PER: PER is a unit (s, m,
// h, ms) or a Go duration, so "5/s", "300/m", "1/500ms" and "10/1s" are all
// rates. COUNT is a whole number ≥ 0 (whether 0 is acceptable is for the
// validator to say); PER must be positive.
func ParseRate(s string) (Rate, error) {
	count, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q has no unit: write COUNT/PER, e.g. 5/s or 300/m", s)
	}
	count, per = strings.TrimSpace(count), strings.TrimSpace(per)
	n, err := strconv.Atoi(count)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
			return Rate{}, fmt.Errorf("rate %q: count %s is too large", s, count)
		}
		if _, ferr := strconv.ParseFloat(count, 64); ferr == nil {
			return Rate{}, fmt.Errorf("rate %q: count must be a whole number; use a longer period instead, e.g. 3/2s rather than 1.5/s", s)
		}
		return Rate{}, fmt.Errorf("rate %q: count %q is not a whole number", s, count)
	}
	if n < 0 {
		return Rate{}, fmt.Errorf("rate %q: count must not be negative", s)
	}
	if per == "" {
		return Rate{}, fmt.Errorf("rate %q has no period after the slash: write e.g. %s/s", s, count)
	}
	if per[0] >= 'a' && per[0] <= 'z' || per[0] == 0xc2 /* µ */ {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: period %q is not a unit (s, m, h, ms) or a duration such as 500ms", s, per)
	}
	if d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: period must be positive", s)
	}
	return Rate{Count: n, Per: d}, nil
}
