package fault

import (
	"context"
	"fmt"
)

// Down disables the service's proxy: new connections are refused and open
// ones are closed. Revert listens again on the same address.
type Down struct {
	Service string
}

var _ Fault = Down{}

func (f Down) Name() string {
	return f.Service + " down (proxy disabled: connections refused)"
}

func (f Down) Inject(ctx context.Context, t Target) (Revert, error) {
	if f.Service == "" {
		return nil, fmt.Errorf("inject %s: no service given; set the step's service to one of the scenario's services", f.Name())
	}
	p, err := t.Proxy(f.Service)
	if err != nil {
		return nil, fmt.Errorf("inject %s: %w; check that %q is listed in the scenario's services", f.Name(), err, f.Service)
	}
	if err := p.Disable(ctx); err != nil {
		return nil, fmt.Errorf("inject %s: %w", f.Name(), err)
	}
	return once(func(ctx context.Context) error {
		if err := p.Enable(ctx); err != nil {
			return fmt.Errorf("revert %s: %w; %s stays unreachable: reset the stack or re-enable proxy %q with toxiproxy-cli", f.Name(), err, f.Service, f.Service)
		}
		return nil
	}), nil
}
