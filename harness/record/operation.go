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
	// Host is what the clinical host experienced, for operations driven
	// through the mock clinical system (CDS Hooks); nil otherwise.
	Host *HostView `json:"host,omitempty"`
}

// HostView is the clinician's screen during one action in the mock clinical
// system: how long the integration blocked it, whether a hook overran the
// synchronous UI budget (a freeze), which responses a real host could crash
// on, and whether the order still went through.
type HostView struct {
	// Blocked is the total time the screen waited on the integration's hooks.
	Blocked time.Duration `json:"blocked"`
	// Hooks are the individual hook calls, in order.
	Hooks []HookCall `json:"hooks,omitempty"`
	// Freezes counts hook calls that overran the UI budget.
	Freezes int `json:"freezes"`
	// Unsafe lists responses a real host could crash on (invalid JSON, wrong
	// types, oversized payloads), one line each.
	Unsafe []string `json:"unsafe,omitempty"`
	// CDSFailed is true when decision support was unavailable for the action
	// (error, timeout, refused connection, unusable answer).
	CDSFailed bool `json:"cds_failed"`
	// Signed is true when the order went through to signing.
	Signed bool `json:"signed"`
}

// HookCall is one CDS Hooks invocation made by the host.
type HookCall struct {
	Hook    string        `json:"hook"`
	Service string        `json:"service"`
	Blocked time.Duration `json:"blocked"`
	Status  int           `json:"status,omitempty"`
	Budget  time.Duration `json:"budget"`
	Freeze  bool          `json:"freeze"`
	Cards   int           `json:"cards"`
	// Outcome is "cards", "no-cards", "error", "timeout", "unsafe" or "refused".
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// Latency is the time from the intended send to the return.
func (o Operation) Latency() time.Duration { return o.Return - o.Intended }

// Key returns the correlation key k, or "".
func (o Operation) Key(k string) string { return o.Keys[k] }
