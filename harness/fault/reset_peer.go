package fault

import (
	"context"
	"time"
)

// ResetPeer resets the connection (TCP RST) Timeout after the first data
// arrives. Only connections opened after the fault was injected get an RST;
// connections already open are closed gracefully (a Toxiproxy limitation).
type ResetPeer struct {
	Service   string
	Stream    string
	Timeout   time.Duration
	ToxicName string
}

var _ Fault = ResetPeer{}

func (f ResetPeer) Name() string {
	if f.Timeout <= 0 {
		return "reset peer (TCP RST on first data)" + on(f.Service, f.Stream)
	}
	return "reset peer (TCP RST " + f.Timeout.String() + " after first data)" + on(f.Service, f.Stream)
}

func (f ResetPeer) Inject(ctx context.Context, t Target) (Revert, error) {
	return addToxic(ctx, t, f.Name(), f.Service, Toxic{
		Name:       toxicName(f.ToxicName, "reset_peer", f.Stream),
		Type:       "reset_peer",
		Stream:     f.Stream,
		Attributes: map[string]any{"timeout": millis(f.Timeout)},
	})
}
