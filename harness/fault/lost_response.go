package fault

import (
	"context"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// LostResponse makes the mock act on matching requests (the write commits
// and is journalled) and then drop the connection without answering: the
// caller cannot tell it succeeded, which is how duplicates are made.
type LostResponse struct {
	Service    string
	Fraction   float64
	Operations []string
	// ODS restricts the fault to requests for these tenants (empty = all).
	ODS  []string
	Seed uint64
}

var _ Fault = LostResponse{}

func (f LostResponse) Name() string {
	return "lost response (committed, answer dropped) on " + f.Service + ", " + scope(f.Fraction, f.Operations, f.ODS)
}

func (f LostResponse) Inject(ctx context.Context, t Target) (Revert, error) {
	return addInBand(ctx, t, f.Name(), f.Service, inband.Spec{
		Kind:       inband.LostResponse,
		Fraction:   f.Fraction,
		Operations: f.Operations,
		Tenants:    f.ODS,
		Seed:       f.Seed,
	})
}
