package fault

import (
	"context"
	"time"
)

// SlowClose delays closing the connection by Delay after the other side
// closed it.
type SlowClose struct {
	Service   string
	Stream    string
	Delay     time.Duration
	ToxicName string
}

var _ Fault = SlowClose{}

func (f SlowClose) Name() string {
	return "slow close " + f.Delay.String() + on(f.Service, f.Stream)
}

func (f SlowClose) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:       toxicName(f.ToxicName, "slow_close", f.Stream),
		Type:       "slow_close",
		Stream:     f.Stream,
		Attributes: map[string]any{"delay": millis(f.Delay)},
	})
}
