package scenario

import (
	"fmt"
	"time"
)

// Pos is a place in a scenario file.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Scenario is one pilot: the services to mock, the SUT, the load, the fault
// timeline and the checks that judge it.
type Scenario struct {
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description" yaml:"description"`
	Hazards     []string `json:"hazards,omitempty" yaml:"hazards,omitempty"`
	// Seed drives every random choice. 0 in the file means "choose one"; the
	// harness fills in the chosen seed before the run and records it.
	Seed     uint64   `json:"seed" yaml:"seed"`
	Services []string `json:"services" yaml:"services"`
	// ServiceOptions configure the mocks, by service then option name
	// (`service_options: {gpconnect: {patients: 50}}`). Which options a
	// service takes, their types and ranges are in the catalog
	// (ServiceKind.Options). Values are kept as the text of the YAML scalar
	// ("50", "0.2", "3000000"): the stack passes them through to the mock's
	// factory unchanged, and Parse has already checked them against their
	// type, so a factory only has to strconv them.
	ServiceOptions map[string]map[string]string `json:"service_options,omitempty" yaml:"service_options,omitempty"`
	SUT            SUT                          `json:"sut" yaml:"sut"`
	Load           []Load                       `json:"load" yaml:"load"`
	Timeline       []Step                       `json:"timeline" yaml:"timeline"`
	Checks         []CheckSpec                  `json:"checks" yaml:"checks"`
	// Drain bounds how long the harness waits after the load ends for the
	// checks' "within" deadlines to pass. Zero means "the largest within".
	Drain time.Duration `json:"drain,omitempty" yaml:"drain,omitempty"`

	// Source is the file the scenario was read from ("" if built in code).
	Source string `json:"-" yaml:"-"`
	// Raw is the file's bytes as read, written back as scenario.yaml.
	Raw []byte `json:"-" yaml:"-"`

	// pos locates every field of a parsed file by problem path (for example
	// "timeline[2].latency"), so that Validate can point at it after CLI
	// overrides too; nil for a scenario built in code.
	pos map[string]nodePos
}

// SUT names the system under test and how to know it is alive.
type SUT struct {
	// Command is argv; elements may use text/template fields such as
	// {{ .examples }} (the directory of built reference integrations).
	Command []string `json:"command,omitempty" yaml:"command,omitempty"`
	// URL of an already running SUT (crash and hang faults are unavailable).
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// Image is for containers mode.
	Image  string            `json:"image,omitempty" yaml:"image,omitempty"`
	Health Health            `json:"health" yaml:"health"`
	Env    map[string]string `json:"env,omitempty" yaml:"env,omitempty"`
	// StartTimeout bounds the wait for the health probe (default 15s).
	StartTimeout time.Duration `json:"start_timeout,omitempty" yaml:"start_timeout,omitempty"`
	// StopTimeout is the grace between SIGTERM and SIGKILL (default 5s).
	StopTimeout time.Duration `json:"stop_timeout,omitempty" yaml:"stop_timeout,omitempty"`
	Pos         Pos           `json:"-" yaml:"-"`
}

// Health is the SUT's readiness and liveness probe.
type Health struct {
	// HTTP is a path on the SUT's address that must answer 2xx.
	HTTP string `json:"http,omitempty" yaml:"http,omitempty"`
	// Interval between probes (default 100ms while starting).
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
}

// Rate is an arrival rate: Count arrivals every Per.
type Rate struct {
	Count int           `json:"count"`
	Per   time.Duration `json:"per"`
}

// PerSecond is the rate in arrivals per second.
func (r Rate) PerSecond() float64 {
	if r.Per <= 0 {
		return 0
	}
	return float64(r.Count) / r.Per.Seconds()
}

func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Count)
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Per)
}

// Load drives one workload at an open-model rate.
type Load struct {
	Workload string        `json:"workload" yaml:"workload"`
	Rate     Rate          `json:"rate" yaml:"rate"`
	Duration time.Duration `json:"duration" yaml:"duration"`
	// Timeout is how long one operation may take before the caller gives up
	// (the clinician's patience). Default 10s.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxInFlight bounds concurrent operations; arrivals beyond it are
	// dropped and make the run inconclusive. Default 1000.
	MaxInFlight int `json:"max_in_flight,omitempty" yaml:"max_in_flight,omitempty"`
	// UIBudget, for workloads driven through the clinical host
	// (order-imaging), is how long one synchronous hook call may hold the
	// clinician's screen before it counts as a freeze. Zero means
	// DefaultUIBudget; see Budget.
	UIBudget time.Duration `json:"ui_budget,omitempty" yaml:"ui_budget,omitempty"`
	// ACKTimeout, for lab-results, is how long the lab waits for the SUT's
	// HL7 ACK before resending the result. Zero means DefaultACKTimeout;
	// see ACKWait.
	ACKTimeout time.Duration `json:"ack_timeout,omitempty" yaml:"ack_timeout,omitempty"`
	Pos        Pos           `json:"-" yaml:"-"`
}

// ACKWait is the load's ACK timeout, DefaultACKTimeout when it does not set
// one.
func (l Load) ACKWait() time.Duration {
	if l.ACKTimeout > 0 {
		return l.ACKTimeout
	}
	return DefaultACKTimeout
}

// Budget is the load's UI budget, DefaultUIBudget when it does not set one.
func (l Load) Budget() time.Duration {
	if l.UIBudget > 0 {
		return l.UIBudget
	}
	return DefaultUIBudget
}

// Step is one entry of the fault timeline. Which attributes apply depends on
// Fault; the validator rejects attributes that do not apply.
type Step struct {
	At  time.Duration `json:"at" yaml:"at"`
	For time.Duration `json:"for,omitempty" yaml:"for,omitempty"`
	// Fault is the fault kind: a Toxiproxy toxic (latency, bandwidth,
	// slow_close, timeout, reset_peer, slicer, limit_data), down, crash,
	// hang, or an in-band fault (status, lost-response, delay, malformed).
	Fault string `json:"fault" yaml:"fault"`
	// Service is the mocked service a network or in-band fault targets. A
	// network fault (a toxic or down) may also name SUTService ("sut"): the
	// inbound proxy in front of the SUT's own port, when a load drives the
	// SUT through it (lab-results).
	Service string `json:"service,omitempty" yaml:"service,omitempty"`
	// Target is "sut" for crash and hang.
	Target string `json:"target,omitempty" yaml:"target,omitempty"`
	// Stream is upstream (SUT→service) or downstream (service→SUT, the default).
	Stream string `json:"stream,omitempty" yaml:"stream,omitempty"`

	Latency       time.Duration `json:"latency,omitempty" yaml:"latency,omitempty"`
	Jitter        time.Duration `json:"jitter,omitempty" yaml:"jitter,omitempty"`
	RateKBps      int64         `json:"rate_kbps,omitempty" yaml:"rate_kbps,omitempty"`
	Delay         time.Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	Timeout       time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	AverageSize   int64         `json:"average_size,omitempty" yaml:"average_size,omitempty"`
	SizeVariation int64         `json:"size_variation,omitempty" yaml:"size_variation,omitempty"`
	// Bytes is limit_data's byte count, and the size an oversized
	// malformed answer is padded to.
	Bytes int64 `json:"bytes,omitempty" yaml:"bytes,omitempty"`

	Status     int           `json:"status,omitempty" yaml:"status,omitempty"`
	Code       string        `json:"code,omitempty" yaml:"code,omitempty"`
	RetryAfter time.Duration `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// Malform, for a malformed fault: invalid-json, wrong-types or
	// oversized (MalformKinds).
	Malform string `json:"malform,omitempty" yaml:"malform,omitempty"`
	// Field, for a wrong-types or oversized malformed fault, aims it at one
	// JSON key wherever it appears (e.g. text: the human-readable text of
	// every coded entry): every value gets the wrong type, or is inflated.
	Field string `json:"field,omitempty" yaml:"field,omitempty"`
	// Fraction of requests an in-band fault hits (0 = all).
	Fraction   float64  `json:"fraction,omitempty" yaml:"fraction,omitempty"`
	Operations []string `json:"operations,omitempty" yaml:"operations,omitempty"`
	// ODS restricts an in-band fault to requests for these tenants (ODS
	// codes), on services whose mock tells tenants apart
	// (ServiceKind.Tenants). Empty means every tenant.
	ODS []string `json:"ods,omitempty" yaml:"ods,omitempty"`

	// RestartAfter, for crash: restart the SUT this long after the kill.
	RestartAfter time.Duration `json:"restart_after,omitempty" yaml:"restart_after,omitempty"`

	Pos Pos `json:"-" yaml:"-"`
}

// End is when the step's window closes (At+For; At for instantaneous steps,
// At+RestartAfter for a crash with restart).
func (s Step) End() time.Duration {
	if s.Fault == "crash" && s.For == 0 {
		return s.At + s.RestartAfter
	}
	return s.At + s.For
}

// CheckSpec names one check and its parameters. Which parameters apply
// depends on Name; the validator rejects the rest.
type CheckSpec struct {
	Name   string        `json:"name"`
	Within time.Duration `json:"within,omitempty"`
	Phase  string        `json:"phase,omitempty"`
	P50    time.Duration `json:"p50,omitempty"`
	P95    time.Duration `json:"p95,omitempty"`
	P99    time.Duration `json:"p99,omitempty"`
	// Max is the largest acceptable error fraction for error-rate (0..1).
	Max *float64 `json:"max,omitempty"`
	// MaxBlock, for host-responsive, is the longest the clinician's screen
	// may be blocked by the integration during one action.
	MaxBlock time.Duration `json:"max_block,omitempty"`
	// MaxFreezes, for host-responsive, is how many hook calls in the whole
	// run may overrun the UI budget (default 0).
	MaxFreezes int `json:"max_freezes,omitempty"`
	// MaxUnsafe, for host-responsive, is how many answers a real host could
	// crash on the run may contain (default 0).
	MaxUnsafe int `json:"max_unsafe,omitempty"`
	Pos       Pos `json:"-"`
}
