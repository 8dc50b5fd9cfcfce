package fault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Streams a toxic can act on.
const (
	// Upstream is client → server: what the SUT sends to the service.
	Upstream = "upstream"
	// Downstream is server → client: what the service answers (the default).
	Downstream = "downstream"
)

// streamOr returns s, or Downstream when s is empty.
func streamOr(s string) string {
	if s == "" {
		return Downstream
	}
	return s
}

// millis converts d to whole milliseconds for Toxiproxy, rounding up so a
// positive duration never becomes 0 (which means "never" for timeout).
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// micros converts d to whole microseconds, rounding up.
func micros(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Microsecond - 1) / time.Microsecond)
}

// toxicName is the default name of a toxic a fault adds.
func toxicName(name, typ, stream string) string {
	if name != "" {
		return name
	}
	return "sd-" + typ + "-" + streamOr(stream)
}

// addToxic applies toxic to service's proxy and returns the revert that
// removes it. what is the fault's Name, for messages.
func addToxic(ctx context.Context, t Target, what, service string, toxic Toxic) (Revert, error) {
	if service == "" {
		return nil, fmt.Errorf("inject %s: no service given; set the step's service to one of the scenario's services", what)
	}
	p, err := t.Proxy(service)
	if err != nil {
		return nil, fmt.Errorf("inject %s: %w; check that %q is listed in the scenario's services", what, err, service)
	}
	toxic.Toxicity = 1.0
	toxic.Stream = streamOr(toxic.Stream)
	if err := p.AddToxic(ctx, toxic); err != nil {
		return nil, fmt.Errorf("inject %s: %w; if a toxic called %q is left from an earlier step, reset the stack (POST /reset on the Toxiproxy API)", what, err, toxic.Name)
	}
	return once(func(ctx context.Context) error {
		err := p.RemoveToxic(ctx, toxic.Name)
		if err == nil || errors.Is(err, ErrGone) {
			return nil
		}
		return fmt.Errorf("revert %s: %w; the toxic may still be applied: remove %q from proxy %q with toxiproxy-cli or reset the stack", what, err, toxic.Name, service)
	}), nil
}

// once makes a revert act only the first time it is called (later calls
// return the first result), and gives it a context when called with nil.
func once(r Revert) Revert {
	var (
		o   sync.Once
		err error
	)
	return func(ctx context.Context) error {
		o.Do(func() {
			if ctx == nil {
				ctx = context.Background()
			}
			err = r(ctx)
		})
		return err
	}
}

// on renders " on SERVICE (STREAM)".
func on(service, stream string) string {
	return fmt.Sprintf(" on %s (%s)", service, streamOr(stream))
}
