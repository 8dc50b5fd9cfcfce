package ers

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/serve"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// BasePath is where the e-RS FHIR API lives on the mock, as on the real
// service (https://api.service.nhs.uk/referrals/FHIR). Paths are
// BasePath+"/STU3/..." and BasePath+"/R4/...".
const BasePath = "/referrals/FHIR"

// Default credentials.
const (
	DefaultToken            = "shakedown-ers-token"
	DefaultBusinessFunction = BFReferringClinician
	DefaultUserID           = "021600556514"
)

// Journal keys, matching harness/record's well-known names.
const (
	keyNHSNumber     = "nhs_number"
	keyUBRN          = "ubrn"
	keyCorrelationID = "correlation_id"
	keyRequestID     = "request_id"
)

// Credentials is what a system under test must send: the bearer token, the
// ODS code of its organisation and the e-RS business function it acts as, for
// the user UserID (an SDS user id).
type Credentials struct {
	Token, ODSCode, BusinessFunction, UserID string
}

// Role is the set of business functions the user holds at one organisation,
// as A030 reports it.
type Role struct {
	ODSCode           string
	BusinessFunctions []string
}

// Stats counts what the mock has served.
type Stats struct {
	// Requests is every request that reached the mock, faulted or not.
	Requests int64
	// ByOperation counts requests per operation name ("createReferral",
	// "readReferral", "fetchWorklist", "cancelReferral", "practitionerRole",
	// ...); requests for anything else are counted under "other".
	ByOperation map[string]int64
	// ReferralsCreated and ReferralsCancelled count committed effects.
	ReferralsCreated   int64
	ReferralsCancelled int64
	// Faulted counts requests an in-band fault hit.
	Faulted int64
}

// Option configures a Mock.
type Option func(*Mock)

// WithSeed seeds UBRN allocation, request ids and the default ODS codes.
func WithSeed(seed uint64) Option { return func(m *Mock) { m.seed = seed } }

// WithClock sets the clock used for journal times and resource timestamps.
func WithClock(now func() time.Time) Option {
	return func(m *Mock) {
		if now != nil {
			m.now = now
		}
	}
}

// WithCredentials sets the credentials a client must present. Empty fields
// keep their defaults.
func WithCredentials(c Credentials) Option { return func(m *Mock) { m.creds = c } }

// WithRoles replaces the roles the user holds. By default the user holds
// Credentials.BusinessFunction at Credentials.ODSCode, and
// SERVICE_PROVIDER_CLINICIAN and SERVICE_PROVIDER_ADMIN at ProviderODS (the
// synthetic provider of every service), like the two-organisation example of
// A030.
func WithRoles(roles ...Role) Option {
	return func(m *Mock) { m.roles = slices.Clone(roles) }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(m *Mock) {
		if l != nil {
			m.log = l
		}
	}
}

// Mock is an in-memory e-RS. Create it with New; it is safe for concurrent
// use.
type Mock struct {
	seed        uint64
	now         func() time.Time
	creds       Credentials
	roles       []Role
	providerODS string
	log         *slog.Logger

	journal *journal.Journal
	faults  *inband.Controller
	handler http.Handler

	mu        sync.Mutex
	referrals map[string]*record
	order     []string
	ubrnRNG   *rand.Rand
	idRNG     *rand.Rand
	nextAppt  int
	stats     Stats

	web serve.Server
}

// New returns a mock with the given options.
func New(opts ...Option) *Mock {
	m := &Mock{now: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(m)
	}
	if m.creds.Token == "" {
		m.creds.Token = DefaultToken
	}
	if m.creds.ODSCode == "" {
		m.creds.ODSCode = synthetic.PracticeODS(m.seed)
	}
	if m.creds.BusinessFunction == "" {
		m.creds.BusinessFunction = DefaultBusinessFunction
	}
	if m.creds.UserID == "" {
		m.creds.UserID = DefaultUserID
	}
	m.providerODS = providerODS(m.seed, m.creds.ODSCode)
	if m.roles == nil {
		m.roles = []Role{
			{ODSCode: m.creds.ODSCode, BusinessFunctions: []string{m.creds.BusinessFunction}},
			{ODSCode: m.providerODS, BusinessFunctions: []string{BFServiceProviderClinician, BFServiceProviderAdmin}},
		}
	}
	m.journal = journal.New("ers", m.now)
	m.faults = inband.NewController()
	m.referrals = map[string]*record{}
	m.ubrnRNG = rand.New(rand.NewPCG(m.seed, 0xe55))
	m.idRNG = rand.New(rand.NewPCG(m.seed, 0x1d5))
	m.nextAppt = 70000
	m.stats.ByOperation = map[string]int64{}
	m.handler = m.buildHandler()
	return m
}

// providerODS picks the synthetic provider organisation's ODS code: another
// seeded Y-code, distinct from the practice's.
func providerODS(seed uint64, practice string) string {
	for i := uint64(1); ; i++ {
		if c := synthetic.PracticeODS(seed ^ (0x9e3779b97f4a7c15 * i)); c != practice {
			return c
		}
	}
}

// Name is "ers".
func (m *Mock) Name() string { return "ers" }

// Handler serves the whole API (under BasePath), wrapped with the in-band
// fault middleware.
func (m *Mock) Handler() http.Handler { return m.handler }

// BasePath returns BasePath.
func (m *Mock) BasePath() string { return BasePath }

// Journal returns the journal of effects.
func (m *Mock) Journal() *journal.Journal { return m.journal }

// Faults returns the in-band fault controller.
func (m *Mock) Faults() *inband.Controller { return m.faults }

// Credentials returns the credentials a client must present.
func (m *Mock) Credentials() Credentials { return m.creds }

// Roles returns the roles the user holds (what A030 reports).
func (m *Mock) Roles() []Role {
	out := make([]Role, len(m.roles))
	for i, r := range m.roles {
		out[i] = Role{ODSCode: r.ODSCode, BusinessFunctions: slices.Clone(r.BusinessFunctions)}
	}
	return out
}

// ProviderODS is the ODS code of the synthetic organisation that provides
// every service in this mock.
func (m *Mock) ProviderODS() string { return m.providerODS }

// Stats returns a snapshot of the counters.
func (m *Mock) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.ByOperation = make(map[string]int64, len(m.stats.ByOperation))
	for k, v := range m.stats.ByOperation {
		s.ByOperation[k] = v
	}
	s.Faulted = m.faults.Total().Faulted
	return s
}

// Start serves the mock on l in the background, like httptest.Server.
// Calling Start on a started mock closes l and logs an error.
func (m *Mock) Start(l net.Listener) {
	if m.web.Start(l, m.handler, m.log, "ers mock") {
		m.log.Info("ers mock listening", "url", m.URL())
	}
}

// URL is "http://"+addr+BasePath once started, or "".
func (m *Mock) URL() string {
	if a := m.web.Addr(); a != "" {
		return "http://" + a + BasePath
	}
	return ""
}

// Addr is the listening address once started, or "".
func (m *Mock) Addr() string { return m.web.Addr() }

// Close stops serving (in-flight requests get serve.ShutdownGrace). It is
// safe to call more than once.
func (m *Mock) Close() error {
	if err := m.web.Close(); err != nil {
		return fmt.Errorf("ers mock: %w", err)
	}
	return nil
}

// SetState changes a referral's state as something outside the system under
// test would (the provider rejecting it, deferring it for lack of slots, the
// patient's appointment being cancelled, ...), bumping its version. It lets a
// scenario make worklists non-empty and make a client's If-Match stale.
// Setting CANCELLED_REFERRAL records a cancellation by the provider. It
// returns the new version.
func (m *Mock) SetState(ubrn, state, reason string) (int, error) {
	if _, ok := stateDisplay[state]; !ok {
		return 0, fmt.Errorf("ers: set state of %s: unknown state %q", ubrn, state)
	}
	m.mu.Lock()
	rec, ok := m.referrals[ubrn]
	if !ok {
		m.mu.Unlock()
		return 0, fmt.Errorf("ers: set state of %s: no such referral", ubrn)
	}
	next := rec.current().clone()
	next.State, next.StateReason, next.StateComment = state, reason, ""
	next.Updated = m.now()
	if state == StateCancelledReferral {
		next.Status = "cancelled"
		next.CancelledBy = m.providerODS
		m.stats.ReferralsCancelled++
	}
	rec.push(next)
	m.mu.Unlock()

	kind := "referral.updated"
	if state == StateCancelledReferral {
		kind = "referral.cancelled"
	}
	m.record(kind, map[string]string{keyUBRN: ubrn, keyNHSNumber: next.NHSNumber},
		map[string]string{"state": state, "reason": reason, "version": fmt.Sprint(next.Version), "by": "control"})
	return next.Version, nil
}

func (m *Mock) record(kind string, keys, attrs map[string]string) {
	for k, v := range keys {
		if v == "" {
			delete(keys, k)
		}
	}
	if _, err := m.journal.Record(kind, keys, attrs); err != nil {
		m.log.Error("ers journal", "kind", kind, "err", err)
	}
}
