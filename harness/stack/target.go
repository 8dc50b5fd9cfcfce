package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	toxiproxy "github.com/Shopify/toxiproxy/v2"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Proxy returns the control of the Toxiproxy proxy in front of service.
// An inbound proxy (AddInbound) is found by its name too.
func (s *Stack) Proxy(service string) (fault.Proxy, error) {
	if in, ok := s.inboundProxy(service); ok {
		return proxyControl{name: service, p: in.proxy, st: s}, nil
	}
	sv, err := s.service(service)
	if err != nil {
		return nil, err
	}
	if sv.proxy == nil {
		return nil, fmt.Errorf("service %q has no proxy", service)
	}
	return proxyControl{name: service, p: sv.proxy, st: s}, nil
}

// InBand returns the control of service's in-band faults.
func (s *Stack) InBand(service string) (fault.InBand, error) {
	sv, err := s.service(service)
	if err != nil {
		return nil, err
	}
	c := sv.svc.Faults()
	if c == nil {
		return nil, fmt.Errorf("the %s mock has no in-band fault controller", service)
	}
	return inbandControl{name: service, c: c}, nil
}

// proxyControl drives one in-process proxy directly (no HTTP).
type proxyControl struct {
	name string
	p    *toxiproxy.Proxy
	st   *Stack
}

// errClosed is returned when a fault is injected into a closed stack.
var errClosed = errors.New("the stack is closed")

var _ fault.Proxy = proxyControl{}

// AddToxic adds t at toxicity 1.0 whatever t says: the harness decides which
// connections and requests a partial fault hits, never Toxiproxy.
func (c proxyControl) AddToxic(_ context.Context, t fault.Toxic) error {
	c.st.life.RLock()
	defer c.st.life.RUnlock()
	if c.st.down {
		return fmt.Errorf("add toxic %q to proxy %s: %w", t.Name, c.name, errClosed)
	}
	t.Toxicity = 1.0
	if t.Stream == "" {
		t.Stream = "downstream"
	}
	if t.Attributes == nil {
		t.Attributes = map[string]any{}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode toxic %s for proxy %s: %w", t.Name, c.name, err)
	}
	if _, err := c.p.Toxics.AddToxicJson(strings.NewReader(string(b))); err != nil {
		return fmt.Errorf("add %s toxic %q to proxy %s: %w", t.Type, t.Name, c.name, err)
	}
	return nil
}

// RemoveToxic removes the toxic called name. A toxic that is not there
// (already removed, or cleared by Reset) gives an error wrapping
// fault.ErrGone.
func (c proxyControl) RemoveToxic(ctx context.Context, name string) error {
	if ctx == nil {
		ctx = context.Background() // zerolog.Ctx panics on a nil context
	}
	if err := c.p.Toxics.RemoveToxic(ctx, name); err != nil {
		if errors.Is(err, toxiproxy.ErrToxicNotFound) {
			return fmt.Errorf("remove toxic %q from proxy %s: %w", name, c.name, fault.ErrGone)
		}
		return fmt.Errorf("remove toxic %q from proxy %s: %w", name, c.name, err)
	}
	return nil
}

// Disable stops the proxy: its listener closes (connection refused) and
// every open connection through it is closed.
func (c proxyControl) Disable(context.Context) error {
	c.st.life.RLock()
	defer c.st.life.RUnlock()
	if c.st.down {
		return fmt.Errorf("disable proxy %s: %w", c.name, errClosed)
	}
	c.p.Stop()
	return nil
}

// Enable listens again on the proxy's original address. After the stack
// is closed it does nothing: there is nothing left to re-enable.
func (c proxyControl) Enable(context.Context) error {
	c.st.life.RLock()
	defer c.st.life.RUnlock()
	if c.st.down {
		return nil
	}
	if err := startProxy(c.p); err != nil {
		return fmt.Errorf("enable proxy %s: %w", c.name, err)
	}
	return nil
}

// inbandControl adapts a mock's inband.Controller to fault.InBand.
type inbandControl struct {
	name string
	c    *inband.Controller
}

var _ fault.InBand = inbandControl{}

func (c inbandControl) AddFault(_ context.Context, spec inband.Spec) (string, error) {
	id, err := c.c.Add(spec)
	if err != nil {
		return "", fmt.Errorf("%s mock: %w", c.name, err)
	}
	return id, nil
}

func (c inbandControl) RemoveFault(_ context.Context, id string) (inband.Counts, error) {
	n, err := c.c.Remove(id)
	if err != nil {
		return n, fmt.Errorf("%s mock: %w", c.name, err)
	}
	return n, nil
}

// ErrNoSUTProcess is returned by Target.SUT when shakedown did not start
// the SUT.
var ErrNoSUTProcess = errors.New("crash and hang need a SUT started by shakedown (sut.command); this scenario's SUT is given by URL")

// Target is what faults act on in embedded mode: the stack's proxies and
// mocks, and the SUT process when shakedown started it (nil for a SUT
// given by URL). The process field cannot be called SUT: that is the
// fault.Target method.
type Target struct {
	Stack   *Stack
	Process *Process
}

var _ fault.Target = Target{}

// Proxy implements fault.Target.
func (t Target) Proxy(service string) (fault.Proxy, error) {
	if t.Stack == nil {
		return nil, fmt.Errorf("no stack is running, so there is no proxy for %q", service)
	}
	return t.Stack.Proxy(service)
}

// InBand implements fault.Target.
func (t Target) InBand(service string) (fault.InBand, error) {
	if t.Stack == nil {
		return nil, fmt.Errorf("no stack is running, so there is no %q mock", service)
	}
	return t.Stack.InBand(service)
}

// SUT implements fault.Target.
func (t Target) SUT() (fault.Process, error) {
	if t.Process == nil {
		return nil, ErrNoSUTProcess
	}
	return t.Process, nil
}
