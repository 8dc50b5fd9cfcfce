package gpconnect

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/serve"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// JWKSPath is where the mock serves the CDS Hooks host's public key set,
// outside BasePath (a CDS service fetches it to check the host's signed
// JWTs). It answers 404 until WithHostKey or SetHostKey gives it a key set.
const JWKSPath = "/cds-hooks/jwks.json"

// FHIRVersion is the FHIR version GP Connect speaks.
const FHIRVersion = "3.0.1"

// DefaultPatients is how many synthetic patients have records by default.
const DefaultPatients = 50

// Journal keys, matching harness/record's well-known names where they exist.
const (
	keyNHSNumber     = "nhs_number"
	keyAppointmentID = "appointment_id"
	keyCorrelationID = "correlation_id"
)

// Credentials is what a consumer sends: Ssp-To is ProviderASID, Ssp-From is
// ConsumerASID, and the JWT's requesting_organization carries ConsumerODS.
// ODSCode is the practice the mock plays, which names its base path.
type Credentials struct {
	ODSCode, ProviderASID, ConsumerASID, ConsumerODS string
}

// Option configures a Mock.
type Option func(*Mock)

// WithSeed seeds the practice, its patients, their records, ASIDs and ids.
func WithSeed(seed uint64) Option { return func(m *Mock) { m.seed = seed } }

// WithClock sets the clock for journal times, record dates (records are
// generated as they stand when the mock is created), slots and versions.
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

// WithPatients sets how many synthetic patients have records (default
// DefaultPatients; values below 1 keep the default).
func WithPatients(n int) Option {
	return func(m *Mock) {
		if n > 0 {
			m.nPatients = n
		}
	}
}

// WithLargeRecords makes a seeded fraction (0..1) of patients have
// structured records of about size bytes (the whole record: every clinical
// area with prescription issues), grown with many plausible entries: more
// investigation reports with their results and more issues of repeat
// medication. Default: none.
func WithLargeRecords(fraction float64, bytes int) Option {
	return func(m *Mock) {
		if fraction > 0 && bytes > 0 {
			m.largeFraction, m.largeBytes = min(fraction, 1), bytes
		}
	}
}

// WithHostKey sets the CDS Hooks host's public JWKS served at JWKSPath.
func WithHostKey(jwks []byte) Option {
	return func(m *Mock) { m.hostKey = slices.Clone(jwks) }
}

// Mock is an in-memory GP Connect provider (FHIR STU3) for one practice.
// Create it with New; it is safe for concurrent use.
type Mock struct {
	seed          uint64
	now           func() time.Time
	log           *slog.Logger
	nPatients     int
	largeFraction float64
	largeBytes    int

	creds   Credentials
	asOf    time.Time
	journal *journal.Journal
	faults  *inband.Controller
	handler http.Handler
	practice
	endpoints []endpoint
	patients  []synthetic.Patient
	byNHS     map[string]int
	large     map[int]bool

	recMu   sync.Mutex
	records map[int]*recordEntry

	mu        sync.Mutex
	slots     []*slot
	slotByID  map[string]*slot
	appts     map[string]*appointment
	apptOrder []string
	nextAppt  int
	idRNG     *rand.Rand

	keyMu   sync.RWMutex
	hostKey []byte

	web serve.Server
}

// recordEntry is a patient's record, generated once.
type recordEntry struct {
	once sync.Once
	rec  synthetic.ClinicalRecord
}

// New returns a mock with the given options.
func New(opts ...Option) *Mock {
	m := &Mock{now: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil)), nPatients: DefaultPatients}
	for _, o := range opts {
		o(m)
	}
	m.asOf = m.now()
	rng := rand.New(rand.NewPCG(m.seed, 0x69c))
	m.creds = Credentials{
		ODSCode:      synthetic.PracticeODS(m.seed),
		ProviderASID: asid(rng),
		ConsumerASID: asid(rng),
	}
	m.creds.ConsumerODS = otherODS(m.seed, m.creds.ODSCode)
	m.practice = newPractice(m.seed, m.creds.ODSCode)
	gen := synthetic.NewPatients(m.seed, m.creds.ODSCode)
	m.byNHS = map[string]int{}
	m.large = map[int]bool{}
	largeRNG := rand.New(rand.NewPCG(m.seed, 0x1a7e))
	for i := range m.nPatients {
		p := gen.Next()
		m.patients = append(m.patients, p)
		m.byNHS[p.NHSNumber] = i
		if m.largeFraction > 0 && largeRNG.Float64() < m.largeFraction {
			m.large[i] = true
		}
	}
	m.records = map[int]*recordEntry{}
	m.journal = journal.New("gpconnect", m.now)
	m.faults = inband.NewController()
	m.faults.SetTenantFunc(tenantOf)
	m.idRNG = rand.New(rand.NewPCG(m.seed, 0x1d5))
	m.appts = map[string]*appointment{}
	m.nextAppt = 1000
	m.buildSlots()
	m.handler = m.buildHandler()
	return m
}

// asid returns a 12-digit Spine ASID.
func asid(rng *rand.Rand) string {
	return "9" + fmt.Sprintf("%011d", rng.Int64N(100_000_000_000))
}

// otherODS picks a seeded ODS code distinct from practice.
func otherODS(seed uint64, practice string) string {
	for i := uint64(1); ; i++ {
		if c := synthetic.PracticeODS(seed ^ (0x9e3779b97f4a7c15 * i)); c != practice {
			return c
		}
	}
}

// Name is "gpconnect".
func (m *Mock) Name() string { return "gpconnect" }

// Handler serves the whole API (BasePath and JWKSPath), wrapped with the
// in-band fault middleware.
func (m *Mock) Handler() http.Handler { return m.handler }

// BasePath is "/" + ODS code + "/STU3/1/gpconnect/fhir", the provider's FHIR
// base as NHS mocks of GP Connect lay it out.
func (m *Mock) BasePath() string { return "/" + m.creds.ODSCode + "/STU3/1/gpconnect/fhir" }

// Journal returns the journal of effects.
func (m *Mock) Journal() *journal.Journal { return m.journal }

// Faults returns the in-band fault controller. Its tenant is the ODS code
// in a request's path (see doc.go).
func (m *Mock) Faults() *inband.Controller { return m.faults }

// Credentials returns what a consumer must send.
func (m *Mock) Credentials() Credentials { return m.creds }

// Patients returns the patients that have records, in seeded order.
func (m *Mock) Patients() []synthetic.Patient { return slices.Clone(m.patients) }

// SetHostKey replaces the CDS Hooks host's public JWKS served at JWKSPath;
// nil or empty makes JWKSPath answer 404 again.
func (m *Mock) SetHostKey(jwks []byte) {
	m.keyMu.Lock()
	defer m.keyMu.Unlock()
	m.hostKey = slices.Clone(jwks)
}

func (m *Mock) hostKeySet() []byte {
	m.keyMu.RLock()
	defer m.keyMu.RUnlock()
	return m.hostKey
}

// Start serves the mock on l in the background, like httptest.Server.
// Calling Start on a started mock closes l and logs an error.
func (m *Mock) Start(l net.Listener) {
	if m.web.Start(l, m.handler, m.log, "gpconnect mock") {
		m.log.Info("gpconnect mock listening", "url", m.URL())
	}
}

// URL is "http://"+addr+BasePath() once started, or "".
func (m *Mock) URL() string {
	if a := m.web.Addr(); a != "" {
		return "http://" + a + m.BasePath()
	}
	return ""
}

// Addr is the listening address once started, or "".
func (m *Mock) Addr() string { return m.web.Addr() }

// Close stops serving (in-flight requests get serve.ShutdownGrace). It is
// safe to call more than once.
func (m *Mock) Close() error {
	if err := m.web.Close(); err != nil {
		return fmt.Errorf("gpconnect mock: %w", err)
	}
	return nil
}

// record returns patient i's clinical record, generating it on first use.
func (m *Mock) record(i int) synthetic.ClinicalRecord {
	m.recMu.Lock()
	e, ok := m.records[i]
	if !ok {
		e = &recordEntry{}
		m.records[i] = e
	}
	m.recMu.Unlock()
	e.once.Do(func() {
		if m.large[i] {
			e.rec = m.largeRecord(i)
			return
		}
		e.rec = synthetic.NewClinicalRecord(m.seed, m.patients[i], m.asOf, synthetic.ClinicalOptions{})
	})
	return e.rec
}

// largeRecord grows patient i's record until the whole record renders to
// at least m.largeBytes: the size is close to linear in the number of extra
// entries, so two trial renders give the growth per entry.
func (m *Mock) largeRecord(i int) synthetic.ClinicalRecord {
	p := m.patients[i]
	build := func(k int) (synthetic.ClinicalRecord, int) {
		r := synthetic.NewClinicalRecord(m.seed, p, m.asOf, synthetic.ClinicalOptions{ExtraInvestigations: k, ExtraIssues: k / 4})
		return r, m.renderedSize(i, r)
	}
	base, b0 := build(0)
	if b0 >= m.largeBytes {
		return base
	}
	const probe = 40
	_, b1 := build(probe)
	per := max(float64(b1-b0)/probe, 1)
	k := int(float64(m.largeBytes-b0)/per) + 1
	for {
		r, size := build(k)
		if size >= m.largeBytes {
			m.log.Debug("gpconnect large record", "nhs_number", p.NHSNumber, "bytes", size, "extra", k)
			return r
		}
		k += k/10 + 1
	}
}

// renderedSize is the size of patient i's whole structured record r.
func (m *Mock) renderedSize(i int, r synthetic.ClinicalRecord) int {
	b, err := m.renderRecord(i, r, fullRequest())
	if err != nil {
		return 0
	}
	return len(b)
}

// newID returns a seeded identifier in UUID form; callers hold m.mu or own
// the mock exclusively.
func newID(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff,
		rng.Uint32()&0xfff, 0x8000|rng.Uint32()&0x3fff, rng.Uint64()&0xffffffffffff)
}

func (m *Mock) journalRecord(kind string, keys, attrs map[string]string) {
	for k, v := range keys {
		if v == "" {
			delete(keys, k)
		}
	}
	if _, err := m.journal.Record(kind, keys, attrs); err != nil {
		m.log.Error("gpconnect journal", "kind", kind, "err", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Prefetch answers a CDS Hooks prefetch query the way the clinical system
// reads its own record for the host (not through GP Connect, the proxy or
// the SSP): "Patient/{id}" where id is the patient's logical id or NHS
// number. Other queries are not supported by the mock host; the CDS service
// then fetches what it needs itself, as the CDS Hooks spec allows.
func (m *Mock) Prefetch(_ context.Context, query string) (any, error) {
	id, ok := strings.CutPrefix(query, "Patient/")
	if !ok || id == "" || strings.ContainsAny(id, "/?") {
		return nil, fmt.Errorf("gpconnect host: prefetch query %q is not supported (only Patient/{id})", query)
	}
	for i, p := range m.patients {
		if p.NHSNumber == id || patientID(i) == id {
			return m.patientResource(i), nil
		}
	}
	return nil, fmt.Errorf("gpconnect host: prefetch %q: no such patient", query)
}
