package fault

import (
	"context"
	"time"
)

// Timeout drops all data and closes the connection after Timeout. A zero
// Timeout is a blackhole: the connection stays open and silent until the
// fault is reverted, which then closes it. Toxiproxy passes an EOF through
// the toxic, so a downstream blackhole only holds connections the service
// keeps open (HTTP keep-alive, MLLP); against a "Connection: close" client
// use the upstream stream.
type Timeout struct {
	Service   string
	Stream    string
	Timeout   time.Duration
	ToxicName string
}

var _ Fault = Timeout{}

func (f Timeout) Name() string {
	if f.Timeout <= 0 {
		return "blackhole (timeout 0: data dropped, connection held open)" + on(f.Service, f.Stream)
	}
	return "timeout " + f.Timeout.String() + " (data dropped, then closed)" + on(f.Service, f.Stream)
}

func (f Timeout) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:       toxicName(f.ToxicName, "timeout", f.Stream),
		Type:       "timeout",
		Stream:     f.Stream,
		Attributes: map[string]any{"timeout": millis(f.Timeout)},
	})
}
