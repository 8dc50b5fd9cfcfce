package fault

import (
	"context"
	"fmt"
)

// Hang freezes the SUT with SIGSTOP (its whole process group): it keeps its
// sockets but answers nothing. Revert sends SIGCONT.
type Hang struct{}

var _ Fault = Hang{}

func (Hang) Name() string { return "hang SUT (SIGSTOP until the window ends)" }

func (f Hang) Inject(ctx context.Context, t Target) (Revert, error) {
	p, err := t.SUT()
	if err != nil {
		return nil, fmt.Errorf("inject %s: %w", f.Name(), err)
	}
	if err := p.Pause(ctx); err != nil {
		return nil, fmt.Errorf("inject %s: %w; is the SUT still running?", f.Name(), err)
	}
	return once(func(ctx context.Context) error {
		if err := p.Resume(ctx); err != nil {
			return fmt.Errorf("revert %s: %w; the SUT may still be frozen: send SIGCONT to its process group", f.Name(), err)
		}
		return nil
	}), nil
}
