package fault

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// addInBand activates spec on service's mock and returns the revert that
// removes it.
func addInBand(ctx context.Context, t Target, what, service string, spec inband.Spec) (Revert, error) {
	if service == "" {
		return nil, fmt.Errorf("inject %s: no service given; set the step's service to one of the scenario's services", what)
	}
	ib, err := t.InBand(service)
	if err != nil {
		return nil, fmt.Errorf("inject %s: %w; check that %q is listed in the scenario's services", what, err, service)
	}
	id, err := ib.AddFault(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("inject %s: %w", what, err)
	}
	return once(func(ctx context.Context) error {
		if _, err := ib.RemoveFault(ctx, id); err != nil {
			return fmt.Errorf("revert %s: %w; clear the %s mock's faults (DELETE /faults on its control API)", what, err, service)
		}
		return nil
	}), nil
}

// scope renders which requests an in-band fault hits: "all requests",
// "30% of createReferral requests", "all requests for ODS code Y12345".
func scope(fraction float64, ops, ods []string) string {
	s := "all"
	if fraction > 0 && fraction < 1 {
		s = strconv.FormatFloat(fraction*100, 'f', -1, 64) + "% of"
	}
	if len(ops) > 0 {
		s += " " + strings.Join(ops, ", ")
	}
	s += " requests"
	switch len(ods) {
	case 0:
	case 1:
		s += " for ODS code " + ods[0]
	default:
		s += " for ODS codes " + strings.Join(ods, ", ")
	}
	return s
}
