package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// CDS Hooks constants.
const (
	serviceOrderSelect = "imaging-order-select"
	serviceOrderSign   = "imaging-order-sign"
	sourceLabel        = "shakedown imaging-cds (illustrative)"
	pamaRatingURL      = "http://fhir.org/argonaut/Extension/pama-rating"
	pamaRatingSystem   = "http://fhir.org/argonaut/CodeSystem/pama-rating"
	pamaConsultIDURL   = "http://fhir.org/argonaut/Extension/pama-rating-consult-id"
	unavailableSummary = "Imaging guidance unavailable — order not rated"
	// maxHookRequest bounds an inbound hook request from the host.
	maxHookRequest = 2 << 20
)

// serviceDef is one entry of the discovery document.
type serviceDef struct {
	Hook        string            `json:"hook"`
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Prefetch    map[string]string `json:"prefetch"`
}

var services = []serviceDef{
	{
		Hook: "order-select", ID: serviceOrderSelect,
		Title:       "Imaging appropriateness (order-select)",
		Description: "Rates selected draft imaging orders (PAMA-style) against the patient's GP record. Illustrative rules only.",
		Prefetch:    map[string]string{"patient": "Patient/{{context.patientId}}"},
	},
	{
		Hook: "order-sign", ID: serviceOrderSign,
		Title:       "Imaging appropriateness (order-sign)",
		Description: "Rates draft imaging orders (PAMA-style) against the patient's GP record before signing. Illustrative rules only.",
		Prefetch:    map[string]string{"patient": "Patient/{{context.patientId}}"},
	},
}

func serviceByID(id string) (serviceDef, bool) {
	for _, s := range services {
		if s.ID == id {
			return s, true
		}
	}
	return serviceDef{}, false
}

// hookRequest is a CDS Hooks service call.
type hookRequest struct {
	Hook         string                     `json:"hook"`
	HookInstance string                     `json:"hookInstance"`
	FHIRServer   string                     `json:"fhirServer"`
	Context      hookContext                `json:"context"`
	Prefetch     map[string]json.RawMessage `json:"prefetch"`
}

type hookContext struct {
	UserID      string          `json:"userId"`
	PatientID   string          `json:"patientId"`
	EncounterID string          `json:"encounterId"`
	Selections  []string        `json:"selections"`
	DraftOrders json.RawMessage `json:"draftOrders"`
}

// card is a well-formed CDS Hooks card (resilient mode builds only these).
type card struct {
	UUID      string     `json:"uuid"`
	Summary   string     `json:"summary"`
	Detail    string     `json:"detail,omitempty"`
	Indicator string     `json:"indicator"`
	Source    cardSource `json:"source"`
}

type cardSource struct {
	Label string `json:"label"`
}

type systemAction struct {
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Resource    map[string]any `json:"resource"`
}

type hookResponse struct {
	Cards         []card         `json:"cards"`
	SystemActions []systemAction `json:"systemActions,omitempty"`
}

// draftOrder is a draft ServiceRequest from the host: as the rules see it,
// and as sent (to be returned with the rating added).
type draftOrder struct {
	order
	raw map[string]any
}

// service is the CDS service, in one mode.
type service struct {
	cfg   config
	log   *slog.Logger
	now   func() time.Time
	auth  *hostAuth
	gpc   *gpcClient
	naive bool

	// Resilient only.
	cache   *recordCache
	breaker *breaker

	hooks    atomic.Int64
	feedback atomic.Int64
	fetches  atomic.Int64 // GP Connect calls made
}

// newService builds the service. selfURL must be set (derived from the
// listen address by run when not configured).
func newService(cfg config, log *slog.Logger, now func() time.Time) *service {
	s := &service{
		cfg:   cfg,
		log:   log,
		now:   now,
		auth:  newHostAuth(cfg.jwksURL, cfg.issuer, now),
		naive: cfg.mode == modeNaive,
		gpc: &gpcClient{
			consumerASID: cfg.consumerASID,
			providerASID: cfg.providerASID,
			consumerODS:  cfg.consumerODS,
			issuer:       cfg.selfURL,
			now:          now,
		},
	}
	if s.naive {
		// No timeout at all: this is how the incident happened.
		s.gpc.http = &http.Client{}
	} else {
		// The per-hook context deadline is what bounds each call; the
		// client timeout is only a backstop.
		s.gpc.http = &http.Client{Timeout: cfg.budget}
		s.cache = newRecordCache(cfg.cacheTTL, 4096, now)
		s.breaker = newBreaker(cfg.breakerFailures, cfg.breakerCooldown, now)
	}
	return s
}

func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cds-services", s.handleDiscovery)
	mux.HandleFunc("POST /cds-services/{id}", s.handleHook)
	mux.HandleFunc("POST /cds-services/{id}/feedback", s.handleFeedback)
	mux.HandleFunc("GET /health", s.handleHealth)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *service) handleHealth(w http.ResponseWriter, _ *http.Request) {
	body := map[string]any{"status": "ok", "mode": s.cfg.mode, "hooks": s.hooks.Load(),
		"feedback": s.feedback.Load(), "gpconnectCalls": s.fetches.Load()}
	if s.breaker != nil {
		body["breaker"] = s.breaker.stateName()
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *service) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"services": services})
}

func (s *service) serviceURL(id string) string { return s.cfg.selfURL + "/cds-services/" + id }

func (s *service) handleFeedback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := serviceByID(id); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no CDS service %q", id))
		return
	}
	if _, err := s.auth.verify(r.Context(), r, s.serviceURL(id), s.serviceURL(id)+"/feedback"); err != nil {
		s.refuse(w, id, err)
		return
	}
	var fb struct {
		Feedback []struct {
			Card    string `json:"card"`
			Outcome string `json:"outcome"`
		} `json:"feedback"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxHookRequest)).Decode(&fb); err != nil {
		writeError(w, http.StatusBadRequest, "feedback body is not JSON: "+err.Error())
		return
	}
	for _, f := range fb.Feedback {
		s.feedback.Add(1)
		s.log.Info("feedback", "service", id, "card", sanitise(f.Card, 64), "outcome", sanitise(f.Outcome, 32))
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *service) refuse(w http.ResponseWriter, id string, err error) {
	s.log.Warn("host token refused", "service", id, "err", err)
	msg := "unauthorised"
	var ae *authError
	if errors.As(err, &ae) {
		msg = ae.msg
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeError(w, http.StatusUnauthorized, msg)
}

// handleHook is POST /cds-services/{id}: authenticate, decode, then rate
// in the configured mode.
func (s *service) handleHook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.hooks.Add(1)
	id := r.PathValue("id")
	def, ok := serviceByID(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no CDS service %q", id))
		return
	}
	ctx := r.Context()
	if !s.naive {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, start.Add(s.cfg.budget))
		defer cancel()
	}
	if _, err := s.auth.verify(ctx, r, s.serviceURL(id)); err != nil {
		s.refuse(w, id, err)
		return
	}
	req, orders, nhs, err := decodeHook(r, def)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	base := s.cfg.gpconnectURL
	if req.FHIRServer != "" {
		if err := checkMockURL(req.FHIRServer); err != nil {
			writeError(w, http.StatusBadRequest, "fhirServer: "+err.Error())
			return
		}
		base = strings.TrimRight(req.FHIRServer, "/")
	}
	q := recordQuery{base: base, nhsNumber: nhs, practitionerID: practitionerIDFrom(req.Context.UserID), full: s.naive}
	log := s.log.With("service", id, "hookInstance", sanitise(req.HookInstance, 64), "orders", len(orders))
	if s.naive {
		s.naiveHook(ctx, w, q, orders, log)
	} else {
		s.resilientHook(ctx, w, q, orders, log)
	}
	log.Info("hook answered", "elapsed", time.Since(start).Round(time.Millisecond))
}

// decodeHook reads and checks the host's request: the hook matches the
// service, the patient is an NHS number, the draft orders are a Bundle.
// For order-select only the selected orders are rated (all of them when
// the host sends no selections).
func decodeHook(r *http.Request, def serviceDef) (hookRequest, []draftOrder, string, error) {
	var req hookRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxHookRequest))
	if err := dec.Decode(&req); err != nil {
		return req, nil, "", fmt.Errorf("request body is not a CDS Hooks request: %v", err)
	}
	var problems []string
	if req.Hook != def.Hook {
		problems = append(problems, fmt.Sprintf("hook %q does not match service %s (hook %s)", clamp(req.Hook, 40), def.ID, def.Hook))
	}
	nhs := strings.TrimPrefix(strings.TrimSpace(req.Context.PatientID), "Patient/")
	if err := synthetic.ValidateNHSNumber(nhs); err != nil {
		problems = append(problems, "context.patientId must be an NHS number (or Patient/<NHS number>): "+err.Error())
	}
	orders, err := draftOrders(req.Context.DraftOrders)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return req, nil, "", errors.New(strings.Join(problems, "; "))
	}
	if def.Hook == "order-select" && len(req.Context.Selections) > 0 {
		var selected []draftOrder
		for _, o := range orders {
			for _, sel := range req.Context.Selections {
				if sel == "ServiceRequest/"+o.id || sel == o.id {
					selected = append(selected, o)
					break
				}
			}
		}
		orders = selected
	}
	return req, orders, nhs, nil
}

func draftOrders(raw json.RawMessage) ([]draftOrder, error) {
	if len(raw) == 0 {
		return nil, errors.New("context.draftOrders is missing")
	}
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &bundle); err != nil || bundle.ResourceType != "Bundle" {
		return nil, errors.New("context.draftOrders is not a FHIR Bundle")
	}
	var out []draftOrder
	for i, e := range bundle.Entry {
		var sr struct {
			ResourceType string            `json:"resourceType"`
			ID           string            `json:"id"`
			Code         codeableConcept   `json:"code"`
			ReasonCode   []codeableConcept `json:"reasonCode"`
		}
		if err := json.Unmarshal(e.Resource, &sr); err != nil {
			return nil, fmt.Errorf("context.draftOrders entry %d is not a FHIR resource: %v", i, err)
		}
		if sr.ResourceType != "ServiceRequest" {
			continue
		}
		if sr.ID == "" {
			return nil, fmt.Errorf("context.draftOrders entry %d: ServiceRequest has no id", i)
		}
		var rawMap map[string]any
		if err := json.Unmarshal(e.Resource, &rawMap); err != nil {
			return nil, err
		}
		o := draftOrder{raw: rawMap, order: order{id: sr.ID, codes: sr.Code.codes(), text: sr.Code.label()}}
		for _, c := range sr.Code.Coding {
			if c.Display != "" && c.Display != o.text {
				o.text += " " + c.Display
			}
		}
		for _, rc := range sr.ReasonCode {
			o.reasons = append(o.reasons, rc.codes()...)
			if l := rc.label(); l != "" {
				o.reasonText = append(o.reasonText, l)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// ratedResource is the draft ServiceRequest with the PAMA rating extension
// added (and any earlier rating replaced).
func ratedResource(o draftOrder, code string) map[string]any {
	res := make(map[string]any, len(o.raw)+1)
	for k, v := range o.raw {
		res[k] = v
	}
	var ext []any
	if old, ok := o.raw["extension"].([]any); ok {
		for _, e := range old {
			if m, ok := e.(map[string]any); ok && (m["url"] == pamaRatingURL || m["url"] == pamaConsultIDURL) {
				continue
			}
			ext = append(ext, e)
		}
	}
	ext = append(ext,
		map[string]any{"url": pamaRatingURL, "valueCodeableConcept": map[string]any{
			"coding": []any{map[string]any{"system": pamaRatingSystem, "code": code}}}},
		map[string]any{"url": pamaConsultIDURL, "valueUri": "urn:uuid:" + newUUID()},
	)
	res["extension"] = ext
	return res
}

func ratingWords(code string) string {
	switch code {
	case ratingAppropriate:
		return "appropriate"
	case ratingNotAppropriate:
		return "not appropriate"
	default:
		return "no guidelines apply"
	}
}
