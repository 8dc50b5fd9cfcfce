package fault

import (
	"context"
	"fmt"
	"time"
)

// Crash kills the SUT with SIGKILL (its whole process group). With
// RestartAfter > 0 the revert restarts it and waits for its health probe;
// the engine calls the revert at At+RestartAfter. Without it, the SUT stays
// down and the revert does nothing (the Name says so).
type Crash struct {
	RestartAfter time.Duration
}

var _ Fault = Crash{}

func (f Crash) Name() string {
	if f.RestartAfter > 0 {
		return "crash SUT (SIGKILL), restart after " + f.RestartAfter.String()
	}
	return "crash SUT (SIGKILL), not restarted"
}

func (f Crash) Inject(ctx context.Context, t Target) (Revert, error) {
	p, err := t.SUT()
	if err != nil {
		return nil, fmt.Errorf("inject %s: %w", f.Name(), err)
	}
	if err := p.Kill(ctx); err != nil {
		return nil, fmt.Errorf("inject %s: %w; was it already crashed by an earlier step without a restart?", f.Name(), err)
	}
	if f.RestartAfter <= 0 {
		// Nothing to undo: the scenario asked for the SUT to stay down.
		return func(context.Context) error { return nil }, nil
	}
	return once(func(ctx context.Context) error {
		if err := p.Restart(ctx); err != nil {
			return fmt.Errorf("revert %s: restart: %w", f.Name(), err)
		}
		return nil
	}), nil
}
