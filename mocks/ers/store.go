package ers

import (
	"fmt"
	"slices"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// service is one shortlisted e-RS service.
type service struct {
	ID      string
	Display string
}

// referral is one version of a referral's state.
type referral struct {
	UBRN               string
	Version            int
	NHSNumber          string
	ReferrerODS        string
	BusinessFunction   string
	UserID             string
	ReferringClinician string
	Priority           string
	Specialty          string
	ClinicType         string
	Criteria           []fhir.Parameter // search criteria as echoed back
	Services           []service
	LetterIntention    string
	ReminderDays       int64
	PathwayStart       string // as sent, or derived for triage
	Created, Updated   time.Time
	State              string
	StateReason        string
	StateComment       string
	Status             string // active | cancelled
	RequestID          string // ers-request-id identifier
	Triage             bool   // created by A021 (sent to a triage service)
	AppointmentID      string // triage "appointment" for A021
	CancelledBy        string // ODS code of whoever cancelled it
}

// pathwayStart is the referral's e-Referral pathway start: as supplied, or
// derived by e-RS (here: when the referral was created).
func (r *referral) pathwayStart() string {
	if r.PathwayStart != "" {
		return r.PathwayStart
	}
	return ersTime(r.Created)
}

func (r *referral) clone() *referral {
	c := *r
	c.Criteria = slices.Clone(r.Criteria)
	c.Services = slices.Clone(r.Services)
	return &c
}

// record is a referral with every version it has had.
type record struct {
	versions []*referral
}

func (r *record) current() *referral { return r.versions[len(r.versions)-1] }

// push appends next as a new version.
func (r *record) push(next *referral) {
	next.Version = r.current().Version + 1
	r.versions = append(r.versions, next)
}

// allocUBRN returns a new, distinct, seeded 12-digit UBRN. m.mu must be held.
func (m *Mock) allocUBRN() string {
	for {
		u := fmt.Sprintf("%012d", m.ubrnRNG.Int64N(1_000_000_000_000))
		if _, taken := m.referrals[u]; !taken {
			return u
		}
	}
}

// newID returns a seeded UUID-shaped identifier. m.mu must be held.
func (m *Mock) newID() string {
	a, b := m.idRNG.Uint64(), m.idRNG.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0x0fff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

// nextRequestID is for X-Request-ID.
func (m *Mock) nextRequestID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.newID()
}

// insert stores a new referral at version 1, allocating its UBRN. It returns
// a copy of what was stored.
func (m *Mock) insert(r *referral) *referral {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.UBRN = m.allocUBRN()
	r.Version = 1
	r.RequestID = "r." + m.newID()
	if r.Triage {
		m.nextAppt++
		r.AppointmentID = fmt.Sprint(m.nextAppt)
	}
	m.referrals[r.UBRN] = &record{versions: []*referral{r}}
	m.order = append(m.order, r.UBRN)
	m.stats.ReferralsCreated++
	return r.clone()
}

// get returns a copy of the current version of ubrn.
func (m *Mock) get(ubrn string) (*referral, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.referrals[ubrn]
	if !ok {
		return nil, false
	}
	return rec.current().clone(), true
}

// snapshot returns copies of the current version of every referral, in
// creation order.
func (m *Mock) snapshot() []*referral {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*referral, 0, len(m.order))
	for _, u := range m.order {
		out = append(out, m.referrals[u].current().clone())
	}
	return out
}

// update applies change to the current version of ubrn under the lock, and
// stores the result as a new version unless change returns an error.
func (m *Mock) update(ubrn string, change func(cur *referral) (*referral, *apiError)) (*referral, *apiError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.referrals[ubrn]
	if !ok {
		return nil, errorf(404, fhir.IssueNotFound, codeReferenceNotFound, "Referral request %s not found.", ubrn)
	}
	next, aerr := change(rec.current().clone())
	if aerr != nil {
		return nil, aerr
	}
	rec.push(next)
	return next.clone(), nil
}
