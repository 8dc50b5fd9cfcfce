package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// The CDS services the order-imaging workload calls, and what it records.
const (
	// ServiceOrderSelect is the CDS service called on order-select.
	ServiceOrderSelect = "imaging-order-select"
	// ServiceOrderSign is the CDS service called on order-sign.
	ServiceOrderSign = "imaging-order-sign"
	// ActionOrder is the Action of an order-imaging operation.
	ActionOrder = "order"
	// KeyOrderID is the correlation key of the draft order
	// (ServiceRequest id).
	KeyOrderID = "order_id"
	// Journal kinds the workload records in the clinical mock's journal.
	KindOrderSigned    = "order.signed"
	KindOrderAbandoned = "order.abandoned"
	// DefaultUserID is the clinician placing the orders.
	DefaultUserID = "Practitioner/shakedown-gp"
	// DefaultUIBudget is how long one hook may hold the screen before it
	// counts as a freeze, when neither the config nor the host says.
	DefaultUIBudget = 2 * time.Second
)

// Why an order was abandoned (the "reason" attribute of order.abandoned).
const (
	// ReasonUnsafe: a hook answered with something a real host could crash
	// on; the clinical system would have gone down with the order.
	ReasonUnsafe = "unsafe"
	// ReasonGaveUp: the clinician's patience (the operation's timeout) ran
	// out before the order could be signed.
	ReasonGaveUp = "gave-up"
)

// HookHost is the part of the clinical system's CDS Hooks host the
// workload drives. *cdshooks.Host implements it.
type HookHost interface {
	Invoke(ctx context.Context, req cdshooks.Request) cdshooks.Call
	Feedback(ctx context.Context, serviceID string, fb cdshooks.Feedback) error
}

var _ HookHost = (*cdshooks.Host)(nil)

// ImagingOrder is one imaging request a clinician may place: the
// procedure and the reason for it.
type ImagingOrder struct {
	Procedure, Reason cdshooks.Coding
}

// Code systems of the illustrative codings.
const (
	systemSNOMED = "http://snomed.info/sct"
	systemCPT    = "http://www.ama-assn.org/go/cpt"
)

// imagingOrders is the catalogue orders are drawn from. The codes are
// illustrative, in the style of the Argonaut PAMA examples (CPT procedure
// codes, SNOMED CT procedures and indications); the displays carry the words
// a rule-based CDS service matches on. Two have decision-support rules in
// examples/imaging-cds (lumbar spine, CT head); the others get "no guidelines
// apply", as many real orders do.
var imagingOrders = []ImagingOrder{
	{
		Procedure: cdshooks.Coding{System: systemCPT, Code: "72148", Display: "MRI lumbar spine"},
		Reason:    cdshooks.Coding{System: systemSNOMED, Code: "279039007", Display: "Low back pain"},
	},
	{
		Procedure: cdshooks.Coding{System: systemSNOMED, Code: "303653007", Display: "CT head"},
		Reason:    cdshooks.Coding{System: systemSNOMED, Code: "25064002", Display: "Headache"},
	},
	{
		Procedure: cdshooks.Coding{System: systemCPT, Code: "71046", Display: "Chest X-ray"},
		Reason:    cdshooks.Coding{System: systemSNOMED, Code: "49727002", Display: "Cough"},
	},
	{
		Procedure: cdshooks.Coding{System: systemCPT, Code: "73721", Display: "MRI knee"},
		Reason:    cdshooks.Coding{System: systemSNOMED, Code: "30989003", Display: "Knee pain"},
	},
}

// ImagingOrders returns the catalogue the workload draws orders from.
func ImagingOrders() []ImagingOrder { return slices.Clone(imagingOrders) }

// OrderImagingConfig configures the order-imaging workload.
type OrderImagingConfig struct {
	// Host is the clinical system's CDS Hooks host. Required.
	Host HookHost
	// Patients are the practice's patients (the clinical mock's). Orders
	// pick from them by a seeded choice, so patients repeat, as they do in
	// a real practice. Required.
	Patients []synthetic.Patient
	// Seed makes every choice reproducible: patient, order, ids and what
	// the clinician does with a card.
	Seed uint64
	// Clock is the run clock (default: a new clock, only sensible in
	// tests).
	Clock *record.Clock
	// Journal is the clinical mock's journal, in which the workload records
	// order.signed and order.abandoned (keys nhs_number and order_id). Nil
	// records nothing.
	Journal *journal.Journal
	// Budget is how long one hook may hold the screen before it counts as a
	// freeze (the scenario's ui_budget). Zero uses the budget each call
	// reports (the host's), or DefaultUIBudget.
	Budget time.Duration
	// UserID is the clinician (default DefaultUserID).
	UserID string
}

// OrderImaging is the order-imaging workload: per arrival a clinician
// opens a patient's record in the GP clinical system and orders imaging.
// The host fires order-select at ServiceOrderSelect when the order is
// chosen, then order-sign at ServiceOrderSign when it is signed, each time
// waiting (screen blocked) for the SUT's cards. Then the order is signed,
// unless
//
//   - a hook answered with something a real host could crash on (invalid
//     JSON, wrong types, an oversized body): the clinical system would have
//     gone down, and the order with it; or
//   - the clinician's patience (the operation's timeout, ctx) ran out.
//
// Decision support failing (an error or timeout) does not stop the order: it
// is signed without decision support (HostView.CDSFailed). When order-sign
// returned cards, the clinician's response to the first one is sent as
// feedback (accepted or overridden, chosen from the seed) after signing; it
// does not count towards the time the screen was blocked.
//
// The operation is OK when the order was signed, Fail otherwise, with the
// host's view in Operation.Host. It is safe for concurrent use.
type OrderImaging struct {
	host     HookHost
	patients []synthetic.Patient
	seed     uint64
	clock    *record.Clock
	journal  *journal.Journal
	budget   time.Duration
	userID   string
}

var _ Workload = (*OrderImaging)(nil)

// NewOrderImaging returns the workload. It fails when cfg has no host or no
// patients.
func NewOrderImaging(cfg OrderImagingConfig) (*OrderImaging, error) {
	var errs []error
	if cfg.Host == nil {
		errs = append(errs, errors.New("no CDS Hooks host: build one from the clinical mock (cdshooks.NewHost) and pass it as Host"))
	}
	if len(cfg.Patients) == 0 {
		errs = append(errs, errors.New("no patients to order for: pass the clinical mock's Patients()"))
	}
	if cfg.Budget < 0 {
		errs = append(errs, fmt.Errorf("the UI budget must not be negative, got %s", cfg.Budget))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("order-imaging workload: %w", errors.Join(errs...))
	}
	w := &OrderImaging{
		host:     cfg.Host,
		patients: slices.Clone(cfg.Patients),
		seed:     cfg.Seed,
		clock:    cfg.Clock,
		journal:  cfg.Journal,
		budget:   cfg.Budget,
		userID:   orDefault(cfg.UserID, DefaultUserID),
	}
	if w.clock == nil {
		w.clock = record.NewClock(nil)
	}
	return w, nil
}

// Name is the workload's name in scenarios.
func (w *OrderImaging) Name() string { return "order-imaging" }

// Salts that give each stream of ids its own seed.
const (
	saltChoice   = 0x0c401ce
	saltOrder    = 0x0de45
	saltInstance = 0x1457a
)

// orderPlan is everything arrival n does, drawn from the seed.
type orderPlan struct {
	patient  synthetic.Patient
	order    ImagingOrder
	orderID  string
	accept   bool
	instance [2]string // hook instances of order-select and order-sign
}

// plan draws arrival n's choices. Each arrival has its own generator, so
// the choices do not depend on the order goroutines run in.
func (w *OrderImaging) plan(n uint64) orderPlan {
	rng := rand.New(rand.NewPCG(splitmix64(w.seed^saltChoice), n))
	return orderPlan{
		patient:  w.patients[rng.IntN(len(w.patients))],
		order:    imagingOrders[rng.IntN(len(imagingOrders))],
		accept:   rng.IntN(2) == 0,
		orderID:  RequestID(w.seed^saltOrder, n),
		instance: [2]string{RequestID(w.seed^saltInstance, 2*n), RequestID(w.seed^saltInstance, 2*n+1)},
	}
}

// Iterate places the order of arrival a through the host.
func (w *OrderImaging) Iterate(ctx context.Context, a Arrival) record.Operation {
	p := w.plan(a.N)
	host := &record.HostView{}
	op := record.Operation{
		Action: ActionOrder,
		Keys: map[string]string{
			record.KeyNHSNumber: p.patient.NHSNumber,
			KeyOrderID:          p.orderID,
		},
		Host: host,
	}

	op.Call = w.clock.Now()
	var sign *cdshooks.Call
	var unsafe *cdshooks.Call
	hooks := []struct{ hook, service string }{
		{cdshooks.HookOrderSelect, ServiceOrderSelect},
		{cdshooks.HookOrderSign, ServiceOrderSign},
	}
	for i, h := range hooks {
		call := w.host.Invoke(ctx, cdshooks.Request{
			Hook:         h.hook,
			ServiceID:    h.service,
			HookInstance: p.instance[i],
			Context: cdshooks.DraftImagingOrder(h.hook, p.patient.NHSNumber, w.userID, p.orderID,
				p.order.Procedure, p.order.Reason),
		})
		hc := w.hookCall(call)
		host.Hooks = append(host.Hooks, hc)
		host.Blocked += call.Blocked
		if hc.Freeze {
			host.Freezes++
		}
		op.Status = call.Status
		switch call.Outcome {
		case cdshooks.OutcomeCards, cdshooks.OutcomeNoCards:
		case cdshooks.OutcomeUnsafe:
			host.CDSFailed = true
			host.Unsafe = append(host.Unsafe, unsafeLine(call))
		default:
			host.CDSFailed = true
		}
		if call.Outcome == cdshooks.OutcomeUnsafe {
			unsafe = &call
			break // a real host would have crashed here, order and all
		}
		if ctx.Err() != nil {
			break // the clinician gave up
		}
		if h.hook == cdshooks.HookOrderSign {
			sign = &call
		}
	}
	host.Signed = unsafe == nil && ctx.Err() == nil
	op.Return = w.clock.Now()

	attrs := map[string]string{
		"procedure":  p.order.Procedure.Display,
		"blocked_ms": strconv.FormatInt(host.Blocked.Milliseconds(), 10),
		"cds_failed": strconv.FormatBool(host.CDSFailed),
	}
	switch {
	case host.Signed:
		op.Outcome = record.OK
		w.record(KindOrderSigned, op.Keys, attrs)
		if sign != nil {
			if err := w.feedback(ctx, p, sign); err != nil {
				op.Error = "signed, but sending feedback failed: " + err.Error()
			}
		}
	case unsafe != nil:
		op.Outcome = record.Fail
		op.Error = fmt.Sprintf("order lost: the %s answer was unsafe (%s), which a real clinical system could crash on",
			unsafe.Hook, unsafe.Unsafe)
		attrs["reason"] = ReasonUnsafe
		w.record(KindOrderAbandoned, op.Keys, attrs)
	default:
		op.Outcome = record.Fail
		op.Error = fmt.Sprintf("the clinician gave up waiting after %s, before the order was signed: %v",
			(op.Return - op.Call).Round(time.Millisecond), context.Cause(ctx))
		attrs["reason"] = ReasonGaveUp
		w.record(KindOrderAbandoned, op.Keys, attrs)
	}
	return op
}

// hookCall is the record of one hook call, judged against the UI budget.
func (w *OrderImaging) hookCall(c cdshooks.Call) record.HookCall {
	budget := w.budget
	if budget <= 0 {
		budget = c.Budget
	}
	if budget <= 0 {
		budget = DefaultUIBudget
	}
	hc := record.HookCall{
		Hook:    c.Hook,
		Service: c.Service,
		Blocked: c.Blocked,
		Status:  c.Status,
		Budget:  budget,
		Freeze:  c.Blocked > budget,
		Cards:   len(c.Response.Cards),
		Outcome: c.Outcome,
	}
	if c.Err != nil {
		hc.Error = c.Err.Error()
	}
	return hc
}

// unsafeLine describes an unsafe answer for HostView.Unsafe: its kind
// first ("invalid-json (order-select): …"), so reviewers and checks can
// group them.
func unsafeLine(c cdshooks.Call) string {
	s := fmt.Sprintf("%s (%s)", c.Unsafe, c.Hook)
	if len(c.Problems) > 0 {
		s += ": " + c.Problems[0].String()
	}
	return s
}

// feedback tells the order-sign service what the clinician did with its
// first card: accepted its first suggestion, or overrode it.
func (w *OrderImaging) feedback(ctx context.Context, p orderPlan, sign *cdshooks.Call) error {
	if len(sign.Response.Cards) == 0 {
		return nil
	}
	card := sign.Response.Cards[0]
	if card.UUID == "" {
		return nil // a card without a uuid cannot be given feedback
	}
	fb := cdshooks.Feedback{Card: card.UUID, Outcome: cdshooks.OutcomeOverridden}
	if i := slices.IndexFunc(card.Suggestions, func(s cdshooks.Suggestion) bool { return s.UUID != "" }); p.accept && i >= 0 {
		fb.Outcome = cdshooks.OutcomeAccepted
		fb.AcceptedSuggestions = []cdshooks.AcceptedSuggestion{{ID: card.Suggestions[i].UUID}}
	} else {
		reason := &cdshooks.OverrideReason{UserComment: "clinical judgement: proceeding with the order"}
		if len(card.OverrideReasons) > 0 {
			reason.Reason = &card.OverrideReasons[0]
		}
		fb.OverrideReason = reason
	}
	return w.host.Feedback(ctx, ServiceOrderSign, fb) // the host stamps the time
}

func (w *OrderImaging) record(kind string, keys, attrs map[string]string) {
	if w.journal == nil {
		return
	}
	// A journal that cannot be written loses only this entry; the
	// operation itself still says what happened.
	_, _ = w.journal.Record(kind, keys, attrs)
}
