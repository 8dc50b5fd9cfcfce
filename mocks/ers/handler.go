package ers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Operation names, as classified for in-band faults and Stats.
const (
	OpCreateReferral       = "createReferral"
	OpCreateReferralTriage = "createReferralAndSendForTriage"
	OpReadReferral         = "readReferral"
	OpFetchWorklist        = "fetchWorklist"
	OpCancelReferral       = "cancelReferral"
	OpPractitionerRole     = "practitionerRole"
	opOther                = "other"
	// Endpoints outside this mock's scope classify as
	// "notImplemented:<endpoint id>" (for example "notImplemented:A016").
	opNotImplementedPrefix = "notImplemented:"
)

const (
	wildcardSegmentPrefix   = "{"
	notImplementedDiagnosis = "%s %s (%s) is a real e-RS endpoint but is not implemented by this mock."
)

type handlerFunc func(m *Mock, w http.ResponseWriter, r *http.Request, rq *request)

// endpoint is one method + path of the e-RS API.
type endpoint struct {
	method  string
	pattern string // segments after BasePath; {name} matches one segment
	id      string // e-RS endpoint id (A011, ...)
	op      string // operation name; empty for endpoints not implemented
	perms   []string
	handle  handlerFunc
}

func (e *endpoint) r4() bool { return strings.HasPrefix(e.pattern, "R4/") }

// endpoints lists every path of the e-RS API specification; those without a
// handler answer 501.
var endpoints = []endpoint{
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/$ers.createReferral", id: "A011", op: OpCreateReferral, perms: createFunctions, handle: (*Mock).handleCreate},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/$ers.createReferralAndSendForTriage", id: "A021", op: OpCreateReferralTriage, perms: createFunctions, handle: (*Mock).handleCreateTriage},
	{method: http.MethodGet, pattern: "STU3/ReferralRequest/{ubrn}", id: "A005", op: OpReadReferral, perms: readFunctions, handle: (*Mock).handleRead},
	{method: http.MethodGet, pattern: "STU3/ReferralRequest/{ubrn}/_history/{version}", id: "A005", op: OpReadReferral, perms: readFunctions, handle: (*Mock).handleRead},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/$ers.fetchworklist", id: "A008", op: OpFetchWorklist, perms: readFunctions, handle: (*Mock).handleWorklist},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.cancelReferral", id: "A036", op: OpCancelReferral, perms: cancelFunctions, handle: (*Mock).handleCancel},
	{method: http.MethodGet, pattern: "R4/PractitionerRole", id: "A030", op: OpPractitionerRole, handle: (*Mock).handlePractitionerRole},

	{method: http.MethodGet, pattern: "STU3/CodeSystem/{codeSystemType}", id: "A004"},
	{method: http.MethodGet, pattern: "STU3/Task", id: "A029"},
	{method: http.MethodGet, pattern: "STU3/Binary/{attachmentLogicalID}", id: "A006"},
	{method: http.MethodGet, pattern: "R4/Binary/{id}", id: "A042"},
	{method: http.MethodGet, pattern: "STU3/ReferralRequest/{ubrn}/$ers.generateCRI", id: "A007"},
	{method: http.MethodPost, pattern: "STU3/HealthcareService/$ers.searchHealthcareServicesForPatient", id: "A010"},
	{method: http.MethodGet, pattern: "STU3/Slot", id: "A015"},
	{method: http.MethodPost, pattern: "STU3/Appointment", id: "A016"},
	{method: http.MethodPost, pattern: "STU3/Binary", id: "A020"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.maintainReferralLetter", id: "A012"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.acceptReferral", id: "A013"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.rejectReferral", id: "A014"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.generatePatientLetter", id: "A019"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.cancelAppointmentActionLater", id: "A022"},
	{method: http.MethodPost, pattern: "STU3/CommunicationRequest/$ers.fetchworklist", id: "A023"},
	{method: http.MethodGet, pattern: "STU3/CommunicationRequest/{ubrn}", id: "A024"},
	{method: http.MethodGet, pattern: "STU3/CommunicationRequest/{ubrn}/_history/{version}", id: "A024"},
	{method: http.MethodGet, pattern: "STU3/Communication", id: "A025"},
	{method: http.MethodPost, pattern: "STU3/CommunicationRequest/{ubrn}/$ers.sendCommunicationToRequester", id: "A026"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater", id: "A027"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.recordReviewOutcome", id: "A028"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.changeShortlist", id: "A031"},
	{method: http.MethodPost, pattern: "STU3/ReferralRequest/{ubrn}/$ers.changeShortlistAndSendForTriage", id: "A032"},
	{method: http.MethodGet, pattern: "R4/HealthcareService/{id}", id: "A033"},
	{method: http.MethodHead, pattern: "R4/HealthcareService/{id}", id: "A037"},
	{method: http.MethodPut, pattern: "STU3/Appointment/{id}", id: "A034"},
	{method: http.MethodGet, pattern: "STU3/Appointment/{id}", id: "A038"},
	{method: http.MethodGet, pattern: "STU3/Appointment/{id}/_history/{version}", id: "A038"},
	{method: http.MethodGet, pattern: "R4/HealthcareService", id: "A035"},
	{method: http.MethodGet, pattern: "R4/Practitioner", id: "A040"},
	{method: http.MethodGet, pattern: "STU3/CommunicationRequest/{ubrn}/$ers.generateCRI", id: "A043"},
	{method: http.MethodPost, pattern: "STU3/CommunicationRequest/$ers.createAdviceAndGuidance", id: "A044"},
	{method: http.MethodGet, pattern: "R4/ServiceRequest", id: "A041"},
}

// match is the result of routing a request.
type match struct {
	ep      *endpoint         // nil when no endpoint matches path and method
	allowed []string          // methods the path supports, when the method does not match
	vars    map[string]string // path wildcards
	r4      bool
}

// route finds the endpoint for method and path. The most literal pattern
// wins, so $ers.fetchworklist is not taken for a UBRN.
func route(method, path string) match {
	rest, ok := strings.CutPrefix(path, BasePath+"/")
	if !ok {
		return match{}
	}
	segs := strings.Split(rest, "/")
	best, bestLiteral := []*endpoint(nil), -1
	var bestVars map[string]string
	for i := range endpoints {
		ep := &endpoints[i]
		vars, literal, ok := matchPattern(ep.pattern, segs)
		if !ok {
			continue
		}
		switch {
		case literal > bestLiteral:
			best, bestLiteral, bestVars = []*endpoint{ep}, literal, vars
		case literal == bestLiteral && ep.pattern == best[0].pattern:
			best = append(best, ep)
		}
	}
	m := match{r4: strings.HasPrefix(rest, "R4/")}
	for _, ep := range best {
		if ep.method == method {
			m.ep, m.vars = ep, bestVars
			return m
		}
		m.allowed = append(m.allowed, ep.method)
	}
	return m
}

func matchPattern(pattern string, segs []string) (map[string]string, int, bool) {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return nil, 0, false
	}
	var vars map[string]string
	literal := 0
	for i, p := range ps {
		if strings.HasPrefix(p, wildcardSegmentPrefix) {
			if segs[i] == "" {
				return nil, 0, false
			}
			if vars == nil {
				vars = map[string]string{}
			}
			vars[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		literal++
	}
	return vars, literal, true
}

// classify names a request's operation for in-band faults.
func classify(r *http.Request) string {
	m := route(r.Method, r.URL.Path)
	if m.ep == nil {
		return ""
	}
	if m.ep.op == "" {
		return opNotImplementedPrefix + m.ep.id
	}
	return m.ep.op
}

type requestIDKey struct{}

// request is what the checks learnt about one request.
type request struct {
	correlationID string
	requestID     string
	ods           string
	bf            string
	obo           string
	base          string // this server's API base URL, for reference-data systems
	vars          map[string]string
	ep            *endpoint
}

func (m *Mock) buildHandler() http.Handler {
	api := http.HandlerFunc(m.serveAPI)
	faulted := m.faults.Middleware(api, classify, m.respondFault, m.observeFault)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Response headers every answer carries, faulted or not.
		if c := r.Header.Get(headerCorrelationID); c != "" {
			w.Header().Set(headerCorrelationID, c)
		}
		reqID := m.nextRequestID()
		w.Header().Set(headerRequestID, reqID)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, reqID))
		op := classify(r)
		if op == "" || strings.HasPrefix(op, opNotImplementedPrefix) {
			op = opOther
		}
		m.mu.Lock()
		m.stats.Requests++
		m.stats.ByOperation[op]++
		m.mu.Unlock()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				m.log.Error("ers mock: handler panic", "panic", fmt.Sprint(p), "method", r.Method, "path", r.URL.Path)
				writeError(w, strings.Contains(r.URL.Path, "/R4/"), m.now, errorf(http.StatusInternalServerError, fhir.IssueException, codeInternalServerError, "Internal error in the e-RS mock."))
			}
		}()
		faulted.ServeHTTP(w, r)
	})
}

func (m *Mock) serveAPI(w http.ResponseWriter, r *http.Request) {
	rt := route(r.Method, r.URL.Path)
	rq := &request{
		correlationID: r.Header.Get(headerCorrelationID),
		requestID:     w.Header().Get(headerRequestID),
		base:          "http://" + r.Host + BasePath,
		vars:          rt.vars,
		ep:            rt.ep,
	}
	fail := func(e *apiError) {
		m.log.Debug("ers mock: refused request", "method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code, "diagnostics", e.Diag, "correlation_id", rq.correlationID)
		writeError(w, rt.r4, m.now, e)
	}
	if e := m.checkAuth(r); e != nil {
		fail(e)
		return
	}
	if rt.ep == nil {
		if len(rt.allowed) > 0 {
			w.Header().Set("Allow", strings.Join(rt.allowed, ", "))
			fail(errorf(http.StatusMethodNotAllowed, fhir.IssueNotSupported, codeMethodNotAllowed, "Method %s is not supported for %s.", r.Method, r.URL.Path))
			return
		}
		fail(errorf(http.StatusNotFound, fhir.IssueNotFound, codeNotFound, "No e-RS endpoint matches %s %s.", r.Method, r.URL.Path))
		return
	}
	if !rt.r4 {
		if e := m.checkUserHeaders(r, rq); e != nil {
			fail(e)
			return
		}
	}
	if rt.ep.handle == nil {
		fail(errorf(http.StatusNotImplemented, fhir.IssueNotSupported, codeNotImplemented, notImplementedDiagnosis, r.Method, r.URL.Path, rt.ep.id))
		return
	}
	version := fhirVersionSTU3
	if rt.r4 {
		version = fhirVersionR4
	}
	if _, err := fhir.Negotiate(r.Header.Get("Accept"), version); err != nil {
		fail(errorf(http.StatusNotAcceptable, fhir.IssueNotSupported, "", "Not Acceptable: %v", err))
		return
	}
	if len(rt.ep.perms) > 0 && !slices.Contains(rt.ep.perms, rq.bf) {
		fail(errorf(http.StatusForbidden, fhir.IssueForbidden, codeForbidden, "Business function %s is not permitted to use %s (%s); permitted: %s.", rq.bf, rt.ep.id, rt.ep.op, strings.Join(rt.ep.perms, ", ")))
		return
	}
	if r.Method == http.MethodPost {
		if err := fhir.CheckContentType(r.Header.Get("Content-Type"), version); err != nil {
			fail(errorf(http.StatusUnsupportedMediaType, fhir.IssueNotSupported, "", "Unsupported Media Type: %v", err))
			return
		}
	}
	rt.ep.handle(m, w, r, rq)
}

// checkAuth checks the bearer token.
func (m *Mock) checkAuth(r *http.Request) *apiError {
	h := strings.TrimSpace(r.Header.Get(headerAuthorization))
	if h == "" {
		return errorf(http.StatusUnauthorized, fhir.IssueLogin, codeNoAccess, "Missing or empty Authorization header; expected a bearer token.")
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errorf(http.StatusUnauthorized, fhir.IssueLogin, codeNoAccess, "Authorization header must be 'Bearer <access token>'.")
	}
	if token != m.creds.Token {
		return errorf(http.StatusUnauthorized, fhir.IssueLogin, codeNoAccess, "Invalid access token.")
	}
	return nil
}

// checkUserHeaders checks the user-restricted headers the API gateway checks.
func (m *Mock) checkUserHeaders(r *http.Request, rq *request) *apiError {
	rq.ods = strings.TrimSpace(r.Header.Get(headerODS))
	rq.bf = strings.TrimSpace(r.Header.Get(headerBusinessFunction))
	rq.obo = strings.TrimSpace(r.Header.Get(headerOnBehalfOf))
	if rq.ods == "" {
		return errorf(http.StatusBadRequest, fhir.IssueRequired, codeMissingHeader, "Missing or Empty %s header.", headerODS)
	}
	if rq.bf == "" {
		return errorf(http.StatusBadRequest, fhir.IssueRequired, codeMissingHeader, "Missing or Empty %s header.", headerBusinessFunction)
	}
	if !m.holds(rq.ods, rq.bf) {
		return errorf(http.StatusForbidden, fhir.IssueForbidden, codeForbidden, "User does not have the required Business Function at the specified Organisation.")
	}
	if rq.bf == BFServiceProviderClinicianAdmin && rq.obo == "" {
		return errorf(http.StatusBadRequest, fhir.IssueRequired, codeMissingHeader, "Missing or Empty %s header.", headerOnBehalfOf)
	}
	return nil
}

func (m *Mock) holds(ods, bf string) bool {
	for _, r := range m.roles {
		if strings.EqualFold(r.ODSCode, ods) && slices.Contains(r.BusinessFunctions, bf) {
			return true
		}
	}
	return false
}

// respondFault writes the e-RS error body for an in-band status fault.
func (m *Mock) respondFault(w http.ResponseWriter, r *http.Request, spec inband.Spec) {
	writeError(w, route(r.Method, r.URL.Path).r4, m.now, defaultError(spec.Status, spec.Code))
}

// observeFault journals a request an in-band fault hit.
func (m *Mock) observeFault(r *http.Request, op string, spec inband.Spec) {
	attrs := map[string]string{"op": op, "kind": string(spec.Kind)}
	if spec.Status != 0 {
		attrs["status"] = fmt.Sprint(spec.Status)
	}
	if spec.Code != "" {
		attrs["code"] = spec.Code
	}
	reqID, _ := r.Context().Value(requestIDKey{}).(string)
	m.record("request.faulted", map[string]string{
		keyCorrelationID: r.Header.Get(headerCorrelationID),
		keyRequestID:     reqID,
	}, attrs)
}
