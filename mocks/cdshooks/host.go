package cdshooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/journal"
)

// Host defaults.
const (
	DefaultBudget      = 2 * time.Second
	DefaultHardTimeout = 30 * time.Second
)

// Call outcomes.
const (
	OutcomeCards   = "cards"    // 200 with at least one card
	OutcomeNoCards = "no-cards" // 200 with no cards (system actions may still be present)
	OutcomeError   = "error"    // refused, reset, HTTP status other than 200, cancelled by the caller
	OutcomeTimeout = "timeout"  // no full answer within HardTimeout
	OutcomeUnsafe  = "unsafe"   // 200 with a body a real host could crash on
)

// Journal entry kinds.
const (
	KindDiscovered = "cds.discovered"
	KindInvoked    = "cds.invoked"
	KindUnsafe     = "cds.unsafe"
	KindProblems   = "cds.problems"
	KindFeedback   = "cds.feedback"
)

// HostConfig configures the CDS Hooks host (client) model.
type HostConfig struct {
	ServiceBase      string        // the CDS service's discovery endpoint, e.g. http://127.0.0.1:PORT/cds-services
	FHIRServer       string        // sent as fhirServer (the GP Connect base URL through the proxy); omitted when empty
	Issuer           string        // JWT iss (required)
	JWKSURL          string        // JWT jku (where the service fetches the host's keys); omitted when empty
	Signer           *Signer       // required
	Client           *http.Client  // default: a client with no timeout of its own (HardTimeout bounds every call)
	Budget           time.Duration // synchronous UI budget per hook; default 2s
	HardTimeout      time.Duration // the host stops waiting; default 30s
	MaxResponseBytes int64         // default 1 MiB
	Journal          *journal.Journal
	Now              func() time.Time // JWT iat/exp and feedback timestamps; durations use the monotonic clock
	Logger           *slog.Logger
	// Prefetch, when set, answers the prefetch templates a service declared
	// in discovery (after {{context.x}} tokens are replaced), as the host
	// reads its own record; the answers are sent as the request's prefetch.
	// Time spent here is the host's own, not counted as blocked by the
	// service. A query it cannot answer is left out: the service must then
	// fetch the data itself (CDS Hooks 1.0 §prefetch).
	Prefetch PrefetchFunc
}

// Host is a well-behaved CDS Hooks host: it signs every call, never waits
// longer than HardTimeout, reads bounded bodies, validates what it gets and
// journals everything it saw, including how long the clinician's screen was
// blocked.
type Host struct {
	cfg  HostConfig
	base string // ServiceBase without a trailing slash

	mu       sync.Mutex
	services []Service // nil until the first successful discovery
}

// NewHost checks cfg and fills in defaults. A nil Journal gets a fresh one
// for service "cdshooks-host" (see Host.Journal).
func NewHost(cfg HostConfig) (*Host, error) {
	var errs []error
	u, err := url.Parse(cfg.ServiceBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("ServiceBase %q is not an absolute http(s) URL", cfg.ServiceBase))
	}
	if cfg.Signer == nil {
		errs = append(errs, errors.New("Signer is required (CDS Hooks hosts sign every call)"))
	}
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("Issuer is required (the JWT iss)"))
	}
	if cfg.Budget < 0 || cfg.HardTimeout < 0 || cfg.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("Budget, HardTimeout and MaxResponseBytes must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cdshooks: host config: %w", errors.Join(errs...))
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Budget == 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.HardTimeout == 0 {
		cfg.HardTimeout = DefaultHardTimeout
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Journal == nil {
		cfg.Journal = journal.New("cdshooks-host", nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Host{cfg: cfg, base: strings.TrimRight(cfg.ServiceBase, "/")}, nil
}

// Journal returns the journal host events are recorded in.
func (h *Host) Journal() *journal.Journal { return h.cfg.Journal }

// Budget returns the synchronous UI budget in force.
func (h *Host) Budget() time.Duration { return h.cfg.Budget }

// ServiceURL returns the endpoint of service id (also the JWT aud for it).
func (h *Host) ServiceURL(id string) string { return h.base + "/" + url.PathEscape(id) }

// Discover GETs ServiceBase and returns the services it lists. The first
// successful answer is cached; failures are not. Errors say what was wrong.
func (h *Host) Discover(ctx context.Context) ([]Service, error) {
	h.mu.Lock()
	cached := h.services
	h.mu.Unlock()
	if cached != nil {
		return append([]Service(nil), cached...), nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.HardTimeout)
	defer cancel()
	status, body, err := h.do(ctx, http.MethodGet, h.base, nil)
	if err != nil {
		return nil, fmt.Errorf("cdshooks: discovery GET %s: %w", h.base, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("cdshooks: discovery GET %s: HTTP %d: %s", h.base, status, snippet(body))
	}
	if int64(len(body)) > h.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("cdshooks: discovery GET %s: body larger than %d bytes", h.base, h.cfg.MaxResponseBytes)
	}
	services, err := parseDiscovery(body)
	if err != nil {
		return nil, fmt.Errorf("cdshooks: discovery GET %s: %w", h.base, err)
	}
	h.mu.Lock()
	if h.services == nil {
		h.services = services
	}
	h.mu.Unlock()
	ids := make([]string, len(services))
	for i, s := range services {
		ids[i] = s.ID
	}
	h.record(KindDiscovered, nil, map[string]string{"services": strings.Join(ids, ","), "count": strconv.Itoa(len(services))})
	return append([]Service(nil), services...), nil
}

// parseDiscovery decodes a discovery body, rejecting entries a host cannot
// call (no id or no hook). An empty list is valid.
func parseDiscovery(body []byte) ([]Service, error) {
	if !json.Valid(body) {
		return nil, fmt.Errorf("body is not valid JSON: %s", snippet(body))
	}
	var d struct {
		Services json.RawMessage `json:"services"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %s", snippet(body))
	}
	if len(d.Services) == 0 || isNull(d.Services) {
		return nil, errors.New(`body has no "services" array`)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(d.Services, &raws); err != nil {
		return nil, fmt.Errorf(`"services" is %s, not an array`, kindOf(d.Services))
	}
	services := make([]Service, 0, len(raws))
	var errs []error
	seen := map[string]bool{}
	for i, raw := range raws {
		var s Service
		if err := json.Unmarshal(raw, &s); err != nil {
			errs = append(errs, fmt.Errorf("services[%d]: %v", i, err))
			continue
		}
		if s.ID == "" {
			errs = append(errs, fmt.Errorf("services[%d]: no id", i))
		}
		if s.Hook == "" {
			errs = append(errs, fmt.Errorf("services[%d]: no hook", i))
		}
		if seen[s.ID] {
			errs = append(errs, fmt.Errorf("services[%d]: duplicate id %q", i, s.ID))
		}
		seen[s.ID] = true
		services = append(services, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return services, nil
}

// Invoke fires a hook at a service and measures how long the clinician's
// screen waited for it. It never returns before the answer is fully read,
// the call fails, or HardTimeout passes, and it never blocks longer than that.
func (h *Host) Invoke(ctx context.Context, req Request) Call {
	call := Call{Hook: req.Hook, Service: req.ServiceID, Budget: h.cfg.Budget, HookInstance: req.HookInstance}
	if call.Hook == "" {
		call.Hook = h.cachedHook(req.ServiceID)
	}
	if call.HookInstance == "" {
		call.HookInstance, _ = newUUID()
	}
	var err error
	switch {
	case req.ServiceID == "":
		err = errors.New("request has no service id")
	case call.Hook == "":
		err = fmt.Errorf("request for service %q has no hook and the service has not been discovered", req.ServiceID)
	}
	endpoint := h.ServiceURL(req.ServiceID)
	var hr *http.Request
	if err == nil {
		rc := req.Context
		if rc == nil {
			rc = map[string]any{}
		}
		prefetch := req.Prefetch
		if prefetch == nil && h.cfg.Prefetch != nil {
			prefetch = h.prefetch(ctx, req.ServiceID, rc)
		}
		var payload []byte
		if payload, err = json.Marshal(requestBody{Hook: call.Hook, HookInstance: call.HookInstance, FHIRServer: h.cfg.FHIRServer, Context: rc, Prefetch: prefetch}); err == nil {
			hr, err = h.newRequest(ctx, http.MethodPost, endpoint, payload)
		}
	}
	if err != nil {
		call.Outcome, call.Err = OutcomeError, fmt.Errorf("cdshooks: invoke: %w", err)
		h.journalCall(&call, req)
		return call
	}

	// The screen is blocked from just before sending until the body is read
	// (or HardTimeout, counted from the same instant).
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, h.cfg.HardTimeout, errHardTimeout)
	defer cancel()
	status, body, err := h.send(hr.WithContext(ctx))
	call.Blocked = time.Since(start)
	call.Status = status
	call.Freeze = call.Blocked > call.Budget

	switch {
	case err != nil && errors.Is(context.Cause(ctx), errHardTimeout):
		call.Outcome = OutcomeTimeout
		call.Err = fmt.Errorf("cdshooks: POST %s: no answer within %s", endpoint, h.cfg.HardTimeout)
	case err != nil:
		call.Outcome, call.Err = OutcomeError, fmt.Errorf("cdshooks: POST %s: %w", endpoint, err)
	case status != http.StatusOK:
		call.Outcome, call.Err = OutcomeError, fmt.Errorf("cdshooks: POST %s: HTTP %d: %s", endpoint, status, snippet(body))
	default:
		resp, problems, unsafe := ValidateResponse(body, h.cfg.MaxResponseBytes)
		call.Response, call.Problems, call.Unsafe = resp, problems, unsafe
		switch {
		case unsafe != "":
			call.Outcome = OutcomeUnsafe
			call.Err = fmt.Errorf("cdshooks: POST %s: unsafe response (%s): %s", endpoint, unsafe, joinProblems(problems, 3))
		case len(resp.Cards) > 0:
			call.Outcome = OutcomeCards
		default:
			call.Outcome = OutcomeNoCards
		}
	}
	h.journalCall(&call, req)
	return call
}

// errHardTimeout is the cause of a call's context ending at HardTimeout, as
// opposed to the caller's own context ending.
var errHardTimeout = errors.New("cds hooks host hard timeout")

// Call is what the host saw of one hook invocation.
type Call struct {
	Hook, Service string
	HookInstance  string
	Blocked       time.Duration // how long the screen waited (until the answer, the error, or HardTimeout)
	Budget        time.Duration
	Freeze        bool // Blocked > Budget
	Status        int  // HTTP status; 0 when there was none
	Outcome       string
	Unsafe        string
	Problems      []Problem
	Response      Response
	Err           error
}

// PrefetchFunc answers one prefetch query, a FHIR read or search relative
// to the host's FHIR server with its template tokens already replaced.
type PrefetchFunc func(ctx context.Context, query string) (any, error)

// prefetchToken is a {{context.name}} token in a prefetch template.
var prefetchToken = regexp.MustCompile(`\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}`)

// prefetch resolves the service's prefetch templates against the hook
// context. It discovers the services first if they are not known yet.
// Templates with tokens the context cannot fill, and queries the host
// cannot answer, are left out; nil when nothing could be prefetched.
func (h *Host) prefetch(ctx context.Context, serviceID string, hookContext map[string]any) map[string]any {
	templates := h.cachedPrefetch(serviceID)
	if templates == nil {
		if _, err := h.Discover(ctx); err != nil {
			return nil
		}
		templates = h.cachedPrefetch(serviceID)
	}
	out := map[string]any{}
	for key, tmpl := range templates {
		missing := false
		query := prefetchToken.ReplaceAllStringFunc(tmpl, func(tok string) string {
			name := prefetchToken.FindStringSubmatch(tok)[1]
			v, ok := hookContext[name].(string)
			if !ok || v == "" {
				missing = true
			}
			return v
		})
		if missing {
			continue
		}
		v, err := h.cfg.Prefetch(ctx, query)
		if err != nil {
			h.cfg.Logger.Debug("prefetch not answered", "service", serviceID, "key", key, "query", query, "err", err)
			continue
		}
		out[key] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (h *Host) cachedPrefetch(id string) map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.services {
		if s.ID == id {
			if s.Prefetch == nil {
				return map[string]string{}
			}
			return s.Prefetch
		}
	}
	return nil
}

func (h *Host) cachedHook(id string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.services {
		if s.ID == id {
			return s.Hook
		}
	}
	return ""
}

func (h *Host) journalCall(c *Call, req Request) {
	keys := map[string]string{"hook_instance": c.HookInstance}
	if p, ok := req.Context["patientId"].(string); ok && p != "" {
		keys["patient_id"] = p
	}
	attrs := map[string]string{
		"hook":           c.Hook,
		"service":        c.Service,
		"status":         strconv.Itoa(c.Status),
		"blocked_ms":     strconv.FormatInt(c.Blocked.Milliseconds(), 10),
		"budget_ms":      strconv.FormatInt(c.Budget.Milliseconds(), 10),
		"outcome":        c.Outcome,
		"freeze":         strconv.FormatBool(c.Freeze),
		"cards":          strconv.Itoa(len(c.Response.Cards)),
		"system_actions": strconv.Itoa(len(c.Response.SystemActions)),
	}
	if c.Err != nil {
		attrs["error"] = c.Err.Error()
	}
	h.record(KindInvoked, keys, attrs)
	log := h.cfg.Logger.With("hook", c.Hook, "service", c.Service, "outcome", c.Outcome, "blocked", c.Blocked, "freeze", c.Freeze)
	switch {
	case c.Unsafe != "":
		h.record(KindUnsafe, keys, map[string]string{"hook": c.Hook, "service": c.Service, "unsafe": c.Unsafe, "detail": joinProblems(c.Problems, 3)})
		log.Warn("cds hooks: unsafe response", "unsafe", c.Unsafe, "detail", joinProblems(c.Problems, 3))
	case len(c.Problems) > 0:
		h.record(KindProblems, keys, map[string]string{"hook": c.Hook, "service": c.Service, "count": strconv.Itoa(len(c.Problems)), "problems": joinProblems(c.Problems, 10)})
		log.Info("cds hooks: response problems", "count", len(c.Problems))
	case c.Err != nil:
		log.Warn("cds hooks: call failed", "err", c.Err)
	default:
		log.Debug("cds hooks: call answered")
	}
}

func (h *Host) record(kind string, keys, attrs map[string]string) {
	if _, err := h.cfg.Journal.Record(kind, keys, attrs); err != nil {
		h.cfg.Logger.Error("cds hooks: journal write failed", "kind", kind, "err", err)
	}
}

// newRequest builds one signed request; the JWT's aud is the endpoint.
func (h *Host) newRequest(ctx context.Context, method, endpoint string, payload []byte) (*http.Request, error) {
	token, err := h.cfg.Signer.Token(h.cfg.Issuer, endpoint, h.cfg.JWKSURL, h.cfg.Now())
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	hr.Header.Set("Accept", "application/json")
	if payload != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	return hr, nil
}

// send sends hr and reads at most MaxResponseBytes+1 of the answer. It
// returns the status even when reading the body failed.
func (h *Host) send(hr *http.Request) (int, []byte, error) {
	resp, err := h.cfg.Client.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, h.cfg.MaxResponseBytes+1))
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("reading the body after %d bytes: %w", len(b), err)
	}
	return resp.StatusCode, b, nil
}

// do builds, signs and sends one request.
func (h *Host) do(ctx context.Context, method, endpoint string, payload []byte) (int, []byte, error) {
	hr, err := h.newRequest(ctx, method, endpoint, payload)
	if err != nil {
		return 0, nil, err
	}
	return h.send(hr)
}

// Feedback POSTs {base}/{id}/feedback with one feedback entry. Outcome must
// be accepted (with at least one accepted suggestion) or overridden. A zero
// OutcomeTimestamp is set to Now; it is sent in UTC.
func (h *Host) Feedback(ctx context.Context, serviceID string, fb Feedback) error {
	switch {
	case serviceID == "":
		return errors.New("cdshooks: feedback: no service id")
	case fb.Card == "":
		return errors.New("cdshooks: feedback: no card uuid")
	case fb.Outcome != OutcomeAccepted && fb.Outcome != OutcomeOverridden:
		return fmt.Errorf("cdshooks: feedback: outcome %q is not accepted|overridden", fb.Outcome)
	case fb.Outcome == OutcomeAccepted && len(fb.AcceptedSuggestions) == 0:
		return errors.New("cdshooks: feedback: an accepted outcome needs acceptedSuggestions")
	case fb.Outcome == OutcomeAccepted && fb.OverrideReason != nil:
		return errors.New("cdshooks: feedback: an accepted outcome has no overrideReason")
	}
	if fb.OutcomeTimestamp.IsZero() {
		fb.OutcomeTimestamp = h.cfg.Now()
	}
	fb.OutcomeTimestamp = fb.OutcomeTimestamp.UTC()
	payload, err := json.Marshal(struct {
		Feedback []Feedback `json:"feedback"`
	}{[]Feedback{fb}})
	if err != nil {
		return fmt.Errorf("cdshooks: feedback: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.HardTimeout)
	defer cancel()
	endpoint := h.ServiceURL(serviceID) + "/feedback"
	status, body, err := h.do(ctx, http.MethodPost, endpoint, payload)
	attrs := map[string]string{"service": serviceID, "card": fb.Card, "outcome": fb.Outcome, "status": strconv.Itoa(status)}
	if err == nil && (status < 200 || status > 299) {
		err = fmt.Errorf("HTTP %d: %s", status, snippet(body))
	}
	if err != nil {
		attrs["error"] = err.Error()
	}
	h.record(KindFeedback, nil, attrs)
	if err != nil {
		return fmt.Errorf("cdshooks: feedback POST %s: %w", endpoint, err)
	}
	return nil
}

func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(empty body)"
	}
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func joinProblems(ps []Problem, max int) string {
	var parts []string
	for i, p := range ps {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-max))
			break
		}
		parts = append(parts, p.String())
	}
	return strings.Join(parts, "; ")
}
