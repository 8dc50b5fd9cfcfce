package gpconnect

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// Operation names, as classified for in-band faults.
const (
	OpMetadata                  = "metadata"
	OpSearchPatient             = "searchPatient"
	OpReadPatient               = "readPatient"
	OpSearchOrganization        = "searchOrganization"
	OpReadOrganization          = "readOrganization"
	OpSearchPractitioner        = "searchPractitioner"
	OpReadPractitioner          = "readPractitioner"
	OpReadLocation              = "readLocation"
	OpGetStructuredRecord       = "getStructuredRecord"
	OpSearchSlot                = "searchSlot"
	OpReadAppointment           = "readAppointment"
	OpBookAppointment           = "bookAppointment"
	OpAmendAppointment          = "amendAppointment"
	OpCancelAppointment         = "cancelAppointment"
	OpSearchPatientAppointments = "searchPatientAppointments"
	OpJWKS                      = "jwks"
	// OpNotImplemented classifies real GP Connect interactions this mock
	// answers with 501 NOT_IMPLEMENTED (register patient, Access Document).
	OpNotImplemented = "notImplemented"
)

// WriteOperations lists the operations that change the record: what a
// "read-only" contingency fault (403 or 405 on these operations) rejects.
func WriteOperations() []string {
	return []string{OpBookAppointment, OpAmendAppointment, OpCancelAppointment}
}

// Interaction ids (Ssp-InteractionID).
const (
	interactionPrefix              = "urn:nhs:names:services:gpconnect:"
	InteractionMetadata            = interactionPrefix + "fhir:rest:read:metadata-1"
	InteractionStructuredMetadata  = interactionPrefix + "structured:fhir:rest:read:metadata-1"
	InteractionSearchPatient       = interactionPrefix + "fhir:rest:search:patient-1"
	InteractionReadPatient         = interactionPrefix + "fhir:rest:read:patient-1"
	InteractionSearchOrganization  = interactionPrefix + "fhir:rest:search:organization-1"
	InteractionReadOrganization    = interactionPrefix + "fhir:rest:read:organization-1"
	InteractionSearchPractitioner  = interactionPrefix + "fhir:rest:search:practitioner-1"
	InteractionReadPractitioner    = interactionPrefix + "fhir:rest:read:practitioner-1"
	InteractionReadLocation        = interactionPrefix + "fhir:rest:read:location-1"
	InteractionGetStructuredRecord = interactionPrefix + "fhir:operation:gpc.getstructuredrecord-1"
	InteractionRegisterPatient     = interactionPrefix + "fhir:operation:gpc.registerpatient-1"
	InteractionSearchSlot          = interactionPrefix + "fhir:rest:search:slot-1"
	InteractionReadAppointment     = interactionPrefix + "fhir:rest:read:appointment-1"
	InteractionCreateAppointment   = interactionPrefix + "fhir:rest:create:appointment-1"
	InteractionUpdateAppointment   = interactionPrefix + "fhir:rest:update:appointment-1"
	InteractionCancelAppointment   = interactionPrefix + "fhir:rest:cancel:appointment-1"
	InteractionPatientAppointments = interactionPrefix + "fhir:rest:search:patient_appointments-1"
)

// JWT requested_scope values.
const (
	ScopePatientRead  = "patient/*.read"
	ScopePatientWrite = "patient/*.write"
	ScopeOrgRead      = "organization/*.read"
)

// SSP headers.
const (
	headerTraceID       = "Ssp-TraceID"
	headerFrom          = "Ssp-From"
	headerTo            = "Ssp-To"
	headerInteractionID = "Ssp-InteractionID"
)

// request is what the checks learned about a request, for its handler.
type request struct {
	vars        map[string]string
	mediaType   string // negotiated response media type
	interaction string
	base        string // absolute base URL as the client addressed it
	claims      *claims
}

type handlerFunc func(m *Mock, w http.ResponseWriter, r *http.Request, rq *request)

// endpoint is one method + path of the provider's API.
type endpoint struct {
	method       string
	pattern      string // segments after BasePath; {name} matches one segment
	op           string
	interactions []string
	scope        string
	handle       handlerFunc // nil: answered 501
}

// endpoints lists the interactions the mock serves.
func endpoints() []endpoint {
	return []endpoint{
		{http.MethodGet, "metadata", OpMetadata, []string{InteractionMetadata, InteractionStructuredMetadata}, ScopeOrgRead, (*Mock).handleMetadata},
		{http.MethodGet, "Patient", OpSearchPatient, []string{InteractionSearchPatient}, ScopePatientRead, (*Mock).handleSearchPatient},
		{http.MethodPost, "Patient/$gpc.getstructuredrecord", OpGetStructuredRecord, []string{InteractionGetStructuredRecord}, ScopePatientRead, (*Mock).handleStructuredRecord},
		{http.MethodPost, "Patient/$gpc.registerpatient", OpNotImplemented, []string{InteractionRegisterPatient}, ScopePatientWrite, nil},
		{http.MethodGet, "Patient/{id}", OpReadPatient, []string{InteractionReadPatient}, ScopePatientRead, (*Mock).handleReadPatient},
		{http.MethodGet, "Patient/{id}/Appointment", OpSearchPatientAppointments, []string{InteractionPatientAppointments}, ScopePatientRead, (*Mock).handlePatientAppointments},
		{http.MethodGet, "Patient/{id}/DocumentReference", OpNotImplemented, nil, ScopePatientRead, nil},
		{http.MethodGet, "Binary/{id}", OpNotImplemented, nil, ScopePatientRead, nil},
		{http.MethodGet, "Organization", OpSearchOrganization, []string{InteractionSearchOrganization}, ScopeOrgRead, (*Mock).handleSearchOrganization},
		{http.MethodGet, "Organization/{id}", OpReadOrganization, []string{InteractionReadOrganization}, ScopeOrgRead, (*Mock).handleReadOrganization},
		{http.MethodGet, "Practitioner", OpSearchPractitioner, []string{InteractionSearchPractitioner}, ScopeOrgRead, (*Mock).handleSearchPractitioner},
		{http.MethodGet, "Practitioner/{id}", OpReadPractitioner, []string{InteractionReadPractitioner}, ScopeOrgRead, (*Mock).handleReadPractitioner},
		{http.MethodGet, "Location/{id}", OpReadLocation, []string{InteractionReadLocation}, ScopeOrgRead, (*Mock).handleReadLocation},
		{http.MethodGet, "Slot", OpSearchSlot, []string{InteractionSearchSlot}, ScopeOrgRead, (*Mock).handleSearchSlot},
		{http.MethodPost, "Appointment", OpBookAppointment, []string{InteractionCreateAppointment}, ScopePatientWrite, (*Mock).handleBook},
		{http.MethodGet, "Appointment/{id}", OpReadAppointment, []string{InteractionReadAppointment}, ScopePatientRead, (*Mock).handleReadAppointment},
		{http.MethodPut, "Appointment/{id}", OpAmendAppointment, []string{InteractionUpdateAppointment, InteractionCancelAppointment}, ScopePatientWrite, (*Mock).handleUpdateAppointment},
	}
}

// route is the result of matching a request path.
type route struct {
	ep      *endpoint
	vars    map[string]string
	allowed []string // methods of the path when the method did not match
	inBase  bool     // the path is under BasePath
}

func (m *Mock) route(method, path string) route {
	base := m.BasePath()
	rest, ok := strings.CutPrefix(path, base+"/")
	if !ok {
		return route{}
	}
	rt := route{inBase: true}
	segs := strings.Split(rest, "/")
	eps := m.endpoints
	for i := range eps {
		ep := &eps[i]
		vars, match := matchPattern(ep.pattern, segs)
		if !match {
			continue
		}
		if ep.method == method {
			rt.ep, rt.vars, rt.allowed = ep, vars, nil
			return rt
		}
		if !slices.Contains(rt.allowed, ep.method) {
			rt.allowed = append(rt.allowed, ep.method)
		}
	}
	return rt
}

func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	var vars map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if vars == nil {
				vars = map[string]string{}
			}
			vars[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] { // paths are case-sensitive, as GP Connect's are
			return nil, false
		}
	}
	return vars, true
}

// classify names a request's operation for in-band faults. PUT
// /Appointment/{id} is an amend or a cancel by its Ssp-InteractionID.
func (m *Mock) classify(r *http.Request) string {
	if r.URL.Path == JWKSPath {
		return OpJWKS
	}
	rt := m.route(r.Method, r.URL.Path)
	if rt.ep == nil {
		return ""
	}
	if rt.ep.op == OpAmendAppointment && r.Header.Get(headerInteractionID) == InteractionCancelAppointment {
		return OpCancelAppointment
	}
	return rt.ep.op
}

// tenantOf reads a request's tenant for in-band faults: the ODS code that
// starts its path ("/{ODS}/STU3/1/gpconnect/fhir/..."), the practice the
// consumer addressed through the SSP. The JWKS path has no tenant.
func tenantOf(r *http.Request) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !strings.Contains(r.URL.Path, "/gpconnect/") {
		return ""
	}
	return seg
}

func (m *Mock) buildHandler() http.Handler {
	m.endpoints = endpoints()
	api := http.HandlerFunc(m.serveAPI)
	faulted := m.faults.Middleware(api, m.classify, m.respondFault, m.observeFault)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// GP Connect providers send Cache-Control: no-store on every
		// response, errors and faults included.
		w.Header().Set("Cache-Control", "no-store")
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				m.log.Error("gpconnect mock: handler panic", "panic", fmt.Sprint(p), "method", r.Method, "path", r.URL.Path)
				writeError(w, errorf(http.StatusInternalServerError, "processing", CodeInternalServerError, "Internal error in the GP Connect mock."))
			}
		}()
		faulted.ServeHTTP(w, r)
	})
}

func (m *Mock) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == JWKSPath {
		m.serveJWKS(w, r)
		return
	}
	rt := m.route(r.Method, r.URL.Path)
	fail := func(e *apiError) {
		m.log.Debug("gpconnect mock: refused request", "method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code, "diagnostics", e.Diag, "trace_id", r.Header.Get(headerTraceID))
		writeError(w, e)
	}
	if rt.ep == nil {
		if len(rt.allowed) > 0 {
			// The SSP refuses methods the interaction does not use, with
			// its own body.
			w.Header().Set("Allow", strings.Join(rt.allowed, ", "))
			writeSSPMethodNotAllowed(w)
			return
		}
		fail(errorf(http.StatusNotFound, fhir.IssueNotFound, CodeNoRecordFound, "No GP Connect interaction matches %s %s (this provider's base is %s).", r.Method, r.URL.Path, m.BasePath()))
		return
	}
	if rt.ep.handle == nil {
		fail(errorf(http.StatusNotImplemented, fhir.IssueNotSupported, CodeNotImplemented, "%s %s is a real GP Connect interaction but is not implemented by this mock.", r.Method, r.URL.Path))
		return
	}
	rq := &request{vars: rt.vars, base: "http://" + r.Host + m.BasePath()}
	if e := m.checkSSP(r, rt.ep, rq); e != nil {
		fail(e)
		return
	}
	accept := r.Header.Get("Accept")
	if f := r.URL.Query().Get("_format"); f != "" {
		accept = formatMediaType(f)
	} else if accept == "" && r.Header.Get("Content-Type") != "" {
		accept = r.Header.Get("Content-Type")
	}
	mt, err := fhir.Negotiate(accept, FHIRVersion)
	if err != nil {
		fail(errorf(http.StatusNotAcceptable, fhir.IssueNotSupported, CodeBadRequest, "Not acceptable: %v; this provider answers %s.", err, fhir.MediaTypeFHIRJSON))
		return
	}
	rq.mediaType = mt
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := fhir.CheckContentType(r.Header.Get("Content-Type"), FHIRVersion); err != nil {
			// The SSP refuses media types it does not pass on, with its
			// own body.
			m.log.Debug("gpconnect mock: unsupported media type", "err", err)
			writeSSPError(w, m.sspID(), http.StatusUnsupportedMediaType, fhir.IssueNotSupported, "Unsupported_Media_Type")
			return
		}
	}
	rt.ep.handle(m, w, r, rq)
}

// formatMediaType maps a _format value to the media type it stands for.
func formatMediaType(f string) string {
	switch strings.ToLower(strings.TrimSpace(f)) {
	case "json":
		return fhir.MediaTypeFHIRJSON
	case "xml":
		return "application/fhir+xml"
	}
	return f
}

func (m *Mock) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the JWKS is read with GET", http.StatusMethodNotAllowed)
		return
	}
	key := m.hostKeySet()
	if len(key) == 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"no CDS Hooks host key set: the harness sets one with SetHostKey"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(key)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(key)
	}
}

// writeResource writes a resource with its weak ETag (when version is not
// empty) in the negotiated media type.
func writeResource(w http.ResponseWriter, rq *request, status int, version string, v any) {
	if version != "" {
		w.Header().Set("ETag", `W/"`+version+`"`)
	}
	_ = fhir.WriteJSON(w, status, rq.mediaType, v)
}

// writeBody writes an already encoded resource.
func writeBody(w http.ResponseWriter, rq *request, status int, b []byte) {
	w.Header().Set("Content-Type", rq.mediaType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
