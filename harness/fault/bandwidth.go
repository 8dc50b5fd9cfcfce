package fault

import (
	"context"
	"strconv"
)

// Bandwidth limits the connection to RateKBps kilobytes per second.
type Bandwidth struct {
	Service   string
	Stream    string
	RateKBps  int64
	ToxicName string
}

var _ Fault = Bandwidth{}

func (f Bandwidth) Name() string {
	return "bandwidth " + strconv.FormatInt(f.RateKBps, 10) + " KB/s" + on(f.Service, f.Stream)
}

func (f Bandwidth) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:       toxicName(f.ToxicName, "bandwidth", f.Stream),
		Type:       "bandwidth",
		Stream:     f.Stream,
		Attributes: map[string]any{"rate": f.RateKBps},
	})
}
