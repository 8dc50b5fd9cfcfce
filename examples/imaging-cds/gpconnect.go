package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// GP Connect constants (INTERFACES.md §3).
const (
	interactionStructured = "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
	fhirJSON              = "application/fhir+json"
	nhsNumberSystem       = "https://fhir.nhs.uk/Id/nhs-number"
	odsSystem             = "https://fhir.nhs.uk/Id/ods-organization-code"
	sdsUserSystem         = "https://fhir.nhs.uk/Id/sds-user-id"
	sdsRoleSystem         = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	jwtLifetime           = 300 // seconds: exp = iat + 300 exactly
	softwareName          = "shakedown-imaging-cds"
	softwareVersion       = "0.1.0"
	defaultPractitionerID = "imaging-cds-user"
)

// gpcClient calls GP Connect's $gpc.getstructuredrecord as a consumer.
type gpcClient struct {
	http         *http.Client
	consumerASID string
	providerASID string
	consumerODS  string
	issuer       string // iss of the unsigned JWT: this consumer system
	now          func() time.Time
}

// recordQuery is what to ask for.
type recordQuery struct {
	base           string // FHIR base of the provider, no trailing slash
	nhsNumber      string
	practitionerID string
	full           bool // every include (naive) rather than problems + investigations
}

// upstreamError is a non-2xx answer from GP Connect or the SSP in front of
// it (502 ERROR_COMMUNICATING_TO_ENDPOINT_URL, 504 or 599 timeouts, ...).
type upstreamError struct {
	status int
	body   string // the start of the body, for the log
}

func (e *upstreamError) Error() string {
	return fmt.Sprintf("GP Connect answered %d: %s", e.status, e.body)
}

// transient is true for answers that say GP Connect is unavailable, as
// opposed to a problem with this patient or request.
func (e *upstreamError) transient() bool {
	return e.status >= 500 || e.status == http.StatusTooManyRequests || e.status == http.StatusRequestTimeout
}

// do sends the request and returns the response for the caller to read.
func (c *gpcClient) do(ctx context.Context, q recordQuery) (*http.Response, error) {
	body, err := json.Marshal(structuredParameters(q.nhsNumber, q.full, c.now()))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.base+"/Patient/$gpc.getstructuredrecord", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	jwt, err := c.accessToken(q.base, q.practitionerID)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Ssp-TraceID", newUUID())
	req.Header.Set("Ssp-From", c.consumerASID)
	req.Header.Set("Ssp-To", c.providerASID)
	req.Header.Set("Ssp-InteractionID", interactionStructured)
	req.Header.Set("Accept", fhirJSON)
	req.Header.Set("Content-Type", fhirJSON)
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &upstreamError{status: resp.StatusCode, body: strings.TrimSpace(string(snippet))}
	}
	return resp, nil
}

// parameter is a FHIR STU3 Parameters.parameter (only the value types used).
type parameter struct {
	Name            string      `json:"name"`
	ValueIdentifier *identifier `json:"valueIdentifier,omitempty"`
	ValueBoolean    *bool       `json:"valueBoolean,omitempty"`
	ValuePeriod     *fhirPeriod `json:"valuePeriod,omitempty"`
	Part            []parameter `json:"part,omitempty"`
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirPeriod struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// investigationLookback is how far back the resilient request asks for
// investigations ("recent" results for the rules).
const investigationLookback = 90 * 24 * time.Hour

// structuredParameters is the $gpc.getstructuredrecord body. The resilient
// query asks only for what the rules read: problems and recent
// investigations. The full (naive) query asks for everything.
func structuredParameters(nhs string, full bool, now time.Time) map[string]any {
	t := true
	params := []parameter{{
		Name:            "patientNHSNumber",
		ValueIdentifier: &identifier{System: nhsNumberSystem, Value: nhs},
	}}
	if full {
		params = append(params,
			parameter{Name: "includeAllergies", Part: []parameter{{Name: "includeResolvedAllergies", ValueBoolean: &t}}},
			parameter{Name: "includeMedication", Part: []parameter{{Name: "includePrescriptionIssues", ValueBoolean: &t}}},
			parameter{Name: "includeConsultations"},
			parameter{Name: "includeProblems"},
			parameter{Name: "includeImmunisations"},
			parameter{Name: "includeUncategorisedData"},
			parameter{Name: "includeInvestigations"},
			parameter{Name: "includeReferrals"},
		)
	} else {
		params = append(params,
			parameter{Name: "includeProblems"},
			parameter{Name: "includeInvestigations", Part: []parameter{{
				Name: "investigationSearchPeriod",
				ValuePeriod: &fhirPeriod{
					Start: now.Add(-investigationLookback).UTC().Format(time.DateOnly),
					End:   now.UTC().Format(time.DateOnly),
				},
			}}},
		)
	}
	return map[string]any{
		"resourceType": "Parameters",
		"meta": map[string]any{"profile": []string{
			"https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-GetStructuredRecord-Operation-1"}},
		"parameter": params,
	}
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// practitionerIDFrom takes the host's userId ("Practitioner/123" or
// "PractitionerRole/123") and returns a FHIR id usable in the JWT.
func practitionerIDFrom(userID string) string {
	if i := strings.LastIndexByte(userID, '/'); i >= 0 {
		userID = userID[i+1:]
	}
	if safeID.MatchString(userID) {
		return userID
	}
	return defaultPractitionerID
}

// accessToken is the GP Connect unsigned JWT (alg none, empty signature,
// trailing "."), with the audit claims the spec requires and exp = iat+300.
func (c *gpcClient) accessToken(aud, practitionerID string) (string, error) {
	iat := c.now().Unix()
	claims := map[string]any{
		"iss":                c.issuer,
		"sub":                practitionerID,
		"aud":                aud,
		"iat":                iat,
		"exp":                iat + jwtLifetime,
		"reason_for_request": "directcare",
		"requested_scope":    "patient/*.read",
		"requesting_device": map[string]any{
			"resourceType": "Device",
			"identifier":   []identifier{{System: "https://shakedown.invalid/device", Value: softwareName}},
			"model":        softwareName,
			"version":      softwareVersion,
		},
		"requesting_organization": map[string]any{
			"resourceType": "Organization",
			"identifier":   []identifier{{System: odsSystem, Value: c.consumerODS}},
			"name":         "shakedown test practice (synthetic)",
		},
		"requesting_practitioner": map[string]any{
			"resourceType": "Practitioner",
			"id":           practitionerID,
			"identifier": []identifier{
				{System: sdsUserSystem, Value: "UNK"},
				{System: sdsRoleSystem, Value: "UNK"},
				{System: "https://shakedown.invalid/user-id", Value: practitionerID},
			},
			"name": []map[string]any{{"family": "TESTCLINICIAN", "given": []string{"Synthetic"}, "prefix": []string{"Dr"}}},
		},
	}
	hdr, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(hdr) + "." + enc.EncodeToString(body) + ".", nil
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var errRecordTooLarge = errors.New("structured record is larger than --max-record-bytes")
