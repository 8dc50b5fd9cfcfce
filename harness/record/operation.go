package record

import "time"

// Outcome classifies how an operation ended, from the caller's side.
type Outcome string

const (
	// OK: the SUT accepted the request (a 2xx answer).
	OK Outcome = "ok"
	// Fail: the SUT answered and refused (4xx/5xx); the caller knows it failed.
	Fail Outcome = "fail"
	// Unknown: no answer (timeout, reset, refused); the caller cannot tell
	// whether the SUT acted on it.
	Unknown Outcome = "unknown"
)

// Well-known correlation keys. Mocks journal the same names so checks can
// join operations to effects.
const (
	KeyNHSNumber     = "nhs_number"
	KeyUBRN          = "ubrn"
	KeyCorrelationID = "correlation_id"
	KeyRequestID     = "request_id"
)

// Operation is one call a workload made to the system under test.
//
// Intended is when the open-model generator meant to send it; Call is when it
// was actually sent; Return is when the answer (or the error) came back.
// Latency is measured from Intended so that a stalled SUT cannot hide behind
// a stalled load generator (no coordinated omission).
type Operation struct {
	Seq      int64             `json:"seq"`
	Workload string            `json:"workload"`
	Action   string            `json:"action"`
	Intended time.Duration     `json:"intended"`
	Call     time.Duration     `json:"call"`
	Return   time.Duration     `json:"return"`
	Outcome  Outcome           `json:"outcome"`
	Status   int               `json:"status,omitempty"`
	Error    string            `json:"error,omitempty"`
	Keys     map[string]string `json:"keys,omitempty"`
}

// Latency is the time from the intended send to the return.
func (o Operation) Latency() time.Duration { return o.Return - o.Intended }

// Key returns the correlation key k, or "".
func (o Operation) Key(k string) string { return o.Keys[k] }
