// Package ers owns the NHS e-Referral Service (e-RS) mock: a stateful,
// in-memory imitation of the e-RS FHIR API (mostly STU3, plus the R4
// PractitionerRole look-up) that a supplier's unchanged e-RS client can work
// against.
//
// It implements, with the real headers, statuses and bodies:
//
//	A011 POST /STU3/ReferralRequest/$ers.createReferral                 → 201 ReferralRequest (NOT_BOOKED)
//	A021 POST /STU3/ReferralRequest/$ers.createReferralAndSendForTriage → 201 ReferralRequest (AWAITING_TRIAGE)
//	A005 GET  /STU3/ReferralRequest/{ubrn}[/_history/{version}]         → ReferralRequest + ETag
//	A008 POST /STU3/ReferralRequest/$ers.fetchworklist                  → List (referrer and provider worklists)
//	A036 POST /STU3/ReferralRequest/{ubrn}/$ers.cancelReferral          → Parameters (If-Match, 409, 422)
//	A030 GET  /R4/PractitionerRole                                      → Bundle of PractitionerRole
//
// Every other e-RS path answers 501 with an honest eRS OperationOutcome
// ("not implemented by this mock"); anything else is 404.
//
// Requests are checked the way the API gateway and e-RS check them: bearer
// token (401 NO_ACCESS), ODS and business-function headers (400
// MISSING_HEADER, 403 FORBIDDEN), Accept (406), Content-Type (415), and the
// body (422 with the eRS error code and a diagnostics string). Responses echo
// X-Correlation-ID and carry X-Request-ID.
//
// Every effect is journalled (mocks/journal, service "ers"):
// "referral.created", "referral.cancelled", "referral.updated" and
// "request.faulted". In-band faults (429, 503, lost responses, delays) come
// from mocks/inband through Mock.Faults.
//
// Differences from the real service are deliberate and documented where they
// are made: state is in memory, UBRNs are seeded, there is one synthetic
// provider organisation for every service, and only the latest version of a
// referral can be read through _history (as e-RS itself documents).
//
// Mocks import nothing from harness/.
package ers
