package fault

import (
	"context"
	"strconv"
)

// LimitData closes each connection after Bytes bytes have passed.
type LimitData struct {
	Service   string
	Stream    string
	Bytes     int64
	ToxicName string
}

var _ Fault = LimitData{}

func (f LimitData) Name() string {
	return "limit data to " + strconv.FormatInt(f.Bytes, 10) + " B per connection" + on(f.Service, f.Stream)
}

func (f LimitData) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:       toxicName(f.ToxicName, "limit_data", f.Stream),
		Type:       "limit_data",
		Stream:     f.Stream,
		Attributes: map[string]any{"bytes": f.Bytes},
	})
}
