package fault

import (
	"context"
	"time"
)

// Latency delays every chunk of data by Latency ± Jitter.
type Latency struct {
	Service string
	Stream  string // Upstream or Downstream ("" = Downstream)
	Latency time.Duration
	Jitter  time.Duration
	// ToxicName must be unique on the proxy ("" = "sd-latency-<stream>").
	ToxicName string
}

var _ Fault = Latency{}

func (f Latency) Name() string {
	s := "latency " + f.Latency.String()
	if f.Jitter > 0 {
		s += " ±" + f.Jitter.String()
	}
	return s + on(f.Service, f.Stream)
}

func (f Latency) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:       toxicName(f.ToxicName, "latency", f.Stream),
		Type:       "latency",
		Stream:     f.Stream,
		Attributes: map[string]any{"latency": millis(f.Latency), "jitter": millis(f.Jitter)},
	})
}
