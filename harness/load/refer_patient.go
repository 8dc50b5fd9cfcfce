package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// Defaults for the refer-patient journey: a routine cardiology referral to a
// heart-failure clinic.
const (
	DefaultServiceID  = "11002"
	DefaultSpecialty  = "CARDIOLOGY"
	DefaultClinicType = "HEART_FAILURE"
	DefaultPriority   = "ROUTINE"
)

// maxAnswerBytes bounds how much of the SUT's answer is read.
const maxAnswerBytes = 1 << 20

// ReferPatientConfig configures the refer-patient workload.
type ReferPatientConfig struct {
	// BaseURL is the system under test's base URL; requests go to
	// BaseURL + "/referrals".
	BaseURL string
	// Client sends the requests (default: a new client with no timeout of its
	// own; each request is bounded by its context).
	Client *http.Client
	// Patients supplies the synthetic patients (default: seeded from Seed).
	// Arrival N always refers the N-th patient drawn, whatever order the
	// arrivals' goroutines run in, provided nothing else draws from it.
	Patients *synthetic.Patients
	// Seed makes request ids (and default patients) reproducible.
	Seed uint64
	// Clock is the run clock for Call and Return (default: a new clock,
	// only sensible in tests).
	Clock *record.Clock

	ServiceID  string // default DefaultServiceID
	Specialty  string // default DefaultSpecialty
	ClinicType string // default DefaultClinicType
	Priority   string // default DefaultPriority
}

// ReferPatient is the refer-patient workload: a GP refers one synthetic
// patient per arrival through the SUT's API,
//
//	POST {BaseURL}/referrals
//	{"requestId": "…", "nhsNumber": "…", "serviceId": "11002",
//	 "priority": "ROUTINE", "specialty": "CARDIOLOGY", "clinicType": "HEART_FAILURE"}
//
// and the SUT answers {"requestId", "ubrn"?, "state"} or {"error"}. A 2xx
// answer is OK (the SUT accepted the referral and owes it to e-RS), any other
// status is Fail, and no answer at all is Unknown. It is safe for concurrent
// use.
type ReferPatient struct {
	url      string
	client   *http.Client
	patients *synthetic.Patients
	seed     uint64
	clock    *record.Clock
	body     referralTemplate

	mu      sync.Mutex
	drawn   uint64                       // patients drawn so far
	waiting map[uint64]synthetic.Patient // drawn for an arrival that has not asked yet
}

type referralTemplate struct {
	serviceID, specialty, clinicType, priority string
}

// referralRequest is the body sent to the SUT.
type referralRequest struct {
	RequestID  string `json:"requestId"`
	NHSNumber  string `json:"nhsNumber"`
	ServiceID  string `json:"serviceId"`
	Priority   string `json:"priority"`
	Specialty  string `json:"specialty"`
	ClinicType string `json:"clinicType"`
}

// referralAnswer is the SUT's answer, success or error.
type referralAnswer struct {
	RequestID string `json:"requestId"`
	UBRN      string `json:"ubrn"`
	State     string `json:"state"`
	Error     string `json:"error"`
}

var _ Workload = (*ReferPatient)(nil)

// NewReferPatient returns the workload, filling in defaults.
func NewReferPatient(cfg ReferPatientConfig) *ReferPatient {
	w := &ReferPatient{
		url:      strings.TrimRight(cfg.BaseURL, "/") + "/referrals",
		client:   cfg.Client,
		patients: cfg.Patients,
		seed:     cfg.Seed,
		clock:    cfg.Clock,
		body: referralTemplate{
			serviceID:  orDefault(cfg.ServiceID, DefaultServiceID),
			specialty:  orDefault(cfg.Specialty, DefaultSpecialty),
			clinicType: orDefault(cfg.ClinicType, DefaultClinicType),
			priority:   orDefault(cfg.Priority, DefaultPriority),
		},
		waiting: map[uint64]synthetic.Patient{},
	}
	if w.client == nil {
		w.client = &http.Client{}
	}
	if w.patients == nil {
		w.patients = synthetic.NewPatients(cfg.Seed, synthetic.PracticeODS(cfg.Seed))
	}
	if w.clock == nil {
		w.clock = record.NewClock(nil)
	}
	return w
}

// Name is the workload's name in scenarios.
func (w *ReferPatient) Name() string { return "refer-patient" }

// Iterate refers the patient for arrival a and records the call.
func (w *ReferPatient) Iterate(ctx context.Context, a Arrival) record.Operation {
	patient := w.patientFor(a.N)
	reqID := RequestID(w.seed, a.N)
	op := record.Operation{
		Action: "refer",
		Keys: map[string]string{
			record.KeyNHSNumber: patient.NHSNumber,
			record.KeyRequestID: reqID,
		},
	}
	payload, err := json.Marshal(referralRequest{
		RequestID:  reqID,
		NHSNumber:  patient.NHSNumber,
		ServiceID:  w.body.serviceID,
		Priority:   w.body.priority,
		Specialty:  w.body.specialty,
		ClinicType: w.body.clinicType,
	})
	if err != nil { // cannot happen with string fields; kept honest anyway
		return w.unknown(op, fmt.Errorf("encode referral: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(payload))
	if err != nil {
		return w.unknown(op, fmt.Errorf("build referral request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	op.Call = w.clock.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		return w.unknown(op, err)
	}
	defer resp.Body.Close()
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	op.Return = w.clock.Now()
	op.Status = resp.StatusCode

	var ans referralAnswer
	decodeErr := json.Unmarshal(raw, &ans)
	if ans.UBRN != "" {
		op.Keys[record.KeyUBRN] = ans.UBRN
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The SUT said yes: it now owes this referral to e-RS, whatever
		// happened to the rest of its answer.
		op.Outcome = record.OK
		switch {
		case readErr != nil:
			op.Error = fmt.Sprintf("accepted (HTTP %d) but the answer could not be read: %v", resp.StatusCode, readErr)
		case decodeErr != nil:
			op.Error = fmt.Sprintf("accepted (HTTP %d) but the answer is not the expected JSON: %v", resp.StatusCode, decodeErr)
		}
		return op
	}
	op.Outcome = record.Fail
	op.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	if ans.Error != "" {
		op.Error += ": " + ans.Error
	}
	return op
}

// unknown records a call that got no answer: the caller cannot tell whether
// the SUT acted on it.
func (w *ReferPatient) unknown(op record.Operation, err error) record.Operation {
	now := w.clock.Now()
	if op.Call == 0 {
		op.Call = now
	}
	op.Return = now
	op.Outcome = record.Unknown
	op.Error = err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		op.Error = "no answer before the timeout: " + op.Error
	}
	return op
}

// patientFor returns the patient of arrival n: the n-th patient drawn. The
// generator starts arrivals in order but their goroutines may run in any
// order, so patients drawn ahead for earlier-numbered arrivals wait in a small
// map until those arrivals ask. Each arrival number must be asked for once; a
// repeat, or an arrival more than maxWaitingPatients behind the newest, gets
// a fresh patient (still distinct, no longer reproducible).
func (w *ReferPatient) patientFor(n uint64) synthetic.Patient {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.waiting[n]; ok {
		delete(w.waiting, n)
		return p
	}
	if n < w.drawn {
		w.drawn++
		return w.patients.Next()
	}
	for w.drawn < n {
		w.waiting[w.drawn] = w.patients.Next()
		w.drawn++
	}
	w.drawn++
	p := w.patients.Next()
	// Arrivals the generator dropped never ask, so their patients would wait
	// for ever. Forget any drawn far behind the newest arrival.
	if len(w.waiting) > 2*maxWaitingPatients && n > maxWaitingPatients {
		for k := range w.waiting {
			if k < n-maxWaitingPatients {
				delete(w.waiting, k)
			}
		}
	}
	return p
}

// maxWaitingPatients is how far behind the newest arrival a patient drawn
// for an earlier arrival is kept. Goroutines started in order never fall
// this far behind in practice; dropped arrivals do.
const maxWaitingPatients = 4096

// RequestID is the deterministic request id of arrival n under seed: a
// UUID-shaped string (version 4 and RFC 4122 variant bits set, so services
// that insist on a UUID accept it) whose last group is n in hexadecimal and
// whose other bits come from the seed. Distinct arrivals of one seed never
// share an id.
func RequestID(seed, n uint64) string {
	a := splitmix64(seed)
	b := splitmix64(a)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		uint32(a>>32),
		uint16(a>>16),
		uint16(a)&0x0fff,
		0x8000|uint16(b)&0x3fff,
		n&0xffffffffffff,
	)
}

// splitmix64 is one step of the SplitMix64 mixer (Steele, Lea and Flood).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
