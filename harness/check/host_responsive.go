package check

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// HostResponsive checks the clinician's screen in the clinical system while
// the integration answered its CDS Hooks calls: the TPP iRefer incident was
// an imaging decision-support service freezing SystmOne practice computers
// mid-order.
//
// It reads the host's view (record.HostView) of every operation that has one
// and fails when any action kept the screen blocked longer than MaxBlock,
// when more than MaxFreezes hook calls overran the host's UI budget, or when
// more than MaxUnsafe answers were ones a real host could crash on (invalid
// JSON, wrong types, oversized payloads). It is inconclusive when no
// operation went through the host.
type HostResponsive struct {
	MaxBlock   time.Duration
	MaxFreezes int
	MaxUnsafe  int
}

// Name is the check's scenario name.
func (HostResponsive) Name() string { return NameHostResponsive }

// Evaluate judges the run.
func (c HostResponsive) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	actions := hostActions(in.Operations)
	if len(actions) == 0 {
		v.Status = Inconclusive
		v.Message = "No action went through the clinical system's CDS Hooks host, so whether the integration blocked the clinician's screen cannot be judged (the order-imaging workload records these actions)."
		return v
	}
	one, many := actionNouns(actions)
	noun := func(n int) string { return plural(n, one, many) }

	blocks := make([]time.Duration, 0, len(actions))
	var over []record.Operation
	freezes, unsafe := 0, 0
	var unsafeLines []string
	for _, op := range actions {
		blocks = append(blocks, op.Host.Blocked)
		if op.Host.Blocked > c.MaxBlock {
			over = append(over, op)
		}
		freezes += op.Host.Freezes
		unsafe += len(op.Host.Unsafe)
		unsafeLines = append(unsafeLines, op.Host.Unsafe...)
	}
	slices.Sort(blocks)
	worst, p50, p95 := blocks[len(blocks)-1], percentile(blocks, 50), percentile(blocks, 95)
	kinds := unsafeKinds(unsafeLines)

	v.Details = append(v.Details,
		fmt.Sprintf("Screen blocked per %s, over %d %s: p50 %s, p95 %s, worst %s (limit %s); percentiles are nearest-rank.",
			one, len(actions), noun(len(actions)), human(p50), human(p95), human(worst), human(c.MaxBlock)),
		hookTally(actions))
	if freezes > 0 {
		v.Details = append(v.Details, fmt.Sprintf("%d hook %s overran the host's UI budget%s and froze the screen.",
			freezes, plural(freezes, "call", "calls"), budgetWords(actions)))
	}
	for i, line := range distinct(unsafeLines) {
		if i == 5 {
			v.Details = append(v.Details, fmt.Sprintf("… and %d more kinds of unsafe answer.", len(distinct(unsafeLines))-5))
			break
		}
		v.Details = append(v.Details, "Unsafe answer: "+line+".")
	}

	var reasons []string
	if len(over) > 0 {
		reasons = append(reasons, fmt.Sprintf("%d of %d %s blocked the clinician's screen for longer than %s (worst %s, p95 %s)",
			len(over), len(actions), noun(len(actions)), human(c.MaxBlock), human(worst), human(p95)))
	}
	if freezes > c.MaxFreezes {
		reasons = append(reasons, fmt.Sprintf("%d hook %s overran the UI budget and froze the screen (at most %d allowed)",
			freezes, plural(freezes, "call", "calls"), c.MaxFreezes))
	}
	if unsafe > c.MaxUnsafe {
		reasons = append(reasons, fmt.Sprintf("the integration sent %d %s a real clinical system could crash on (%s; at most %d allowed)",
			unsafe, plural(unsafe, "answer", "answers"), kinds, c.MaxUnsafe))
	}

	if len(reasons) == 0 {
		v.Status = Pass
		freezeWords := "no hook call froze it"
		if freezes > 0 {
			freezeWords = fmt.Sprintf("%d hook %s froze it, within the %d allowed", freezes, plural(freezes, "call", "calls"), c.MaxFreezes)
		}
		unsafeWords := "no answer a real clinical system could crash on"
		if unsafe > 0 {
			unsafeWords = fmt.Sprintf("%d unsafe %s (%s), within the %d allowed", unsafe, plural(unsafe, "answer", "answers"), kinds, c.MaxUnsafe)
		}
		v.Message = fmt.Sprintf("Over %d %s the clinician's screen was never blocked longer than %s (worst %s, p95 %s); %s; %s.",
			len(actions), noun(len(actions)), human(c.MaxBlock), human(worst), human(p95), freezeWords, unsafeWords)
		return v
	}

	v.Status = Fail
	v.Message = "The clinician's screen was not kept responsive: " + strings.Join(reasons, "; ") + "."
	v.Evidence = c.offending(actions, freezes > c.MaxFreezes, unsafe > c.MaxUnsafe)
	for i, op := range v.Evidence {
		if i == 5 {
			break
		}
		v.Details = append(v.Details, describeAction(op, one))
	}
	return v
}

// offending returns the actions behind the failure, worst block first:
// those over the block limit, and those with freezes or unsafe answers when
// those limits were exceeded.
func (c HostResponsive) offending(actions []record.Operation, freezes, unsafe bool) []record.Operation {
	var out []record.Operation
	for _, op := range actions {
		if op.Host.Blocked > c.MaxBlock || (freezes && op.Host.Freezes > 0) || (unsafe && len(op.Host.Unsafe) > 0) {
			out = append(out, op)
		}
	}
	slices.SortStableFunc(out, func(a, b record.Operation) int { return cmp.Compare(b.Host.Blocked, a.Host.Blocked) })
	return capped(out)
}

// hostActions are the operations that went through the clinical host.
func hostActions(ops []record.Operation) []record.Operation {
	var out []record.Operation
	for _, op := range ops {
		if op.Host != nil {
			out = append(out, op)
		}
	}
	return out
}

// actionNouns names the actions for a reader: "order"/"orders" when every
// one is an order, "action"/"actions" otherwise.
func actionNouns(ops []record.Operation) (one, many string) {
	for _, op := range ops {
		if op.Action != actionOrder {
			return "action", "actions"
		}
	}
	return "order", "orders"
}

// actionOrder is the Action of an order placed through the clinical host.
const actionOrder = "order"

// Hook call outcomes, as the host reports them (record.HookCall.Outcome).
var hookOutcomes = []struct{ outcome, words string }{
	{"cards", "answered with cards"},
	{"no-cards", "answered with no cards"},
	{"error", "failed"},
	{"timeout", "timed out"},
	{"refused", "were refused"},
	{"unsafe", "answered unsafely"},
}

// hookTally counts the hook calls by outcome, in words.
func hookTally(actions []record.Operation) string {
	counts := map[string]int{}
	total := 0
	for _, op := range actions {
		for _, h := range op.Host.Hooks {
			counts[h.Outcome]++
			total++
		}
	}
	if total == 0 {
		return "No individual hook calls were recorded."
	}
	var parts []string
	for _, o := range hookOutcomes {
		if n := counts[o.outcome]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o.words))
			delete(counts, o.outcome)
		}
	}
	for _, other := range slices.Sorted(maps.Keys(counts)) {
		label := other
		if label == "" {
			label = "with no outcome recorded"
		}
		parts = append(parts, fmt.Sprintf("%d %s", counts[other], label))
	}
	return fmt.Sprintf("%d hook %s: %s.", total, plural(total, "call", "calls"), strings.Join(parts, ", "))
}

// budgetWords names the UI budget the hook calls ran under, when they agree.
func budgetWords(actions []record.Operation) string {
	var budget time.Duration
	for _, op := range actions {
		for _, h := range op.Host.Hooks {
			switch {
			case h.Budget <= 0:
			case budget == 0:
				budget = h.Budget
			case h.Budget != budget:
				return ""
			}
		}
	}
	if budget == 0 {
		return ""
	}
	return " of " + human(budget)
}

// unsafeKind is the kind of an unsafe answer: its description up to the
// first detail (":", " (" or ";").
func unsafeKind(line string) string {
	kind := line
	for _, sep := range []string{":", " (", ";"} {
		if i := strings.Index(kind, sep); i >= 0 {
			kind = kind[:i]
		}
	}
	if kind = strings.TrimSpace(kind); kind == "" {
		return "unspecified"
	}
	return kind
}

// unsafeKinds counts unsafe answers by kind: "2 invalid JSON, 1 oversized".
func unsafeKinds(lines []string) string {
	counts := map[string]int{}
	var order []string
	for _, l := range lines {
		k := unsafeKind(l)
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(counts[b], counts[a]) })
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return listed(parts, 4)
}

// describeAction puts one action's hook calls in words for a reviewer.
func describeAction(op record.Operation, noun string) string {
	var hooks []string
	for _, h := range op.Host.Hooks {
		s := fmt.Sprintf("%s %s (%s", h.Hook, human(h.Blocked), cmp.Or(h.Outcome, "no outcome"))
		if h.Freeze {
			s += ", froze the screen"
		}
		hooks = append(hooks, s+")")
	}
	who := ""
	if nhs := op.Key(record.KeyNHSNumber); nhs != "" {
		who = " for NHS number " + nhs
	}
	s := fmt.Sprintf("%s%s%s at %s: screen blocked %s", capitalise(noun), idWords(op), who, human(op.Intended), human(op.Host.Blocked))
	if len(hooks) > 0 {
		s += " — " + strings.Join(hooks, ", ")
	}
	if len(op.Host.Unsafe) > 0 {
		s += "; unsafe: " + strings.Join(op.Host.Unsafe, "; ")
	}
	return s + "."
}

// keyOrderID is the correlation key of an order placed through the host.
const keyOrderID = "order_id"

func idWords(op record.Operation) string {
	if id := op.Key(keyOrderID); id != "" {
		return " " + id
	}
	return ""
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// distinct returns the distinct strings of items, in first-seen order.
func distinct(items []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
