package fault

import (
	"context"
	"fmt"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Malformed makes the mock do the work and then break its answer: invalid
// JSON (cut off half-way), wrong types (valid JSON whose values are not the
// declared types) or oversized (padded past Bytes, or the mock's default).
// It is what a real host receives from a misbehaving integration, and what
// an integration receives from a misbehaving clinical system.
type Malformed struct {
	Service string
	// Malform is inband.MalformInvalidJSON, MalformWrongTypes or
	// MalformOversized.
	Malform string
	// Bytes is the size an oversized answer exceeds (0 = the mock's
	// default, inband.DefaultOversizedBytes).
	Bytes int
	// Field aims wrong-types or oversized at one JSON key (empty: anywhere).
	Field string
	// Fraction of matching requests to hit (0 = all); chosen from Seed.
	Fraction   float64
	Operations []string
	// ODS restricts the fault to requests for these tenants (empty = all).
	ODS  []string
	Seed uint64
}

var _ Fault = Malformed{}

func (f Malformed) Name() string {
	what := f.Malform
	switch f.Malform {
	case inband.MalformInvalidJSON:
		what = "invalid JSON"
	case inband.MalformWrongTypes:
		what = "wrong types"
	case inband.MalformOversized:
		bytes := f.Bytes
		if bytes <= 0 {
			bytes = inband.DefaultOversizedBytes
		}
		what = fmt.Sprintf("oversized, over %d B", bytes)
	}
	if f.Field != "" {
		what += ` in every "` + f.Field + `"`
	}
	return "malformed answers (" + what + ") on " + f.Service + ", " + scope(f.Fraction, f.Operations, f.ODS)
}

func (f Malformed) Inject(ctx context.Context, t Target) (Revert, error) {
	return addInBand(ctx, t, f.Name(), f.Service, inband.Spec{
		Kind:       inband.Malformed,
		Malform:    f.Malform,
		Bytes:      f.Bytes,
		Field:      f.Field,
		Fraction:   f.Fraction,
		Operations: f.Operations,
		Tenants:    f.ODS,
		Seed:       f.Seed,
	})
}
