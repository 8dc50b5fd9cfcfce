package check

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// OrderingContinues checks that clinicians could keep ordering whatever the
// integration did: decision support is advice, so when the CDS service
// fails the order must still be signed, without it. An order is lost when
// the integration answered with something a real clinical system could
// crash on (the iRefer incident), or when it kept the clinician waiting
// until they gave up.
//
// It judges the operations whose Action is "order". An order's fate is its
// host view's Signed (for an order with no host view, an OK outcome). It
// fails when any order was not signed; it passes otherwise, saying how many
// orders went ahead without decision support because the CDS service failed
// (HostView.CDSFailed), which is what the check exists to show. It is
// inconclusive when no order was placed.
type OrderingContinues struct{}

// Name is the check's scenario name.
func (OrderingContinues) Name() string { return NameOrderingContinues }

// Why an order was not signed.
const (
	lostUnsafe = "unsafe"
	lostGaveUp = "gave-up"
	lostOther  = "other"
)

// Evaluate judges the run.
func (c OrderingContinues) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	var orders []record.Operation
	for _, op := range in.Operations {
		if op.Action == actionOrder {
			orders = append(orders, op)
		}
	}
	if len(orders) == 0 {
		v.Status = Inconclusive
		v.Message = "No orders were placed through the clinical system, so whether clinicians could keep ordering cannot be judged (the order-imaging workload places them)."
		return v
	}

	signed, withoutCDS := 0, 0
	lost := map[string][]record.Operation{}
	var unsafeLines []string
	var waits []time.Duration
	for _, op := range orders {
		if orderSigned(op) {
			signed++
			if op.Host != nil && op.Host.CDSFailed {
				withoutCDS++
			}
			continue
		}
		why := lostReason(op)
		lost[why] = append(lost[why], op)
		switch why {
		case lostUnsafe:
			unsafeLines = append(unsafeLines, op.Host.Unsafe...)
		case lostGaveUp:
			waits = append(waits, op.Latency())
		}
		v.Evidence = append(v.Evidence, op)
	}
	v.Evidence = capped(v.Evidence)

	without := "every one of them with decision support available"
	if withoutCDS > 0 {
		without = fmt.Sprintf("%d of them (%s) without decision support because the CDS service failed (an error, a timeout or an unusable answer)",
			withoutCDS, percent(float64(withoutCDS)/float64(max(signed, 1))))
	}
	unsigned := len(orders) - signed
	if unsigned == 0 {
		v.Status = Pass
		if withoutCDS > 0 {
			v.Message = fmt.Sprintf("All %d %s signed, %s: ordering carried on without it, as it must.",
				len(orders), plural(len(orders), "order was", "orders were"), without)
		} else {
			v.Message = fmt.Sprintf("All %d %s signed, %s.", len(orders), plural(len(orders), "order was", "orders were"), without)
		}
		return v
	}

	var reasons []string
	if n := len(lost[lostUnsafe]); n > 0 {
		reasons = append(reasons, fmt.Sprintf("%d lost because the integration sent an answer a real clinical system could crash on (%s)",
			n, unsafeKinds(unsafeLines)))
	}
	if n := len(lost[lostGaveUp]); n > 0 {
		reasons = append(reasons, fmt.Sprintf("%d because the clinician gave up waiting (after %s)", n, waitWords(waits)))
	}
	if n := len(lost[lostOther]); n > 0 {
		reasons = append(reasons, fmt.Sprintf("%d for another reason (%s)", n, errorWords(lost[lostOther])))
	}
	v.Status = Fail
	v.Message = fmt.Sprintf("%d of %d %s not signed: %s.", unsigned, len(orders),
		plural(len(orders), "order was", "orders were"), strings.Join(reasons, "; "))
	if signed > 0 {
		v.Message += fmt.Sprintf(" Of the %d signed, %s.", signed, without)
	}
	for i, op := range v.Evidence {
		if i == 10 {
			v.Details = append(v.Details, fmt.Sprintf("… and %d more orders not signed.", unsigned-10))
			break
		}
		v.Details = append(v.Details, describeUnsigned(op))
	}
	return v
}

// orderSigned is whether the order went through to signing.
func orderSigned(op record.Operation) bool {
	if op.Host != nil {
		return op.Host.Signed
	}
	return op.Outcome == record.OK
}

// lostReason says why an unsigned order was lost.
func lostReason(op record.Operation) string {
	switch {
	case op.Host == nil:
		return lostOther
	case len(op.Host.Unsafe) > 0:
		return lostUnsafe
	}
	return lostGaveUp
}

// waitWords describes how long clinicians waited before giving up.
func waitWords(waits []time.Duration) string {
	if len(waits) == 1 {
		return human(waits[0])
	}
	shortest, longest := waits[0], waits[0]
	for _, w := range waits {
		shortest, longest = min(shortest, w), max(longest, w)
	}
	if shortest.Round(100*time.Millisecond) == longest.Round(100*time.Millisecond) {
		return human(shortest) + " each"
	}
	return fmt.Sprintf("%s to %s", human(shortest), human(longest))
}

// errorWords lists the distinct errors of ops.
func errorWords(ops []record.Operation) string {
	var errs []string
	for _, op := range ops {
		errs = append(errs, cmp.Or(op.Error, fmt.Sprintf("outcome %s", op.Outcome)))
	}
	return listed(distinct(errs), 3)
}

// describeUnsigned puts one unsigned order in words.
func describeUnsigned(op record.Operation) string {
	who := ""
	if nhs := op.Key(record.KeyNHSNumber); nhs != "" {
		who = " for NHS number " + nhs
	}
	s := fmt.Sprintf("Order%s%s at %s was not signed: ", idWords(op), who, human(op.Intended))
	switch lostReason(op) {
	case lostUnsafe:
		s += "the integration answered " + strings.Join(op.Host.Unsafe, "; ") + ", which a real clinical system could crash on, losing the order"
	case lostGaveUp:
		s += fmt.Sprintf("the clinician gave up after waiting %s", human(op.Latency()))
		if op.Host.Blocked > 0 {
			s += fmt.Sprintf(" (screen blocked %s by the integration)", human(op.Host.Blocked))
		}
	default:
		s += cmp.Or(op.Error, fmt.Sprintf("outcome %s", op.Outcome))
	}
	return s + "."
}
