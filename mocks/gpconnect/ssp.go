package gpconnect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// checkSSP checks what a provider checks on every request that reached it
// through the Spine Secure Proxy: the SSP headers, that Ssp-To is this
// provider's ASID, that Ssp-InteractionID is the endpoint's, and the
// consumer's audit JWT.
func (m *Mock) checkSSP(r *http.Request, ep *endpoint, rq *request) *apiError {
	for _, h := range []string{headerTraceID, headerFrom, headerTo, headerInteractionID} {
		if strings.TrimSpace(r.Header.Get(h)) == "" {
			return badRequest("Missing or empty %s header; every GP Connect request carries Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID.", h)
		}
	}
	if to := strings.TrimSpace(r.Header.Get(headerTo)); to != m.creds.ProviderASID {
		// (inferred) The provider SHALL check Ssp-To is its own ASID; the
		// specification gives no status. 403 is what the SSP answers when a
		// receiver ASID is not authorised, so the provider answers the same.
		return errorf(http.StatusForbidden, fhir.IssueForbidden, CodeAccessDenied, "Ssp-To %q is not this provider's ASID (%s).", to, m.creds.ProviderASID)
	}
	rq.interaction = strings.TrimSpace(r.Header.Get(headerInteractionID))
	if len(ep.interactions) > 0 && !slices.Contains(ep.interactions, rq.interaction) {
		return badRequest("Ssp-InteractionID %q does not match %s %s; want %s.", rq.interaction, r.Method, ep.pattern, strings.Join(ep.interactions, " or "))
	}
	c, e := parseJWT(r.Header.Get("Authorization"))
	if e != nil {
		return e
	}
	if c.RequestedScope != ep.scope {
		return badRequest("JWT requested_scope %q does not match the interaction; want %q.", c.RequestedScope, ep.scope)
	}
	rq.claims = c
	return nil
}

// claims are the JWT claims GP Connect requires.
type claims struct {
	Iss, Sub, Aud, ReasonForRequest, RequestedScope string
	Exp, Iat                                        int64
	Device, Organization, Practitioner              map[string]json.RawMessage
}

// JWTLifetime is the only lifetime GP Connect allows: exp is iat + 300 s.
const JWTLifetime = 300

// parseJWT checks the Authorization header's unsigned JWT, as GP Connect
// providers do (JWT.feature of the provider test suite): 400 BAD_REQUEST
// for anything missing or garbled, 422 INVALID_RESOURCE for a requesting
// device, organisation or practitioner that is not a valid FHIR resource. It
// does not check expiry: an iat in the future is accepted.
func parseJWT(header string) (*claims, *apiError) {
	h := strings.TrimSpace(header)
	if h == "" {
		return nil, badRequest("Missing or empty Authorization header; want 'Bearer <unsigned JWT>'.")
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, badRequest("Authorization header must be 'Bearer <unsigned JWT>'.")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, badRequest("The bearer token is not a JWT: want three base64url parts separated by '.', got %d.", len(parts))
	}
	var hdr struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, badRequest("JWT header: %v.", err)
	}
	if hdr.Alg != "none" {
		return nil, badRequest("JWT alg is %q; GP Connect JWTs are unsigned (alg none).", hdr.Alg)
	}
	if parts[2] != "" {
		return nil, badRequest("An unsigned JWT (alg none) must have an empty signature.")
	}
	var raw map[string]json.RawMessage
	if err := decodeSegment(parts[1], &raw); err != nil {
		return nil, badRequest("JWT payload: %v.", err)
	}
	c := &claims{}
	str := func(name string, dst *string) *apiError {
		v, ok := raw[name]
		if !ok {
			return badRequest("JWT claim %s is missing.", name)
		}
		if err := json.Unmarshal(v, dst); err != nil || strings.TrimSpace(*dst) == "" {
			return badRequest("JWT claim %s must be a non-empty string.", name)
		}
		return nil
	}
	num := func(name string, dst *int64) *apiError {
		v, ok := raw[name]
		if !ok {
			return badRequest("JWT claim %s is missing.", name)
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return badRequest("JWT claim %s must be a whole number of seconds since the epoch.", name)
		}
		*dst = int64(f)
		return nil
	}
	for _, e := range []*apiError{
		str("iss", &c.Iss), str("sub", &c.Sub), str("aud", &c.Aud),
		num("exp", &c.Exp), num("iat", &c.Iat),
	} {
		if e != nil {
			return nil, e
		}
	}
	if c.Exp-c.Iat != JWTLifetime {
		return nil, badRequest("JWT exp must be exactly iat + %d seconds; got exp - iat = %d.", JWTLifetime, c.Exp-c.Iat)
	}
	if e := str("reason_for_request", &c.ReasonForRequest); e != nil {
		return nil, e
	}
	if c.ReasonForRequest != "directcare" {
		return nil, badRequest("JWT reason_for_request is %q; want \"directcare\".", c.ReasonForRequest)
	}
	if e := str("requested_scope", &c.RequestedScope); e != nil {
		return nil, e
	}
	var e *apiError
	if c.Device, e = resourceClaim(raw, "requesting_device", "Device", deviceElements); e != nil {
		return nil, e
	}
	if c.Organization, e = resourceClaim(raw, "requesting_organization", "Organization", organizationElements); e != nil {
		return nil, e
	}
	if !hasIdentifier(c.Organization, systemODS) {
		return nil, badRequest("JWT requesting_organization needs an identifier with system %s (its ODS code).", systemODS)
	}
	if c.Practitioner, e = resourceClaim(raw, "requesting_practitioner", "Practitioner", practitionerElements); e != nil {
		return nil, e
	}
	var id string
	if err := json.Unmarshal(c.Practitioner["id"], &id); err != nil || id == "" {
		return nil, badRequest("JWT requesting_practitioner needs an id (matching sub).")
	}
	if id != c.Sub {
		return nil, badRequest("JWT sub %q does not match requesting_practitioner id %q.", c.Sub, id)
	}
	if !hasIdentifier(c.Practitioner, systemSDSUser) {
		return nil, badRequest("JWT requesting_practitioner needs an identifier with system %s.", systemSDSUser)
	}
	if len(c.Practitioner["name"]) == 0 || string(c.Practitioner["name"]) == "null" {
		return nil, badRequest("JWT requesting_practitioner needs a name.")
	}
	return c, nil
}

// decodeSegment decodes one base64url JWT segment holding a JSON object.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return fmt.Errorf("not base64url encoded: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	if v, ok := v.(*map[string]json.RawMessage); ok && *v == nil {
		return fmt.Errorf("not a JSON object")
	}
	return nil
}

// STU3 elements of the resources a JWT carries; anything else makes the
// resource invalid (the provider test suite adds an unknown field).
var (
	commonElements       = []string{"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension", "identifier"}
	deviceElements       = append(slices.Clone(commonElements), "udi", "status", "type", "lotNumber", "manufacturer", "manufactureDate", "expirationDate", "model", "version", "patient", "owner", "contact", "location", "url", "note", "safety")
	organizationElements = append(slices.Clone(commonElements), "active", "type", "name", "alias", "telecom", "address", "partOf", "contact", "endpoint")
	practitionerElements = append(slices.Clone(commonElements), "active", "name", "telecom", "address", "gender", "birthDate", "photo", "qualification", "communication")
)

// resourceClaim reads a claim holding a FHIR resource of type want: 400 when
// it is missing, 422 when it is not a valid resource of that type.
func resourceClaim(raw map[string]json.RawMessage, name, want string, elements []string) (map[string]json.RawMessage, *apiError) {
	v, ok := raw[name]
	if !ok || string(v) == "null" {
		return nil, badRequest("JWT claim %s is missing; want a %s resource.", name, want)
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(v, &res); err != nil {
		return nil, invalidResource("JWT claim %s is not a FHIR resource: %v.", name, err)
	}
	var rt string
	if err := json.Unmarshal(res["resourceType"], &rt); err != nil || rt != want {
		return nil, invalidResource("JWT claim %s has resourceType %s; want %q.", name, string(res["resourceType"]), want)
	}
	for k := range res {
		if !slices.Contains(elements, k) {
			return nil, invalidResource("JWT claim %s is not a valid %s: unknown element %q.", name, want, k)
		}
	}
	return res, nil
}

// hasIdentifier reports whether a resource has an identifier with system
// and a value.
func hasIdentifier(res map[string]json.RawMessage, system string) bool {
	var ids []fhir.Identifier
	if err := json.Unmarshal(res["identifier"], &ids); err != nil {
		return false
	}
	for _, id := range ids {
		if id.System == system && strings.TrimSpace(id.Value) != "" {
			return true
		}
	}
	return false
}
