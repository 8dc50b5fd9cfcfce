package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
)

// An inbound proxy carries traffic the harness drives INTO the SUT (the
// pathology lab's MLLP connection to the SUT's own listener), so network
// faults can act on it like on any mock's proxy: scenarios name it with
// `service: sut`. The path is
//
//	workload → Toxiproxy proxy (Endpoint.Addr) → counting relay → SUT (upstream)
//
// The relay is a plain TCP forwarder on loopback whose only job is to
// count what Toxiproxy lets through, as the counting listener does in front
// of a mock (Toxiproxy's own per-proxy metrics are only updated when a
// connection ends, too late to prove a fault touched traffic). Counters for
// an inbound proxy report:
//
//   - Connections: connections Toxiproxy forwarded towards the SUT (each
//     counted when the relay accepts it, whether or not the SUT then
//     accepted it; a disabled proxy forwards none);
//   - BytesIn: bytes sent towards the SUT (workload → SUT);
//   - BytesOut: bytes the SUT sent back (SUT → workload);
//   - Requests and Faulted: always 0 (no HTTP, no in-band faults).
type inbound struct {
	name     string
	upstream string
	proxy    *toxiproxy.Proxy
	endpoint Endpoint
	traffic  traffic

	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// inboundDialTimeout bounds the relay's connection to the SUT.
const inboundDialTimeout = 5 * time.Second

// AddInbound puts a proxy called name (for the pathology lab, "sut") in
// front of upstream, the SUT's own address (loopback only), and returns
// where the workload should connect (Endpoint.Addr; Endpoint.Direct is
// upstream). The SUT must not be given this address: it is for the harness
// to connect through. Afterwards Proxy(name) controls it for faults,
// Counters(name) reports what crossed it (see the inbound type), Reset
// clears its toxics and Close stops it. The name must not be a service of
// the stack. AddInbound may be called before the SUT listens: the relay
// dials upstream per connection.
func (s *Stack) AddInbound(ctx context.Context, name, upstream string) (Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: %w", name, err)
	}
	if name == "" {
		return Endpoint{}, errors.New("add inbound proxy: the name is empty")
	}
	if err := CheckLoopback(upstream); err != nil {
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: upstream: %w", name, err)
	}
	s.life.RLock() // Close waits for it, so the proxy cannot outlive the stack
	defer s.life.RUnlock()
	if s.down {
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: %w", name, errClosed)
	}
	s.inMu.Lock()
	defer s.inMu.Unlock()
	if _, dup := s.services[name]; dup {
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: the stack already runs a service called %s", name, name)
	}
	if _, dup := s.inbound[name]; dup {
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: it already exists", name)
	}

	ln, err := listenLoopback()
	if err != nil {
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: relay: %w", name, err)
	}
	in := &inbound{name: name, upstream: upstream, conns: map[net.Conn]struct{}{}}
	in.ln = &countingListener{Listener: ln, t: &in.traffic}
	in.wg.Go(in.serve)

	p := toxiproxy.NewProxy(s.tp, name, "127.0.0.1:0", ln.Addr().String())
	if err := s.tp.Collection.Add(p, true); err != nil {
		in.close()
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: %w", name, err)
	}
	p.Lock()
	addr := p.Listen
	p.Unlock()
	if err := CheckLoopback(addr); err != nil {
		_ = s.tp.Collection.Remove(name)
		in.close()
		return Endpoint{}, fmt.Errorf("add inbound proxy %s: listen: %w", name, err)
	}
	in.proxy = p
	in.endpoint = Endpoint{Service: name, URL: "tcp://" + addr, Addr: addr, Direct: upstream}
	if s.inbound == nil {
		s.inbound = map[string]*inbound{}
	}
	s.inbound[name] = in
	s.log.Debug("inbound proxy added", "name", name, "listen", addr, "upstream", upstream)
	return in.endpoint, nil
}

// Inbound returns the endpoint of the inbound proxy called name.
func (s *Stack) Inbound(name string) (Endpoint, bool) {
	in, ok := s.inboundProxy(name)
	if !ok {
		return Endpoint{}, false
	}
	return in.endpoint, true
}

func (s *Stack) inboundProxy(name string) (*inbound, bool) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	in, ok := s.inbound[name]
	return in, ok
}

// inbounds lists the inbound proxies.
func (s *Stack) inbounds() []*inbound {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	out := make([]*inbound, 0, len(s.inbound))
	for _, in := range s.inbound {
		out = append(out, in)
	}
	return out
}

func (in *inbound) counters() Counters {
	return Counters{
		Connections: in.traffic.conns.Load(),
		BytesIn:     in.traffic.bytesIn.Load(),
		BytesOut:    in.traffic.bytesOut.Load(),
	}
}

func (in *inbound) serve() {
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return
		}
		if !in.track(c) {
			_ = c.Close()
			return
		}
		in.wg.Go(func() { in.relay(c) })
	}
}

// track registers c so close can cut it; false once closed.
func (in *inbound) track(c net.Conn) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return false
	}
	in.conns[c] = struct{}{}
	return true
}

func (in *inbound) untrack(c net.Conn) {
	in.mu.Lock()
	delete(in.conns, c)
	in.mu.Unlock()
	_ = c.Close()
}

// relay forwards c (from Toxiproxy) to the SUT and back, passing half
// closes on, and cutting both sides when either fails.
func (in *inbound) relay(c net.Conn) {
	defer in.untrack(c)
	d := net.Dialer{Timeout: inboundDialTimeout}
	up, err := d.Dial("tcp", in.upstream)
	if err != nil {
		return // the SUT is not listening (down, crashed, starting): the client sees the close
	}
	if !in.track(up) {
		_ = up.Close()
		return
	}
	defer in.untrack(up)
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		_, err := io.Copy(dst, src)
		if err == nil {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
				return
			}
		}
		_ = dst.Close()
		_ = src.Close()
	}
	wg.Go(func() { pipe(up, c) })
	wg.Go(func() { pipe(c, up) })
	wg.Wait()
}

// close stops the relay and cuts every connection through it, and waits.
func (in *inbound) close() {
	in.mu.Lock()
	in.closed = true
	_ = in.ln.Close()
	for c := range in.conns {
		_ = c.Close()
	}
	in.mu.Unlock()
	in.wg.Wait()
}
