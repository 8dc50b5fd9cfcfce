package fault

import (
	"context"
	"errors"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Revert undoes an injected fault. It must be safe to call once, after any
// outcome of the run, and must not depend on the injecting context.
type Revert func(ctx context.Context) error

// ErrGone is wrapped by Proxy.RemoveToxic when the toxic is no longer there
// (for example the stack was reset). A revert treats it as done.
var ErrGone = errors.New("already gone")

// Fault is one fault kind with its parameters bound.
type Fault interface {
	// Name says in words what the fault does ("latency 8s±1s on ers downstream").
	Name() string
	// Inject applies the fault to t and returns how to undo it.
	Inject(ctx context.Context, t Target) (Revert, error)
}

// Toxic is a Toxiproxy toxic as the JSON API takes it.
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// Proxy controls the Toxiproxy proxy in front of one service.
type Proxy interface {
	AddToxic(ctx context.Context, t Toxic) error
	RemoveToxic(ctx context.Context, name string) error
	// Disable closes the listener and every connection (connection refused).
	Disable(ctx context.Context) error
	// Enable listens again on the same address.
	Enable(ctx context.Context) error
}

// Process controls the SUT process.
type Process interface {
	// Kill sends SIGKILL and records the exit as expected.
	Kill(ctx context.Context) error
	// Restart starts the SUT again and waits for its health probe.
	Restart(ctx context.Context) error
	// Pause sends SIGSTOP; Resume sends SIGCONT.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

// InBand controls a mock's protocol-level faults.
type InBand interface {
	AddFault(ctx context.Context, spec inband.Spec) (id string, err error)
	RemoveFault(ctx context.Context, id string) (inband.Counts, error)
}

// Target is what faults act on. Implementations return a descriptive error
// when the requested control does not exist (for example crash against a
// SUT given by URL).
type Target interface {
	Proxy(service string) (Proxy, error)
	SUT() (Process, error)
	InBand(service string) (InBand, error)
}
