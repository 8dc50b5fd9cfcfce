package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a scenario: where, what, and what to do.
type Problem struct {
	// Pos is the offending node (zero for a scenario built in code).
	Pos Pos `json:"pos"`
	// Path names the offending field, e.g. "timeline[2].latency"; "" for the
	// whole file.
	Path string `json:"path,omitempty"`
	Msg  string `json:"msg"`
	Hint string `json:"hint,omitempty"`
}

func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Pos.Line > 0:
		if p.Pos.File != "" {
			b.WriteString(p.Pos.File + ":")
		}
		b.WriteString(strconv.Itoa(p.Pos.Line))
		if p.Pos.Col > 0 { // the YAML parser's syntax errors give lines only
			b.WriteString(":" + strconv.Itoa(p.Pos.Col))
		}
		b.WriteString(": ")
	case p.Pos.File != "":
		b.WriteString(p.Pos.File + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(p.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Problems is every problem found in a scenario, sorted by position. Parse,
// Load and Validate return it as *Problems; use errors.As to get it back.
type Problems []Problem

// Error is one line per problem: "file:line:col: path: msg (hint: ...)".
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
}

// asError returns nil for no problems and a sorted *Problems otherwise.
func (ps Problems) asError() error {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone(ps)
	out.sort()
	return &out
}

// didYouMean suggests the candidates closest to word, or "" if none is
// close enough to be a plausible typo.
func didYouMean(word string, candidates []string) string {
	best, bestDist := []string(nil), -1
	limit := max(2, len(word)/3)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if d > limit {
			continue
		}
		switch {
		case bestDist < 0 || d < bestDist:
			best, bestDist = []string{c}, d
		case d == bestDist:
			best = append(best, c)
		}
	}
	if len(best) == 0 {
		return ""
	}
	return "did you mean " + orList(best) + "?"
}

// orList renders ["a","b","c"] as `a, b or c`.
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// unknownHint is "did you mean x? <what>: a, b, c". The suggestion is drawn
// from candidates; listed is what the hint enumerates (often a narrower set,
// such as the keys one fault kind takes).
func unknownHint(word string, candidates []string, what string, listed []string) string {
	list := fmt.Sprintf("%s: %s", what, strings.Join(listed, ", "))
	if len(listed) == 0 {
		list = what + " nothing"
	}
	if s := didYouMean(word, candidates); s != "" {
		return s + " " + list
	}
	return list
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
