package gpconnect

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSSPAndJWTValidation(t *testing.T) {
	type claims = map[string]any
	del := func(name string) func(claims, claims) { return func(c, _ claims) { delete(c, name) } }
	set := func(name string, v any) func(claims, claims) { return func(c, _ claims) { c[name] = v } }
	resource := func(claim string, edit func(r claims)) func(claims, claims) {
		return func(c, _ claims) { edit(c[claim].(claims)) }
	}
	tests := []struct {
		name        string
		interaction string // default: metadata
		scope       string // default: organization/*.read
		claims      func(c, header claims)
		header      func(h http.Header)
		token       string // replaces the whole bearer token
		status      int
		code        string
	}{
		{name: "valid request", status: http.StatusOK},
		{name: "structured metadata interaction", interaction: InteractionStructuredMetadata, status: http.StatusOK},
		{name: "missing Ssp-TraceID", header: func(h http.Header) { h.Del("Ssp-TraceID") }, status: 400, code: CodeBadRequest},
		{name: "missing Ssp-From", header: func(h http.Header) { h.Del("Ssp-From") }, status: 400, code: CodeBadRequest},
		{name: "missing Ssp-To", header: func(h http.Header) { h.Del("Ssp-To") }, status: 400, code: CodeBadRequest},
		{name: "missing Ssp-InteractionID", header: func(h http.Header) { h.Del("Ssp-InteractionID") }, status: 400, code: CodeBadRequest},
		{name: "empty Ssp-TraceID", header: func(h http.Header) { h.Set("Ssp-TraceID", " ") }, status: 400, code: CodeBadRequest},
		{name: "Ssp-To another provider", header: func(h http.Header) { h.Set("Ssp-To", "918999198999") }, status: 403, code: CodeAccessDenied},
		{name: "interaction of another endpoint", interaction: InteractionReadPatient, status: 400, code: CodeBadRequest},
		{name: "unknown interaction", interaction: "urn:nhs:names:services:gpconnect:fhir:rest:read:nonsense-1", status: 400, code: CodeBadRequest},
		{name: "missing Authorization", header: func(h http.Header) { h.Del("Authorization") }, status: 400, code: CodeBadRequest},
		{name: "Basic authorization", header: func(h http.Header) { h.Set("Authorization", "Basic dXNlcjpwYXNz") }, status: 400, code: CodeBadRequest},
		{name: "bearer without token", header: func(h http.Header) { h.Set("Authorization", "Bearer ") }, status: 400, code: CodeBadRequest},
		{name: "token not a JWT", token: "not-a-jwt", status: 400, code: CodeBadRequest},
		{name: "token not base64", token: "%%%.%%%.", status: 400, code: CodeBadRequest},
		{name: "payload not JSON", token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`not json`)) + ".", status: 400, code: CodeBadRequest},
		{name: "payload JSON array", token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`[1]`)) + ".", status: 400, code: CodeBadRequest},
		{name: "payload null", token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`null`)) + ".", status: 400, code: CodeBadRequest},
		{name: "signed JWT", claims: func(_, h claims) { h["alg"] = "HS256" }, status: 400, code: CodeBadRequest},
		{name: "non-empty signature", header: func(h http.Header) { h.Set("Authorization", h.Get("Authorization")+"c2ln") }, status: 400, code: CodeBadRequest},
		{name: "missing iss", claims: del("iss"), status: 400, code: CodeBadRequest},
		{name: "missing sub", claims: del("sub"), status: 400, code: CodeBadRequest},
		{name: "missing aud", claims: del("aud"), status: 400, code: CodeBadRequest},
		{name: "missing exp", claims: del("exp"), status: 400, code: CodeBadRequest},
		{name: "missing iat", claims: del("iat"), status: 400, code: CodeBadRequest},
		{name: "iat not a number", claims: set("iat", "yesterday"), status: 400, code: CodeBadRequest},
		{name: "exp 301 after iat", claims: func(c, _ claims) { c["exp"] = c["iat"].(int64) + 301 }, status: 400, code: CodeBadRequest},
		{name: "exp 299 after iat", claims: func(c, _ claims) { c["exp"] = c["iat"].(int64) + 299 }, status: 400, code: CodeBadRequest},
		{name: "exp before iat", claims: func(c, _ claims) { c["exp"] = c["iat"].(int64) - 1 }, status: 400, code: CodeBadRequest},
		{name: "iat in the future accepted", claims: func(c, _ claims) { c["iat"] = c["iat"].(int64) + 200; c["exp"] = c["iat"].(int64) + 300 }, status: http.StatusOK},
		{name: "expired token accepted", claims: func(c, _ claims) { c["iat"] = c["iat"].(int64) - 86400; c["exp"] = c["iat"].(int64) + 300 }, status: http.StatusOK},
		{name: "missing reason_for_request", claims: del("reason_for_request"), status: 400, code: CodeBadRequest},
		{name: "reason not directcare", claims: set("reason_for_request", "notdirectcare"), status: 400, code: CodeBadRequest},
		{name: "missing requested_scope", claims: del("requested_scope"), status: 400, code: CodeBadRequest},
		{name: "patient scope on metadata", scope: ScopePatientRead, status: 400, code: CodeBadRequest},
		{name: "organization scope on structured record", interaction: InteractionGetStructuredRecord, scope: ScopeOrgRead, status: 400, code: CodeBadRequest},
		{name: "missing requesting_device", claims: del("requesting_device"), status: 400, code: CodeBadRequest},
		{name: "requesting_device with unknown element", claims: resource("requesting_device", func(r claims) { r["invalidFhirResourceField"] = "x" }), status: 422, code: CodeInvalidResource},
		{name: "requesting_device of another type", claims: resource("requesting_device", func(r claims) { r["resourceType"] = "InvalidResourceType" }), status: 422, code: CodeInvalidResource},
		{name: "requesting_device not an object", claims: set("requesting_device", "device"), status: 422, code: CodeInvalidResource},
		{name: "missing requesting_organization", claims: del("requesting_organization"), status: 400, code: CodeBadRequest},
		{name: "requesting_organization invalid", claims: resource("requesting_organization", func(r claims) { r["bogus"] = 1 }), status: 422, code: CodeInvalidResource},
		{name: "requesting_organization without ODS code", claims: resource("requesting_organization", func(r claims) { delete(r, "identifier") }), status: 400, code: CodeBadRequest},
		{name: "missing requesting_practitioner", claims: del("requesting_practitioner"), status: 400, code: CodeBadRequest},
		{name: "requesting_practitioner invalid", claims: resource("requesting_practitioner", func(r claims) { r["bogus"] = 1 }), status: 422, code: CodeInvalidResource},
		{name: "requesting_practitioner of another type", claims: resource("requesting_practitioner", func(r claims) { r["resourceType"] = "Patient" }), status: 422, code: CodeInvalidResource},
		{name: "requesting_practitioner without id", claims: resource("requesting_practitioner", func(r claims) { delete(r, "id") }), status: 400, code: CodeBadRequest},
		{name: "sub not the practitioner id", claims: set("sub", "someone-else"), status: 400, code: CodeBadRequest},
		{name: "requesting_practitioner without SDS id", claims: resource("requesting_practitioner", func(r claims) { delete(r, "identifier") }), status: 400, code: CodeBadRequest},
		{name: "requesting_practitioner without name", claims: resource("requesting_practitioner", func(r claims) { delete(r, "name") }), status: 400, code: CodeBadRequest},
	}
	m := startMock(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			interaction, scope, method, path, body := InteractionMetadata, ScopeOrgRead, http.MethodGet, "metadata", []byte(nil)
			if tc.interaction != "" {
				interaction = tc.interaction
			}
			if tc.scope != "" {
				scope = tc.scope
			}
			if interaction == InteractionGetStructuredRecord {
				method, path, body = http.MethodPost, "Patient/$gpc.getstructuredrecord", recordRequestBody(m.Patients()[0].NHSNumber)
			}
			rep := call(t, m, method, path, interaction, scope, body, func(h http.Header) {
				if tc.claims != nil {
					c, hdr := jwtClaims(m.Credentials(), scope), noneHeader()
					tc.claims(c, hdr)
					h.Set("Authorization", "Bearer "+unsignedJWT(t, hdr, c))
				}
				if tc.token != "" {
					h.Set("Authorization", "Bearer "+tc.token)
				}
				if tc.header != nil {
					tc.header(h)
				}
			})
			require.Equal(t, tc.status, rep.status, "body: %s", rep.body)
			require.Equal(t, "no-store", rep.header.Get("Cache-Control"))
			if tc.code == "" {
				return
			}
			detail, _ := rep.errorCode(t)
			require.Equal(t, tc.code, detail)
			v := rep.json(t)
			require.Equal(t, []any{outcomeProfile}, v["meta"].(map[string]any)["profile"])
			coding := v["issue"].([]any)[0].(map[string]any)["details"].(map[string]any)["coding"].([]any)[0].(map[string]any)
			require.Equal(t, spineSystem, coding["system"])
			require.NotEmpty(t, v["issue"].([]any)[0].(map[string]any)["diagnostics"])
		})
	}
}

func TestRoutingAndNegotiation(t *testing.T) {
	m := startMock(t)
	tests := []struct {
		name        string
		method      string
		path        string
		interaction string
		scope       string
		body        []byte
		header      func(h http.Header)
		status      int
		code        string
	}{
		{name: "json _format overrides Accept", method: http.MethodGet, path: "metadata?_format=json", interaction: InteractionMetadata, scope: ScopeOrgRead,
			header: func(h http.Header) { h.Set("Accept", "text/html") }, status: 200},
		{name: "xml _format not acceptable", method: http.MethodGet, path: "metadata?_format=xml", interaction: InteractionMetadata, scope: ScopeOrgRead, status: 406, code: CodeBadRequest},
		{name: "xml Accept not acceptable", method: http.MethodGet, path: "metadata", interaction: InteractionMetadata, scope: ScopeOrgRead,
			header: func(h http.Header) { h.Set("Accept", "application/fhir+xml") }, status: 406, code: CodeBadRequest},
		{name: "no Accept follows content type", method: http.MethodGet, path: "metadata", interaction: InteractionMetadata, scope: ScopeOrgRead,
			header: func(h http.Header) { h.Del("Accept") }, status: 200},
		{name: "xml body unsupported", method: http.MethodPost, path: "Appointment", interaction: InteractionCreateAppointment, scope: ScopePatientWrite, body: []byte(`<Appointment/>`),
			header: func(h http.Header) { h.Set("Content-Type", "application/fhir+xml") }, status: 415, code: "415"},
		{name: "unknown path", method: http.MethodGet, path: "Nonsense/1", status: 404, code: CodeNoRecordFound},
		{name: "wrong case path", method: http.MethodGet, path: "patient/1", status: 404, code: CodeNoRecordFound},
		{name: "another practice's base", method: http.MethodGet, path: "/Y99999/STU3/1/gpconnect/fhir/metadata", status: 404, code: CodeNoRecordFound},
		{name: "DELETE refused by the SSP", method: http.MethodDelete, path: "Appointment/1", status: 405, code: "405"},
		{name: "PATCH refused by the SSP", method: http.MethodPatch, path: "Patient/1", status: 405, code: "405"},
		{name: "register patient not implemented", method: http.MethodPost, path: "Patient/$gpc.registerpatient", status: 501, code: CodeNotImplemented},
		{name: "unknown patient", method: http.MethodGet, path: "Patient/999", interaction: InteractionReadPatient, scope: ScopePatientRead, status: 404, code: CodePatientNotFound},
		{name: "unknown organisation", method: http.MethodGet, path: "Organization/9", interaction: InteractionReadOrganization, scope: ScopeOrgRead, status: 404, code: CodeOrganisationNotFnd},
		{name: "unknown practitioner", method: http.MethodGet, path: "Practitioner/9", interaction: InteractionReadPractitioner, scope: ScopeOrgRead, status: 404, code: CodePractitionerNotFnd},
		{name: "unknown location", method: http.MethodGet, path: "Location/9", interaction: InteractionReadLocation, scope: ScopeOrgRead, status: 404, code: CodeNoRecordFound},
		{name: "unknown appointment", method: http.MethodGet, path: "Appointment/9", interaction: InteractionReadAppointment, scope: ScopePatientRead, status: 404, code: CodeNoRecordFound},
		{name: "patient search wrong system", method: http.MethodGet, path: "Patient?identifier=https://fhir.nhs.uk/Id/other|9990000018", interaction: InteractionSearchPatient, scope: ScopePatientRead, status: 400, code: CodeInvalidIdentifierSy},
		{name: "patient search bad NHS number", method: http.MethodGet, path: "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|1234567890", interaction: InteractionSearchPatient, scope: ScopePatientRead, status: 400, code: CodeInvalidNHSNumber},
		{name: "patient search without identifier", method: http.MethodGet, path: "Patient", interaction: InteractionSearchPatient, scope: ScopePatientRead, status: 400, code: CodeBadRequest},
		{name: "patient search unknown valid number", method: http.MethodGet, path: "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9999999999", interaction: InteractionSearchPatient, scope: ScopePatientRead, status: 200},
		{name: "slot search over 14 days", method: http.MethodGet, path: slotSearchQuery(testNow, testNow.AddDate(0, 0, 20)), interaction: InteractionSearchSlot, scope: ScopeOrgRead, status: 422, code: CodeInvalidParameter},
		{name: "slot search without status", method: http.MethodGet, path: "Slot?start=ge2024-06-04&end=le2024-06-05&_include=Slot:schedule", interaction: InteractionSearchSlot, scope: ScopeOrgRead, status: 422, code: CodeInvalidParameter},
		{name: "slot search bad start", method: http.MethodGet, path: "Slot?start=2024-06-04&end=le2024-06-05&status=free&_include=Slot:schedule", interaction: InteractionSearchSlot, scope: ScopeOrgRead, status: 422, code: CodeInvalidParameter},
		{name: "patient appointments bad start", method: http.MethodGet, path: "Patient/1/Appointment?start=eq2024-06-04", interaction: InteractionPatientAppointments, scope: ScopePatientRead, status: 422, code: CodeInvalidParameter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.interaction == "" {
				tc.interaction, tc.scope = InteractionMetadata, ScopeOrgRead
			}
			rep := call(t, m, tc.method, tc.path, tc.interaction, tc.scope, tc.body, tc.header)
			require.Equal(t, tc.status, rep.status, "body: %s", rep.body)
			require.Equal(t, "no-store", rep.header.Get("Cache-Control"))
			if tc.code != "" {
				detail, _ := rep.errorCode(t)
				require.Equal(t, tc.code, detail)
			}
		})
	}
}
