package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

// Service is a mocked dependency as the stack needs it. The mocks satisfy it
// without importing this package.
type Service interface {
	Name() string
	// Handler is the mock API with its in-band middleware already applied.
	Handler() http.Handler
	// BasePath is the path prefix of the API, e.g. "/referrals/FHIR".
	BasePath() string
	Journal() *journal.Journal
	Faults() *inband.Controller
}

// ServiceConfig is what a factory gets to build one mock.
type ServiceConfig struct {
	// Seed is the run's seed, unchanged; a mock mixes in its own name if it
	// needs a stream of its own.
	Seed   uint64
	Now    func() time.Time
	Logger *slog.Logger
	// Options are the scenario's service_options for this service, as text
	// by option name (nil when it gives none). The scenario validator has
	// checked them against the catalog; a factory still rejects options it
	// does not know, with an error that names them.
	Options map[string]string
}

// ServiceFactory builds one mock. The map is extra environment for the SUT,
// such as the credentials the mock expects.
type ServiceFactory func(cfg ServiceConfig) (Service, map[string]string, error)

// Config describes an embedded stack.
type Config struct {
	// Services to start, by name; each must have a factory.
	Services  []string
	Factories map[string]ServiceFactory
	Seed      uint64
	Logger    *slog.Logger
	// Now is the mocks' clock (default time.Now). It should carry a
	// monotonic reading so journal times can be placed on the run clock.
	Now func() time.Time
	// Options are the scenario's service_options, by service then option
	// name; each factory gets its own service's (ServiceConfig.Options).
	// Options for a service not in Services are an error.
	Options map[string]map[string]string
}

// Endpoint is where one service can be reached.
type Endpoint struct {
	Service string `json:"service"`
	// URL is http://Addr + the service's base path: the proxied address the
	// SUT is given.
	URL string `json:"url"`
	// Addr is the proxy's host:port.
	Addr string `json:"addr"`
	// Direct is the mock's own host:port, for the harness only; the SUT must
	// never be given it.
	Direct string `json:"direct"`
}

// shutdownGrace bounds the graceful part of closing a mock's server.
const shutdownGrace = 2 * time.Second

type service struct {
	name     string
	svc      Service
	srv      *http.Server
	served   chan struct{} // closed when Serve returns
	traffic  traffic
	direct   string
	proxy    *toxiproxy.Proxy
	endpoint Endpoint
}

// Stack is a running embedded stack: mocks behind an in-process Toxiproxy.
type Stack struct {
	log      *slog.Logger
	tp       *toxiproxy.ApiServer
	api      *http.Server
	apiURL   string
	apiDone  chan struct{}
	services map[string]*service
	order    []string
	env      map[string]string

	closeMu  sync.Mutex
	closed   bool
	closeErr error
	// down is set (under life's write lock) once Close stops the proxies;
	// proxy controls hold life's read lock so none can listen again after.
	life sync.RWMutex
	down bool

	// inbound proxies (AddInbound), by name, guarded by inMu.
	inMu    sync.Mutex
	inbound map[string]*inbound
}

// Start starts every service in cfg.Services behind its own proxy. On error
// it stops whatever it had started.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if err := checkServices(cfg); err != nil {
		return nil, err
	}
	s := &Stack{
		log:      log,
		services: make(map[string]*service, len(cfg.Services)),
		env:      map[string]string{},
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if cerr := s.Close(cctx); cerr != nil {
				err = errors.Join(err, fmt.Errorf("clean up the partly started stack: %w", cerr))
			}
		}
	}()

	s.tp = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	if err := s.startAPI(); err != nil {
		return nil, err
	}

	for _, name := range cfg.Services {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("start stack: %w", err)
		}
		scfg := ServiceConfig{Seed: cfg.Seed, Now: now, Logger: log.With("service", name), Options: maps.Clone(cfg.Options[name])}
		if err := s.startService(name, cfg.Factories[name], scfg); err != nil {
			return nil, err
		}
	}
	log.Debug("stack started", "services", s.order, "toxiproxy", s.apiURL)
	return s, nil
}

func checkServices(cfg Config) error {
	var errs []error
	seen := map[string]bool{}
	for _, name := range cfg.Services {
		switch {
		case name == "":
			errs = append(errs, errors.New("a service name is empty"))
		case seen[name]:
			errs = append(errs, fmt.Errorf("service %q is listed twice", name))
		case cfg.Factories[name] == nil:
			errs = append(errs, fmt.Errorf("no mock for service %q (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(cfg.Factories)), ", ")))
		}
		seen[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Options)) {
		if !seen[name] {
			errs = append(errs, fmt.Errorf("options given for service %q, which is not started (services: %s); list it in the scenario's services or remove its service_options",
				name, strings.Join(cfg.Services, ", ")))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("start stack: %w", errors.Join(errs...))
	}
	return nil
}

// startAPI serves the Toxiproxy HTTP API on a loopback port.
func (s *Stack) startAPI() error {
	ln, err := listenLoopback()
	if err != nil {
		return fmt.Errorf("start the Toxiproxy API: %w", err)
	}
	s.api = &http.Server{
		Handler:           s.tp.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	s.apiURL = "http://" + ln.Addr().String()
	s.apiDone = make(chan struct{})
	go func() {
		defer close(s.apiDone)
		if err := s.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("toxiproxy API stopped", "err", err)
		}
	}()
	return nil
}

func (s *Stack) startService(name string, factory ServiceFactory, scfg ServiceConfig) error {
	svc, extra, err := factory(scfg)
	if err != nil {
		return fmt.Errorf("start mock %s: %w", name, err)
	}
	if svc == nil {
		return fmt.Errorf("start mock %s: its factory returned no service", name)
	}
	sv := &service{name: name, svc: svc, served: make(chan struct{})}
	// Register before anything can fail so Close cleans up.
	s.services[name] = sv
	s.order = append(s.order, name)

	ln, err := listenLoopback()
	if err != nil {
		close(sv.served)
		return fmt.Errorf("start mock %s: %w", name, err)
	}
	sv.direct = ln.Addr().String()
	sv.srv = &http.Server{
		Handler:           countRequests(&sv.traffic, svc.Handler()),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(scfg.Logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(sv.served)
		if err := sv.srv.Serve(&countingListener{Listener: ln, t: &sv.traffic}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			scfg.Logger.Error("mock server stopped", "err", err)
		}
	}()

	if err := CheckLoopback(sv.direct); err != nil {
		return fmt.Errorf("proxy for %s: upstream: %w", name, err)
	}
	p := toxiproxy.NewProxy(s.tp, name, "127.0.0.1:0", sv.direct)
	if err := s.tp.Collection.Add(p, true); err != nil {
		return fmt.Errorf("start proxy for %s: %w", name, err)
	}
	sv.proxy = p
	p.Lock()
	addr := p.Listen
	p.Unlock()
	if err := CheckLoopback(addr); err != nil {
		return fmt.Errorf("proxy for %s: listen: %w", name, err)
	}
	sv.endpoint = Endpoint{Service: name, URL: "http://" + addr + svc.BasePath(), Addr: addr, Direct: sv.direct}

	key := EnvName(name)
	for k, v := range map[string]string{key + "_URL": sv.endpoint.URL, key + "_ADDR": addr} {
		if _, dup := s.env[k]; dup {
			return fmt.Errorf("start mock %s: environment variable %s is set twice (two services with the same upper-cased name?)", name, k)
		}
		s.env[k] = v
	}
	for k, v := range extra {
		if _, dup := s.env[k]; dup {
			return fmt.Errorf("start mock %s: its environment variable %s is already set by another service", name, k)
		}
		s.env[k] = v
	}
	return nil
}

func listenLoopback() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	if err := CheckLoopback(ln.Addr().String()); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

// EnvName turns a service name into the stem of its SUT environment
// variables: "ers" → "SHAKEDOWN_ERS", "gp-connect" → "SHAKEDOWN_GP_CONNECT".
func EnvName(service string) string {
	var b strings.Builder
	b.WriteString("SHAKEDOWN_")
	for _, r := range strings.ToUpper(service) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Services lists the services in start order.
func (s *Stack) Services() []string { return slices.Clone(s.order) }

// Service returns the running mock called name, for the harness to reach
// past the proxy (for example to build the CDS Hooks host from the clinical
// system's mock). The SUT must never be given a mock's direct address.
func (s *Stack) Service(name string) (Service, bool) {
	sv, ok := s.services[name]
	if !ok {
		return nil, false
	}
	return sv.svc, true
}

// Endpoints returns every service's endpoint by service name.
func (s *Stack) Endpoints() map[string]Endpoint {
	out := make(map[string]Endpoint, len(s.services))
	for name, sv := range s.services {
		out[name] = sv.endpoint
	}
	return out
}

// ToxiproxyURL is the base URL of the Toxiproxy HTTP API (loopback only).
func (s *Stack) ToxiproxyURL() string { return s.apiURL }

// Env is the environment the SUT gets from the stack: SHAKEDOWN_<SVC>_URL
// and SHAKEDOWN_<SVC>_ADDR (proxied) for every service, plus the variables
// the mocks' factories asked for.
func (s *Stack) Env() map[string]string { return maps.Clone(s.env) }

// Journals returns every mock's journal, in start order.
func (s *Stack) Journals() []*journal.Journal {
	out := make([]*journal.Journal, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.services[name].svc.Journal())
	}
	return out
}

// Counters returns what has crossed service's mock so far; the zero value
// for a service the stack does not run.
func (s *Stack) Counters(service string) Counters {
	sv, ok := s.services[service]
	if !ok {
		if in, ok := s.inboundProxy(service); ok {
			return in.counters()
		}
		return Counters{}
	}
	c := Counters{
		Connections: sv.traffic.conns.Load(),
		BytesIn:     sv.traffic.bytesIn.Load(),
		BytesOut:    sv.traffic.bytesOut.Load(),
		Requests:    sv.traffic.requests.Load(),
	}
	if f := sv.svc.Faults(); f != nil {
		c.Faulted = f.Total().Faulted
	}
	return c
}

func (s *Stack) service(name string) (*service, error) {
	sv, ok := s.services[name]
	if !ok {
		return nil, fmt.Errorf("service %q is not part of this stack (running: %s)", name, strings.Join(s.order, ", "))
	}
	return sv, nil
}

// Reset removes every toxic, enables every proxy and clears every in-band
// fault. It leaves the mocks' state and journals alone. After Close it
// returns an error.
func (s *Stack) Reset(ctx context.Context) error {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.down {
		return errors.New("reset stack: it is closed")
	}
	return s.reset(ctx)
}

func (s *Stack) reset(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var errs []error
	for _, name := range s.order {
		sv := s.services[name]
		if sv.proxy != nil {
			sv.proxy.Toxics.ResetToxics(ctx)
			if err := startProxy(sv.proxy); err != nil {
				errs = append(errs, fmt.Errorf("re-enable proxy %s: %w", name, err))
			}
		}
		if f := sv.svc.Faults(); f != nil {
			f.Clear()
		}
	}
	for _, in := range s.inbounds() {
		in.proxy.Toxics.ResetToxics(ctx)
		if err := startProxy(in.proxy); err != nil {
			errs = append(errs, fmt.Errorf("re-enable inbound proxy %s: %w", in.name, err))
		}
	}
	return errors.Join(errs...)
}

// startProxy enables p on its resolved address unless it is enabled.
func startProxy(p *toxiproxy.Proxy) error {
	p.Lock()
	enabled, addr := p.Enabled, p.Listen
	p.Unlock()
	if enabled {
		return nil
	}
	if err := p.Start(); err != nil && !errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
		return fmt.Errorf("listen again on %s: %w", addr, err)
	}
	return nil
}

// Close resets every fault, stops the proxies, the Toxiproxy API and the
// mocks. It is idempotent; later calls return the first call's result.
func (s *Stack) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	if ctx == nil {
		ctx = context.Background()
	}
	var errs []error
	if s.tp != nil {
		if err := s.reset(ctx); err != nil {
			errs = append(errs, err)
		}
		s.life.Lock()
		s.down = true
		if err := s.tp.Collection.Clear(); err != nil {
			errs = append(errs, fmt.Errorf("stop proxies: %w", err))
		}
		s.life.Unlock()
		for _, in := range s.inbounds() {
			in.close()
		}
	}
	if s.api != nil {
		if err := shutdown(ctx, s.api, s.apiDone); err != nil {
			errs = append(errs, fmt.Errorf("stop the Toxiproxy API: %w", err))
		}
	}
	for _, name := range slices.Backward(s.order) {
		sv := s.services[name]
		if sv.srv == nil {
			continue
		}
		if err := shutdown(ctx, sv.srv, sv.served); err != nil {
			errs = append(errs, fmt.Errorf("stop mock %s: %w", name, err))
		}
	}
	s.closeErr = errors.Join(errs...)
	return s.closeErr
}

// shutdown stops srv gracefully within shutdownGrace (or ctx), then
// forcibly, and waits for Serve to return.
func shutdown(ctx context.Context, srv *http.Server, served <-chan struct{}) error {
	sctx, cancel := context.WithTimeout(ctx, shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Hung handlers (a blackholed or paused client): cut them off.
		err = nil
		if cerr := srv.Close(); cerr != nil {
			err = cerr
		}
	}
	select {
	case <-served:
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("wait for the server to stop: %w", ctx.Err()))
	}
	return err
}
