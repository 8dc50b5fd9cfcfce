package fault

import (
	"context"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Delay makes the mock hold matching requests for Delay before doing the
// work: a slow clinical system, not a slow network. Unlike a latency toxic
// it can be aimed at single operations and tenants (ODS codes), so one
// practice's structured record can be slow while everything else is quick.
type Delay struct {
	Service string
	Delay   time.Duration
	// Fraction of matching requests to hit (0 = all); chosen from Seed.
	Fraction   float64
	Operations []string
	// ODS restricts the fault to requests for these tenants (empty = all).
	ODS  []string
	Seed uint64
}

var _ Fault = Delay{}

func (f Delay) Name() string {
	return "delay " + f.Delay.String() + " on " + f.Service + ", " + scope(f.Fraction, f.Operations, f.ODS)
}

func (f Delay) Inject(ctx context.Context, t Target) (Revert, error) {
	return addInBand(ctx, t, f.Name(), f.Service, inband.Spec{
		Kind:       inband.Delay,
		Delay:      f.Delay,
		Fraction:   f.Fraction,
		Operations: f.Operations,
		Tenants:    f.ODS,
		Seed:       f.Seed,
	})
}
