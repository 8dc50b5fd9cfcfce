package fault

import (
	"context"
	"fmt"
	"time"
)

// Slicer fragments data into writes of about AverageSize ± SizeVariation
// bytes, Delay apart. The data arrives intact, only in small pieces.
type Slicer struct {
	Service       string
	Stream        string
	AverageSize   int64
	SizeVariation int64
	Delay         time.Duration
	ToxicName     string
}

var _ Fault = Slicer{}

func (f Slicer) Name() string {
	s := fmt.Sprintf("slicer %d", f.AverageSize)
	if f.SizeVariation > 0 {
		s += fmt.Sprintf("±%d", f.SizeVariation)
	}
	s += " B"
	if f.Delay > 0 {
		s += " every " + f.Delay.String()
	}
	return s + on(f.Service, f.Stream)
}

func (f Slicer) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:   toxicName(f.ToxicName, "slicer", f.Stream),
		Type:   "slicer",
		Stream: f.Stream,
		Attributes: map[string]any{
			"average_size":   f.AverageSize,
			"size_variation": f.SizeVariation,
			"delay":          micros(f.Delay), // slicer's delay is in µs
		},
	})
}
