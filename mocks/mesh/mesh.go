package mesh

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/serve"
)

// BasePath is where the MESH API lives.
const BasePath = "/messageexchange"

// DefaultSharedKey is the environment shared secret when WithSharedKey is
// not given (the MESH sandbox's docker-compose value).
const DefaultSharedKey = "TestKey"

// DefaultExpiry is how long a delivered message may stay unacknowledged
// before it is removed and the sender gets an undelivered REPORT.
const DefaultExpiry = 5 * 24 * time.Hour

// DefaultWorkflows are registered when WithWorkflows is not given.
var DefaultWorkflows = []string{"TEST_WORKFLOW", "PATH_BS_R4", "PATH_BS_R4_ACK"}

// DeliverFrom is the sender mailbox of messages dropped in with Deliver (a
// pathology lab). It is always registered, with a seeded password.
const DeliverFrom = "X26LAB01"

// Mailbox is a registered mailbox and its password.
type Mailbox struct {
	ID       string `json:"id"`
	Password string `json:"password"`
}

// Option configures a Mock.
type Option func(*Mock)

// WithSeed seeds message ids and the lab mailbox's password.
func WithSeed(seed uint64) Option { return func(m *Mock) { m.seed = seed } }

// WithClock sets the clock for tokens' skew, message ids, delivery delay,
// expiry and journal times.
func WithClock(now func() time.Time) Option {
	return func(m *Mock) {
		if now != nil {
			m.now = now
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(m *Mock) {
		if l != nil {
			m.log = l
		}
	}
}

// WithMailbox registers a mailbox (repeatable). Ids are upper-cased as MESH
// requires. Without any, X26ABC1..X26ABC3 with password "password" (the
// sandbox's canned mailboxes) are registered.
func WithMailbox(id, password string) Option {
	return func(m *Mock) {
		m.configured = append(m.configured, Mailbox{ID: strings.ToUpper(id), Password: password})
	}
}

// WithSharedKey sets the environment shared secret (default DefaultSharedKey).
func WithSharedKey(key string) Option { return func(m *Mock) { m.sharedKey = key } }

// WithWorkflows sets the registered workflow ids (default DefaultWorkflows).
func WithWorkflows(ids ...string) Option {
	return func(m *Mock) { m.workflows = slices.Clone(ids) }
}

// WithDeliveryDelay sets how long after it is accepted a message appears in
// the recipient's inbox (default 0). Real MESH takes 40-120 s.
func WithDeliveryDelay(d time.Duration) Option {
	return func(m *Mock) { m.delay = max(d, 0) }
}

// WithExpiry sets how long a delivered message may stay unacknowledged
// before it is removed and the sender gets a REPORT with code 14 (default
// DefaultExpiry).
func WithExpiry(d time.Duration) Option {
	return func(m *Mock) {
		if d > 0 {
			m.expiry = d
		}
	}
}

// WithGoneAfterAck chooses what downloading an acknowledged message
// answers: true (default) is 410 Gone as the spec describes ("cannot be
// downloaded again"); false is 200 with the message, as the MESH sandbox
// does (INTERFACES §9.5).
func WithGoneAfterAck(gone bool) Option { return func(m *Mock) { m.goneAfterAck = gone } }

// Mock is an in-memory MESH service. Create it with New; it is safe for
// concurrent use.
type Mock struct {
	seed         uint64
	now          func() time.Time
	log          *slog.Logger
	configured   []Mailbox
	sharedKey    string
	workflows    []string
	expiry       time.Duration
	goneAfterAck bool

	journal *journal.Journal
	faults  *inband.Controller
	handler http.Handler

	mu        sync.Mutex
	delay     time.Duration
	mailboxes map[string]Mailbox
	order     []string
	nonces    map[string]time.Time
	messages  map[string]*message
	msgOrder  []*message
	rng       *rand.Rand

	web   serve.Server
	srvMu sync.Mutex
	stop  chan struct{}
	swept chan struct{}
}

// New returns a mock with the given options.
func New(opts ...Option) *Mock {
	m := &Mock{
		now:          time.Now,
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		sharedKey:    DefaultSharedKey,
		workflows:    slices.Clone(DefaultWorkflows),
		expiry:       DefaultExpiry,
		goneAfterAck: true,
	}
	for _, o := range opts {
		o(m)
	}
	if len(m.configured) == 0 {
		for i := 1; i <= 3; i++ {
			m.configured = append(m.configured, Mailbox{ID: fmt.Sprintf("X26ABC%d", i), Password: "password"})
		}
	}
	m.rng = rand.New(rand.NewPCG(m.seed, 0x3e54))
	m.mailboxes = map[string]Mailbox{}
	for _, mb := range m.configured {
		if _, dup := m.mailboxes[mb.ID]; !dup {
			m.order = append(m.order, mb.ID)
		}
		m.mailboxes[mb.ID] = mb
	}
	if _, ok := m.mailboxes[DeliverFrom]; !ok {
		m.mailboxes[DeliverFrom] = Mailbox{ID: DeliverFrom, Password: fmt.Sprintf("lab-%08x", m.rng.Uint32())}
		m.order = append(m.order, DeliverFrom)
	}
	m.nonces = map[string]time.Time{}
	m.messages = map[string]*message{}
	m.journal = journal.New("mesh", m.now)
	m.faults = inband.NewController()
	m.faults.SetTenantFunc(pathMailbox)
	m.handler = m.buildHandler()
	return m
}

// Name is "mesh".
func (m *Mock) Name() string { return "mesh" }

// Handler serves the API under BasePath, wrapped with the in-band fault
// middleware.
func (m *Mock) Handler() http.Handler { return m.handler }

// BasePath is "/messageexchange".
func (m *Mock) BasePath() string { return BasePath }

// Journal returns the journal of effects (service "mesh").
func (m *Mock) Journal() *journal.Journal { return m.journal }

// Faults returns the in-band fault controller. Its tenant is the mailbox id
// in a request's path.
func (m *Mock) Faults() *inband.Controller { return m.faults }

// SharedKey returns the environment shared secret tokens are keyed with.
func (m *Mock) SharedKey() string { return m.sharedKey }

// Mailboxes returns the registered mailboxes in registration order, the lab
// mailbox (DeliverFrom) last unless registered explicitly.
func (m *Mock) Mailboxes() []Mailbox {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Mailbox, 0, len(m.order))
	for _, id := range m.order {
		out = append(out, m.mailboxes[id])
	}
	return out
}

// Workflows returns the registered workflow ids.
func (m *Mock) Workflows() []string { return slices.Clone(m.workflows) }

// SetDeliveryDelay changes the delivery delay for messages accepted from
// now on (a delivery-delay spike); messages already in flight keep theirs.
func (m *Mock) SetDeliveryDelay(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delay = max(d, 0)
}

// DeliveryDelay returns the current delivery delay.
func (m *Mock) DeliveryDelay() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.delay
}

// Deliver drops a message from DeliverFrom into mailbox to, as if a lab had
// sent it: it is accepted now and appears in the inbox after the delivery
// delay. It returns the MESH message id.
func (m *Mock) Deliver(ctx context.Context, to, workflow string, body []byte, localID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	to = strings.ToUpper(to)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.mailboxes[to]; !ok {
		return "", fmt.Errorf("mesh: deliver: unregistered recipient %q", to)
	}
	if !slices.Contains(m.workflows, workflow) {
		return "", fmt.Errorf("mesh: deliver: workflow %q is not registered", workflow)
	}
	msg := m.newMessageLocked(DeliverFrom, to, meta{workflow: workflow, localID: localID}, 1)
	msg.chunks[0] = slices.Clone(body)
	m.completeLocked(msg)
	return msg.id, nil
}

// Sweep delivers messages whose delivery delay has passed and expires
// messages left unacknowledged, by the mock's clock. Every request sweeps
// first and a started mock sweeps every 100 ms; tests with an injected clock
// call it after moving the clock.
func (m *Mock) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
}

// Start serves the mock on l in the background, like httptest.Server, and
// sweeps deliveries and expiries every 100ms. Calling Start on a started
// mock closes l and logs an error.
func (m *Mock) Start(l net.Listener) {
	m.srvMu.Lock()
	defer m.srvMu.Unlock()
	if !m.web.Start(l, m.handler, m.log, "mesh mock") {
		return
	}
	m.stop, m.swept = make(chan struct{}), make(chan struct{})
	stop, swept := m.stop, m.swept
	go func() {
		defer close(swept)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				m.Sweep()
			}
		}
	}()
	m.log.Info("mesh mock listening", "url", m.URL()+BasePath)
}

// URL is "http://"+addr once started, or "". MESH clients append
// BasePath themselves.
func (m *Mock) URL() string {
	if a := m.web.Addr(); a != "" {
		return "http://" + a
	}
	return ""
}

// Addr is the listening address once started, or "".
func (m *Mock) Addr() string { return m.web.Addr() }

// Close stops the sweeper and serving (in-flight requests get
// serve.ShutdownGrace). It is safe to call more than once.
func (m *Mock) Close() error {
	m.srvMu.Lock()
	stop, swept := m.stop, m.swept
	m.stop, m.swept = nil, nil
	m.srvMu.Unlock()
	if stop != nil {
		close(stop)
		<-swept
	}
	if err := m.web.Close(); err != nil {
		return fmt.Errorf("mesh mock: %w", err)
	}
	return nil
}

func (m *Mock) journalRecord(kind string, keys, attrs map[string]string) {
	for k, v := range keys {
		if v == "" {
			delete(keys, k)
		}
	}
	if _, err := m.journal.Record(kind, keys, attrs); err != nil {
		m.log.Error("mesh journal", "kind", kind, "err", err)
	}
}
