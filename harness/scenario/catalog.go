package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The catalog is what exists: the services that can be mocked, the faults
// that can be injected, the checks that can judge a run and the workloads
// that can drive one. Each is a table below; adding an entry is all the
// validator needs to accept a new kind. The tables are read-only: the
// exported accessors hand out copies.

// FaultClass says which machinery injects a fault.
type FaultClass string

const (
	// ClassToxic faults are Toxiproxy toxics on a service's proxy.
	ClassToxic FaultClass = "toxic"
	// ClassProxy faults act on the proxy itself (down disables it).
	ClassProxy FaultClass = "proxy"
	// ClassProcess faults act on the SUT (crash kills it, hang stops it).
	ClassProcess FaultClass = "process"
	// ClassInBand faults make a mock misbehave at the protocol level.
	ClassInBand FaultClass = "in-band"
)

// FaultKind describes one fault: which Step attributes (YAML keys) it takes,
// which of those it requires, and what it is aimed at.
type FaultKind struct {
	Name  string
	Class FaultClass
	Doc   string
	// Attrs are the Step keys that apply, besides "fault" itself.
	Attrs []string
	// Required are the keys that must be set (non-zero).
	Required []string
	// NeedsService: the step names a service (which must be listed in the
	// scenario's services).
	NeedsService bool
	// TargetSUT: the step must say `target: sut`, and the SUT must be one
	// the harness controls (a command or an image, not a URL).
	TargetSUT bool
	// Windowed: the fault holds for a window and needs `for` > 0.
	Windowed bool
}

// Takes reports whether attr (a Step YAML key) applies to the fault.
func (k FaultKind) Takes(attr string) bool {
	return attr == "fault" || slices.Contains(k.Attrs, attr)
}

// Requires reports whether attr must be set for the fault.
func (k FaultKind) Requires(attr string) bool { return slices.Contains(k.Required, attr) }

func (k FaultKind) clone() FaultKind {
	k.Attrs = slices.Clone(k.Attrs)
	k.Required = slices.Clone(k.Required)
	return k
}

// toxicAttrs are the keys every Toxiproxy toxic takes.
var toxicAttrs = []string{"at", "for", "service", "stream"}

func toxic(name, doc string, attrs, required []string) FaultKind {
	return FaultKind{
		Name:         name,
		Class:        ClassToxic,
		Doc:          doc,
		Attrs:        append(slices.Clone(toxicAttrs), attrs...),
		Required:     append([]string{"service", "for"}, required...),
		NeedsService: true,
		Windowed:     true,
	}
}

// faultTable is the catalog of faults.
var faultTable = []FaultKind{
	toxic("latency", "delay every chunk by latency ± jitter",
		[]string{"latency", "jitter"}, []string{"latency"}),
	toxic("bandwidth", "limit the connection to rate_kbps KB/s",
		[]string{"rate_kbps"}, []string{"rate_kbps"}),
	toxic("slow_close", "delay closing the connection by delay",
		[]string{"delay"}, []string{"delay"}),
	toxic("timeout", "stop all data and close after timeout (0 = hold the connection open forever: a blackhole)",
		[]string{"timeout"}, nil),
	toxic("reset_peer", "reset the connection (TCP RST) after timeout",
		[]string{"timeout"}, nil),
	toxic("slicer", "slice data into chunks of average_size ± size_variation bytes, delay apart",
		[]string{"average_size", "size_variation", "delay"}, []string{"average_size"}),
	toxic("limit_data", "close the connection after bytes bytes",
		[]string{"bytes"}, []string{"bytes"}),
	{
		Name: "down", Class: ClassProxy,
		Doc:          "disable the service's proxy: connections are refused",
		Attrs:        []string{"at", "for", "service"},
		Required:     []string{"service", "for"},
		NeedsService: true, Windowed: true,
	},
	{
		Name: "crash", Class: ClassProcess,
		Doc:       "kill the SUT (SIGKILL), optionally restarting it restart_after later",
		Attrs:     []string{"at", "target", "restart_after"},
		Required:  []string{"target"},
		TargetSUT: true,
	},
	{
		Name: "hang", Class: ClassProcess,
		Doc:       "freeze the SUT (SIGSTOP / pause) for the window, then resume it",
		Attrs:     []string{"at", "for", "target"},
		Required:  []string{"target", "for"},
		TargetSUT: true, Windowed: true,
	},
	inBand("status", "the mock answers with an HTTP error status (with code and Retry-After) instead of doing the work",
		[]string{"status", "code", "retry_after"}, []string{"status"}),
	inBand("lost-response", "the mock commits the work, then drops the response", nil, nil),
	inBand("delay", "the mock holds each request for delay before doing the work (a slow clinical system)",
		[]string{"delay"}, []string{"delay"}),
	inBand("malformed", "the mock answers with a broken body: malform invalid-json, wrong-types, or oversized (padded to bytes); field aims wrong-types/oversized at one JSON key",
		[]string{"malform", "bytes", "field"}, []string{"malform"}),
}

// inBandAttrs are the keys every in-band fault takes: which service, when,
// and which requests it hits (a seeded fraction, named operations, and the
// tenants, by ODS code, of services that serve several organisations).
var inBandAttrs = []string{"at", "for", "service", "fraction", "operations", "ods"}

func inBand(name, doc string, attrs, required []string) FaultKind {
	return FaultKind{
		Name:         name,
		Class:        ClassInBand,
		Doc:          doc,
		Attrs:        append(slices.Clone(inBandAttrs[:3]), append(slices.Clone(attrs), inBandAttrs[3:]...)...),
		Required:     append([]string{"service", "for"}, required...),
		NeedsService: true,
		Windowed:     true,
	}
}

// Malform kinds: what a `malformed` fault does to the mock's answer.
const (
	// MalformInvalidJSON: the body is not JSON at all (truncated mid-object).
	MalformInvalidJSON = "invalid-json"
	// MalformWrongTypes: valid JSON whose fields have the wrong types
	// (a string where FHIR has an array, a number for a string, ...).
	MalformWrongTypes = "wrong-types"
	// MalformOversized: a valid resource padded to `bytes` bytes (default:
	// the mock's own).
	MalformOversized = "oversized"
)

// MalformKinds lists the values `malform` takes.
func MalformKinds() []string {
	return []string{MalformInvalidJSON, MalformWrongTypes, MalformOversized}
}

// MaxMalformedBytes bounds an oversized answer: big enough to reproduce a
// host choking on a huge payload, small enough not to exhaust the machine
// running the pilot.
const MaxMalformedBytes = 64 << 20

// Faults lists every fault kind, in catalog order.
func Faults() []FaultKind {
	out := make([]FaultKind, len(faultTable))
	for i, k := range faultTable {
		out[i] = k.clone()
	}
	return out
}

// LookupFault finds a fault kind by name.
func LookupFault(name string) (FaultKind, bool) {
	for _, k := range faultTable {
		if k.Name == name {
			return k.clone(), true
		}
	}
	return FaultKind{}, false
}

func faultNames() []string {
	names := make([]string, len(faultTable))
	for i, k := range faultTable {
		names[i] = k.Name
	}
	return names
}

// CheckKind describes one check and the parameters (CheckSpec JSON names)
// it takes.
type CheckKind struct {
	Name string
	Doc  string
	// Params are the parameters that apply.
	Params []string
	// Required are the parameters that must be set.
	Required []string
	// OneOf, if not empty: at least one of these must be set.
	OneOf []string
	// Workloads, if not empty: the check judges what one of these workloads
	// records, so the scenario's load must drive at least one of them.
	Workloads []string
}

// Takes reports whether param applies to the check.
func (k CheckKind) Takes(param string) bool { return slices.Contains(k.Params, param) }

func (k CheckKind) clone() CheckKind {
	k.Params = slices.Clone(k.Params)
	k.Required = slices.Clone(k.Required)
	k.OneOf = slices.Clone(k.OneOf)
	k.Workloads = slices.Clone(k.Workloads)
	return k
}

// checkTable is the catalog of checks.
var checkTable = []CheckKind{
	{
		Name:     "no-lost-referrals",
		Doc:      "every referral the SUT accepted reaches e-RS by `within` after the last fault ends",
		Params:   []string{"within"},
		Required: []string{"within"},
	},
	{
		Name: "no-duplicate-referrals",
		Doc:  "no referral is created in e-RS twice for one request",
	},
	{
		Name:     "latency",
		Doc:      "the SUT's response-time percentiles in `phase` stay under the given p50/p95/p99",
		Params:   []string{"phase", "p50", "p95", "p99"},
		Required: []string{"phase"},
		OneOf:    []string{"p50", "p95", "p99"},
	},
	{
		Name:     "error-rate",
		Doc:      "the fraction of failed operations in `phase` is at most `max`",
		Params:   []string{"phase", "max"},
		Required: []string{"phase", "max"},
	},
	{
		Name: "sut-alive",
		Doc:  "the SUT answers its health probe at the end of the run (restarts after a crash count)",
	},
	{
		Name: "host-responsive",
		Doc: "the clinician's screen in the clinical system is never blocked longer than `max_block` by the integration, " +
			"with at most `max_freezes` hook calls over the UI budget and `max_unsafe` answers a real host could crash on",
		Params:    []string{"max_block", "max_freezes", "max_unsafe"},
		Required:  []string{"max_block"},
		Workloads: []string{"order-imaging"},
	},
	{
		Name:      "ordering-continues",
		Doc:       "every order the clinician places is signed, with or without decision support: a failing CDS service never loses an order",
		Workloads: []string{"order-imaging"},
	},
	{
		Name: "no-lost-results",
		Doc: "every pathology result the SUT acknowledged with AA reaches the practice's MESH mailbox by `within` " +
			"after the later of its ACK and the last fault's end",
		Params:    []string{"within"},
		Required:  []string{"within"},
		Workloads: []string{"lab-results"},
	},
	{
		Name:      "no-duplicate-results",
		Doc:       "no pathology result reaches the practice twice, by MESH local id / Bundle identifier or by clinical content",
		Workloads: []string{"lab-results"},
	},
	{
		Name: "ack-integrity",
		Doc: "every AA the SUT sent stands for a result durably passed on to MESH, and no ACK arrived for the wrong " +
			"message while another was in flight",
		Workloads: []string{"lab-results"},
	},
	{
		Name:      "per-patient-order",
		Doc:       "each patient's results reach the practice in the order the lab sent them",
		Workloads: []string{"lab-results"},
	},
	{
		Name: "mesh-acknowledged",
		Doc: "every message delivered into the SUT's MESH mailbox is downloaded and acknowledged by the SUT by `within` " +
			"after the later of its delivery and the last fault's end",
		Params:    []string{"within"},
		Required:  []string{"within"},
		Workloads: []string{"mesh-inbound"},
	},
}

// Checks lists every check kind, in catalog order.
func Checks() []CheckKind {
	out := make([]CheckKind, len(checkTable))
	for i, k := range checkTable {
		out[i] = k.clone()
	}
	return out
}

// LookupCheck finds a check kind by name.
func LookupCheck(name string) (CheckKind, bool) {
	for _, k := range checkTable {
		if k.Name == name {
			return k.clone(), true
		}
	}
	return CheckKind{}, false
}

func checkNames() []string {
	names := make([]string, len(checkTable))
	for i, k := range checkTable {
		names[i] = k.Name
	}
	return names
}

// WorkloadKind describes one clinical journey the load generator can drive.
type WorkloadKind struct {
	Name string
	Doc  string
	// Services the workload needs in the scenario's services list.
	Services []string
	// Attrs are the Load keys (YAML) this workload takes beyond the ones
	// every load entry takes (workload, rate, duration, timeout,
	// max_in_flight).
	Attrs []string
	// Inbound: the workload drives the SUT through the inbound proxy in
	// front of the SUT's own port (the pseudo-service SUTService), so
	// network faults may name `service: sut`.
	Inbound bool
}

// Takes reports whether the load key attr applies to the workload.
func (w WorkloadKind) Takes(attr string) bool {
	return slices.Contains(commonLoadKeys, attr) || slices.Contains(w.Attrs, attr)
}

func (w WorkloadKind) clone() WorkloadKind {
	w.Services = slices.Clone(w.Services)
	w.Attrs = slices.Clone(w.Attrs)
	return w
}

// commonLoadKeys are the Load keys every workload takes.
var commonLoadKeys = []string{"workload", "rate", "duration", "timeout", "max_in_flight"}

// DefaultUIBudget is how long a synchronous hook may hold the clinician's
// screen before the host counts it as a freeze, when a load entry does not
// say (ui_budget).
const DefaultUIBudget = 2 * time.Second

// DefaultACKTimeout is how long the lab waits for the SUT's HL7 ACK before
// resending a result, when a lab-results load entry does not say
// (ack_timeout).
const DefaultACKTimeout = 10 * time.Second

var workloadTable = []WorkloadKind{
	{
		Name:     "refer-patient",
		Doc:      "a GP refers a synthetic patient through the SUT, which books it in e-RS",
		Services: []string{"ers"},
	},
	{
		Name: "order-imaging",
		Doc: "a clinician orders imaging in the GP clinical system, which calls the SUT (a CDS service) " +
			"on order-select and order-sign; ui_budget is how long a hook may hold the screen before it counts as a freeze",
		Services: []string{"gpconnect"},
		Attrs:    []string{"ui_budget"},
	},
	{
		Name: "lab-results",
		Doc: "the pathology lab sends synthetic ORU^R01 results to the SUT over MLLP (through the inbound proxy, " +
			"service: sut) and waits for its ACK; ack_timeout is how long it waits before resending. The SUT " +
			"usually passes results on to the practice through MESH (services: [mesh])",
		Attrs:   []string{"ack_timeout"},
		Inbound: true,
	},
	{
		Name: "mesh-inbound",
		Doc: "messages (PATH_BS_R4_ACK business acknowledgements) are delivered into the SUT's MESH mailbox, " +
			"as if the practice had sent them; the SUT must download and acknowledge each",
		Services: []string{"mesh"},
	},
}

// InboundWorkloads lists the workloads that drive the SUT through the
// inbound proxy, in catalog order.
func InboundWorkloads() []string {
	var names []string
	for _, w := range workloadTable {
		if w.Inbound {
			names = append(names, w.Name)
		}
	}
	return names
}

// SUTService is the pseudo-service that names the inbound proxy in front
// of the SUT's own port (for lab-results, its MLLP listener): the only
// place it may appear is the service of a network fault (a toxic or down),
// and only when a load entry drives a workload through that proxy
// (WorkloadKind.Inbound). It is not a mock and is never listed in services.
const SUTService = "sut"

// Workloads lists the workload names, in catalog order.
func Workloads() []string {
	names := make([]string, len(workloadTable))
	for i, w := range workloadTable {
		names[i] = w.Name
	}
	return names
}

// LookupWorkload finds a workload by name.
func LookupWorkload(name string) (WorkloadKind, bool) {
	for _, w := range workloadTable {
		if w.Name == name {
			return w.clone(), true
		}
	}
	return WorkloadKind{}, false
}

// ServiceKind describes one mocked dependency.
type ServiceKind struct {
	Name string
	Doc  string
	// Operations are the names in-band faults may restrict themselves to
	// (`operations: [...]`).
	Operations []string
	// Tenants, when not empty, says what a tenant is for this service's
	// mock (whose ODS code tells requests apart); in-band faults may then
	// restrict themselves to tenants (`ods: [...]`). Empty: the mock does
	// not tell tenants apart and `ods` does not apply.
	Tenants string
	// Options are the settings the scenario may give the mock under
	// `service_options: {<service>: {...}}`.
	Options []ServiceOption
}

// OptionType is how a service option's value is written and checked.
type OptionType string

const (
	// OptionCount is a whole number within [Min, Max].
	OptionCount OptionType = "count"
	// OptionFraction is a number from 0 to 1.
	OptionFraction OptionType = "fraction"
	// OptionBytes is a whole number of bytes within [Min, Max].
	OptionBytes OptionType = "bytes"
	// OptionDuration is a Go duration ("5s", "1m30s") within [Min, Max]
	// nanoseconds; Max 0 means no upper bound. Its canonical text is
	// time.Duration.String().
	OptionDuration OptionType = "duration"
)

// ServiceOption is one setting of a mock. Values are kept as the text of
// the YAML scalar (Scenario.ServiceOptions); Parse checks them against Type.
type ServiceOption struct {
	Name string
	Doc  string
	Type OptionType
	// Min and Max bound counts and bytes (inclusive).
	Min, Max int64
	// Default is the value the stack uses when the option is not given, as
	// text; empty means the mock's own default.
	Default string
	// Needs names another option of the same service that must be given
	// (and non-zero) for this one to have any effect.
	Needs string
	// Example is a value for hints.
	Example string
}

// Option finds the service's option by name.
func (k ServiceKind) Option(name string) (ServiceOption, bool) {
	for _, o := range k.Options {
		if o.Name == name {
			return o, true
		}
	}
	return ServiceOption{}, false
}

// OptionNames lists the service's option names, in catalog order.
func (k ServiceKind) OptionNames() []string {
	names := make([]string, len(k.Options))
	for i, o := range k.Options {
		names[i] = o.Name
	}
	return names
}

func (k ServiceKind) clone() ServiceKind {
	k.Operations = slices.Clone(k.Operations)
	k.Options = slices.Clone(k.Options)
	return k
}

// DefaultLargeRecordBytes is the size of a large GP Connect structured
// record when a scenario asks for large records without saying how large.
const DefaultLargeRecordBytes = 3_000_000

var serviceTable = []ServiceKind{
	{
		Name:       "ers",
		Doc:        "NHS e-Referral Service (FHIR), stateful mock",
		Operations: []string{"createReferral", "readReferral", "fetchWorklist", "cancelReferral", "practitionerRole"},
	},
	{
		Name: "gpconnect",
		Doc:  "the GP clinical system: a GP Connect provider (FHIR STU3) and the CDS Hooks host that calls the SUT",
		Operations: []string{"metadata", "searchPatient", "readPatient", "readOrganization", "readPractitioner",
			"readLocation", "getStructuredRecord", "searchSlot", "readAppointment", "bookAppointment",
			"amendAppointment", "cancelAppointment", "searchPatientAppointments", "jwks"},
		Tenants: "the GP practice whose record a request is for, by its ODS code",
		Options: []ServiceOption{
			{
				Name: "patients", Type: OptionCount, Min: 1, Max: 100_000, Example: "50",
				Doc: "how many synthetic patients the practice has; the workload orders for them, so patients repeat",
			},
			{
				Name: "large_records", Type: OptionFraction, Example: "0.2",
				Doc: "the fraction of patients whose structured record is large, chosen from the seed",
			},
			{
				Name: "large_record_bytes", Type: OptionBytes, Min: 1024, Max: 64 << 20, Example: "3000000",
				Default: strconv.Itoa(DefaultLargeRecordBytes), Needs: "large_records",
				Doc: "the size of a large structured record in bytes",
			},
		},
	},
	{
		Name: "mesh",
		Doc:  "NHS MESH (Message Exchange for Social Care and Health): the SUT's mailbox and the practice's",
		Operations: []string{"handshake", "listInbox", "download", "downloadChunk", "acknowledge", "send",
			"sendChunk", "tracking"},
		Tenants: "the mailbox a request is for, by its mailbox id (the id in the request path, e.g. X26SUT01)",
		Options: []ServiceOption{
			{
				Name: "delivery_delay", Type: OptionDuration, Min: 0, Max: int64(time.Hour), Example: "5s",
				Doc: "how long a sent message waits before it appears in the recipient's inbox",
			},
		},
	},
}

// Services lists the service names, in catalog order.
func Services() []string {
	names := make([]string, len(serviceTable))
	for i, s := range serviceTable {
		names[i] = s.Name
	}
	return names
}

// LookupService finds a service by name.
func LookupService(name string) (ServiceKind, bool) {
	for _, s := range serviceTable {
		if s.Name == name {
			return s.clone(), true
		}
	}
	return ServiceKind{}, false
}

// Phases of a run that checks can be restricted to. A "fault-N" phase is
// the window of the N-th (1-based) timeline step.
const (
	PhaseAll          = "all"
	PhaseSteady       = "steady"        // outside every fault window
	PhaseBeforeFaults = "before-faults" // before the first fault starts
	PhaseDuringFaults = "during-faults" // inside any fault window
	PhaseAfterFaults  = "after-faults"  // after the last fault ends
	phaseFaultPrefix  = "fault-"
)

// Phases lists the phase names; "fault-N" stands for fault-1, fault-2, ...
func Phases() []string {
	return []string{PhaseAll, PhaseSteady, PhaseBeforeFaults, PhaseDuringFaults, PhaseAfterFaults, phaseFaultPrefix + "N"}
}

// PhaseFault returns N for a phase "fault-N" (N ≥ 1, written without a
// sign or leading zeros), and false for every other phase.
func PhaseFault(phase string) (int, bool) {
	num, ok := strings.CutPrefix(phase, phaseFaultPrefix)
	if !ok || num == "" || num[0] < '1' || num[0] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// ValidPhase reports whether phase names a phase of this scenario: one of
// the fixed phases, or fault-N for an N that exists in the timeline.
func (s *Scenario) ValidPhase(phase string) bool {
	switch phase {
	case PhaseAll, PhaseSteady, PhaseBeforeFaults, PhaseDuringFaults, PhaseAfterFaults:
		return true
	}
	n, ok := PhaseFault(phase)
	return ok && n <= len(s.Timeline)
}

// Phases lists the concrete phases of this scenario, fault-N expanded.
func (s *Scenario) Phases() []string {
	out := []string{PhaseAll, PhaseSteady, PhaseBeforeFaults, PhaseDuringFaults, PhaseAfterFaults}
	for i := range s.Timeline {
		out = append(out, fmt.Sprintf("%s%d", phaseFaultPrefix, i+1))
	}
	return out
}
