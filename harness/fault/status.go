package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Status makes the mock answer matching requests with an HTTP error status
// (and Retry-After when RetryAfter > 0) without acting on them.
type Status struct {
	Service    string
	Status     int
	Code       string
	RetryAfter time.Duration
	// Fraction of matching requests to hit (0 = all); chosen from Seed.
	Fraction   float64
	Operations []string
	// ODS restricts the fault to requests for these tenants (empty = all).
	ODS  []string
	Seed uint64
}

var _ Fault = Status{}

func (f Status) Name() string {
	s := fmt.Sprintf("HTTP %d", f.Status)
	if f.Code != "" {
		s += " " + f.Code
	}
	if f.RetryAfter > 0 {
		s += " (Retry-After " + f.RetryAfter.String() + ")"
	}
	return s + " on " + f.Service + ", " + scope(f.Fraction, f.Operations, f.ODS)
}

func (f Status) Inject(ctx context.Context, t Target) (Revert, error) {
	return addInBand(ctx, t, f.Name(), f.Service, inband.Spec{
		Kind:       inband.Status,
		Status:     f.Status,
		Code:       f.Code,
		RetryAfter: f.RetryAfter,
		Fraction:   f.Fraction,
		Operations: f.Operations,
		Tenants:    f.ODS,
		Seed:       f.Seed,
	})
}
