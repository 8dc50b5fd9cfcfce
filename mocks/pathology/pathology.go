package pathology

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// Service is the journal's service name.
const Service = "pathology"

// DefaultACKTimeout is how long the lab waits for an ACK before resending.
const DefaultACKTimeout = 10 * time.Second

// DefaultReconnectDelay is how long the lab waits between failed dials.
const DefaultReconnectDelay = 500 * time.Millisecond

// NHSAuthority and NHSIdentifierType mark the NHS number in PID-3.
const (
	NHSAuthority      = "NHS"
	NHSIdentifierType = "NH"
)

// Journal keys.
const (
	keyMSH10        = "msh10"
	keyNHSNumber    = "nhs_number"
	keyFiller       = "filler_order"
	keyTestCode     = "test_code"
	keyResultStatus = "result_status"
	keyContentHash  = "content_hash"
)

type config struct {
	seed           uint64
	now            func() time.Time
	log            *slog.Logger
	practice       string
	version        string
	ackTimeout     time.Duration
	maxAttempts    int
	reconnectDelay time.Duration
	dial           func(ctx context.Context) (net.Conn, error)
	maxFrame       int
	known          map[string]bool
}

func newConfig(opts []Option) config {
	c := config{
		now:            time.Now,
		log:            slog.New(slog.DiscardHandler),
		version:        hl7.V24,
		ackTimeout:     DefaultACKTimeout,
		reconnectDelay: DefaultReconnectDelay,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.practice == "" {
		c.practice = synthetic.PracticeODS(c.seed)
	}
	return c
}

// Option configures a Lab or a Listener; options that do not apply to one
// are ignored by it.
type Option func(*config)

// WithSeed seeds the lab's results (patients, codes, values, control ids)
// and the listener's ACK control ids.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithClock sets the clock for journal times, MSH-7 and the record's times.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithPractice sets the ODS code results are addressed to (MSH-6);
// default synthetic.PracticeODS(seed).
func WithPractice(ods string) Option { return func(c *config) { c.practice = ods } }

// WithVersion sets the HL7 version the lab sends (hl7.V24, the default, or
// hl7.V251).
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

// WithACKTimeout sets how long the lab waits for an ACK (default
// DefaultACKTimeout).
func WithACKTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.ackTimeout = d
		}
	}
}

// WithMaxAttempts caps how many times the lab sends one message (the
// copies of a Burst fault count as one); 0 (the default) resends until its
// context ends, as real senders do.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = max(n, 0) } }

// WithReconnectDelay sets the wait between failed dials.
func WithReconnectDelay(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.reconnectDelay = d
		}
	}
}

// WithDialer replaces the lab's TCP dial to its target (tests use net.Pipe).
func WithDialer(dial func(ctx context.Context) (net.Conn, error)) Option {
	return func(c *config) { c.dial = dial }
}

// WithMaxFrame bounds an MLLP frame (default hl7.DefaultMaxFrame).
func WithMaxFrame(n int) Option { return func(c *config) { c.maxFrame = n } }

// WithKnownPatients makes the listener answer AE (unknown patient) for any
// other NHS number. Without it every valid NHS number is known.
func WithKnownPatients(nhs ...string) Option {
	return func(c *config) {
		if c.known == nil {
			c.known = map[string]bool{}
		}
		for _, n := range nhs {
			c.known[n] = true
		}
	}
}

func newJournal(c config) *journal.Journal { return journal.New(Service, c.now) }

// NHSNumber returns the NHS number in PID-3 (the repetition whose type is
// NH or whose assigning authority is NHS), or "".
func NHSNumber(m *hl7.Message) string {
	pid := m.Segment("PID")
	if pid == nil {
		return ""
	}
	for _, rep := range pid.Field(3) {
		get := func(i int) string {
			if i < len(rep) && len(rep[i]) > 0 {
				return rep[i][0]
			}
			return ""
		}
		if get(4) == NHSIdentifierType || get(3) == NHSAuthority {
			return get(0)
		}
	}
	return ""
}

// ContentHash hashes a result's clinical content — the NHS number (PID-3),
// the test (OBR-4.1) and every observation's code and value (OBX-3.1,
// OBX-5) — with synthetic.ResultContentHash, so the same result re-sent
// under a new MSH-10, or converted to a FHIR Bundle and sent over MESH
// (whose mock journals the same hash), hashes the same.
func ContentHash(m *hl7.Message) string {
	return synthetic.ResultContentHash(NHSNumber(m), m.Get("OBR-4.1"), Observations(m))
}

// Observations returns every OBX's code (OBX-3.1) and value as
// ContentHash sees them: OBX-5, except that a coded value (OBX-2 CE or
// CWE) is its code, OBX-5.1, as a FHIR valueCodeableConcept carries it.
func Observations(m *hl7.Message) []synthetic.ObsValue {
	var out []synthetic.ObsValue
	for i := range m.All("OBX") {
		p := "OBX[" + itoa(i+1) + "]-"
		v := m.Get(p + "5")
		if vt := m.Get(p + "2"); vt == "CE" || vt == "CWE" {
			v = m.Get(p + "5.1")
		}
		out = append(out, synthetic.ObsValue{Code: m.Get(p + "3.1"), Value: v})
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
