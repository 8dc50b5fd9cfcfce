// Command imaging-cds is a reference integration that shakedown pilots: a
// CDS Hooks service that rates draft imaging orders (PAMA-style) using the
// patient's GP record from GP Connect. It reproduces the TPP iRefer incident
// in Essex, where an imaging decision-support integration kept crashing
// practice computers while clinicians ordered tests until it was switched
// off as "clinically dangerous": the clinical system calls this service
// synchronously while the clinician waits, and this service in turn waits on
// GP Connect.
//
// # Inbound (CDS Hooks service)
//
//	GET  /cds-services                      discovery: imaging-order-select (order-select), imaging-order-sign (order-sign)
//	POST /cds-services/{id}                 {hook, hookInstance, fhirServer, context{userId, patientId, draftOrders, selections}, prefetch}
//	POST /cds-services/{id}/feedback        200; logged and counted
//	GET  /health                            {"status":"ok", counters}
//
// Every hook and feedback call must carry the host's Authorization: Bearer
// JWT: alg ES384 (none and HMAC are refused), kid found in the host's JWKS
// (--jwks-url; keys cached, refetched for an unknown kid at most every 2s),
// iss equal to $SHAKEDOWN_GPCONNECT_ISSUER when that is set, aud equal to
// this service's endpoint (--self-url + "/cds-services/" + id; feedback also
// accepts the feedback URL), exp not passed (5s leeway). Anything else is 401
// {"error": why}. context.patientId is the NHS number ("Patient/<nhs>" is
// accepted); a request that is not a CDS Hooks call for this service, or
// whose fhirServer is an nhs.uk/nhs.net host, is 400. For order-select only
// the selected draft orders are rated (all of them if there are no
// selections).
//
// The answer has one info card per rated order (summary at most 140
// characters, source label "shakedown imaging-cds (illustrative)") and a
// top-level systemActions "update" of each draft ServiceRequest carrying the
// extension http://fhir.org/argonaut/Extension/pama-rating (appropriate |
// not-appropriate | no-guidelines-apply) and a pama-rating-consult-id.
//
// # Outbound (GP Connect consumer)
//
// POST {fhirServer}/Patient/$gpc.getstructuredrecord, with fhirServer taken
// from the hook request or else --gpconnect-url. Headers: Ssp-TraceID (a
// fresh UUID), Ssp-From ($SHAKEDOWN_GPCONNECT_CONSUMER_ASID), Ssp-To
// ($SHAKEDOWN_GPCONNECT_PROVIDER_ASID), Ssp-InteractionID
// urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1,
// Accept and Content-Type application/fhir+json, and Authorization: Bearer
// an unsigned JWT (alg none, trailing ".") with iss (this service), sub and
// requesting_practitioner (from the host's userId), aud (the fhirServer
// URL), iat, exp = iat+300, reason_for_request directcare, requested_scope
// patient/*.read, requesting_device (Device) and requesting_organization
// (Organization with ODS code $SHAKEDOWN_GPCONNECT_CONSUMER_ODS, default
// Y00001).
//
// # Rating
//
// rules.go holds a small documented rule table (lumbar spine MRI/CT for low
// back pain with a 6-week window and red flags from problems and a raised
// CRP; CT head for headache with red flags). Its clinical content is
// ILLUSTRATIVE ONLY and is not clinical guidance.
//
// # Modes
//
// --mode naive is how iRefer-style incidents happen: no time budget and an
// HTTP client with no timeout, so the clinician waits as long as GP Connect
// takes; the full structured record (every include) is fetched on every
// hook, order-select and order-sign alike, with no cache; the whole body is
// read whatever its size and decoded into map[string]any; the record's
// problem text is used as the card summary exactly as it came (any JSON
// type, any length, control characters and all), so malformed or huge
// upstream data flows straight to the host; any upstream failure is a 500.
//
// --mode resilient answers within --budget (1200ms) per hook, with the GP
// Connect call bounded inside it, asking only for problems and the last 90
// days of investigations. When it cannot rate (timeout, SSP 502/504/599,
// 4xx, a record over --max-record-bytes (4 MiB), malformed JSON or wrong
// JSON types anywhere in a Condition or Observation, or the circuit breaker
// open) it answers 200 with one info card "Imaging guidance unavailable —
// order not rated", never blocking the order. Records are cached per patient
// for --cache-ttl (5m), so order-sign after order-select does not refetch.
// The circuit breaker opens after --breaker-failures (5) consecutive
// failures that mean GP Connect is down or slow (timeouts, connection
// errors, 5xx, 429), answers at once while open, and lets one probe through
// after --breaker-cooldown (5s). Card text is built by the service; record
// text in it is stripped of control and format characters and clamped
// (summary ≤ 140, detail ≤ 1000).
//
// # Configuration
//
// Flags override the environment: --mode (required), --listen
// ($SHAKEDOWN_SUT_ADDR), --self-url ($SHAKEDOWN_SUT_URL, else
// http://<listen address>), --gpconnect-url ($SHAKEDOWN_GPCONNECT_URL),
// --jwks-url ($SHAKEDOWN_GPCONNECT_JWKS_URL). Environment only:
// $SHAKEDOWN_GPCONNECT_CONSUMER_ASID and $SHAKEDOWN_GPCONNECT_PROVIDER_ASID
// (required), $SHAKEDOWN_GPCONNECT_CONSUMER_ODS, $SHAKEDOWN_GPCONNECT_ISSUER.
// Also --budget, --cache-ttl, --max-record-bytes, --breaker-failures,
// --breaker-cooldown, --log-level, --shutdown-grace (10s). A configuration
// error lists every problem with the flag or variable that fixes it and
// exits 2; URLs on nhs.uk or nhs.net hosts are refused. SIGINT/SIGTERM shut
// down gracefully (exit 0).
package main
