// Command referral-gateway is a reference integration that shakedown pilots.
// It is a small HTTP service that turns each clinician referral request into
// an NHS e-Referral Service createReferral call (A011, FHIR STU3), and it runs
// in one of two modes so that a scenario can show how an incident happens and
// how to survive it.
//
// # Inbound API
//
//	POST /referrals          {"requestId","nhsNumber","serviceId","priority","specialty","clinicType"}
//	GET  /referrals/{id}     {"requestId","state","ubrn",...}
//	GET  /health             {"status":"ok"}
//
// requestId is the caller's unique id for the referral. The NHS number is
// checked (ten digits, modulus-11 check digit) before anything is sent.
//
// # Modes
//
// --mode naive is how the incidents happened. Each request is handled
// synchronously; the e-RS client has no timeout; any transport error, 5xx or
// 429 is retried at once, blindly, up to five attempts with a fresh
// X-Correlation-ID each time, and nothing is written to disk. Because e-RS has
// no idempotency keys, a createReferral whose response is lost after the
// referral was committed is simply sent again, and the patient gets a second
// UBRN. Answers are 201 {"requestId","ubrn","state":"created"} or 502.
//
// --mode resilient answers 202 {"requestId","state":"queued"} as soon as the
// referral is durably in an outbox under --state-dir, and is idempotent by
// requestId. A pool of sender workers drains the outbox with a per-attempt
// timeout, capped exponential backoff with jitter, and a shared gate that
// honours Retry-After on 429 and 503. An attempt whose outcome is unknown (a
// timeout, a connection lost after the request was written, an ambiguous 5xx,
// or a process that died mid-send) makes the referral "uncertain"; before an
// uncertain referral is sent again it is reconciled against the
// AWAITING_BOOKING worklist (A008) and read back (A005), so a referral that
// did reach e-RS is recorded with its UBRN instead of being created twice.
//
// # Configuration
//
// Flags override the environment: --mode (naive|resilient, required),
// --listen ($SHAKEDOWN_SUT_ADDR), --ers-url ($SHAKEDOWN_ERS_URL, the e-RS base
// URL including /referrals/FHIR), --state-dir ($SHAKEDOWN_SUT_STATE_DIR,
// required in resilient mode). Credentials come only from the environment and
// are all required: $SHAKEDOWN_ERS_TOKEN (Authorization: Bearer),
// $SHAKEDOWN_ERS_ODS_CODE (NHSD-End-User-Organisation-ODS) and
// $SHAKEDOWN_ERS_BUSINESS_FUNCTION (NHSD-eRS-Business-Function). Resilient
// tuning: --workers (4), --attempt-timeout (3s), --backoff-base (250ms),
// --backoff-cap (5s), --uncertain-settle (20s: how long after an uncertain
// send the gateway keeps looking for it before sending again, which covers
// an e-RS still processing a request the client gave up on). Also
// --log-level and --shutdown-grace (10s). A configuration error names what
// is missing and the flag or variable that sets it, and exits with status 2;
// an e-RS URL on an nhs.uk or nhs.net host is refused.
//
// # State directory
//
// The outbox is one JSON file per referral in <state-dir>/outbox, named by the
// SHA-256 (hex) of the requestId, holding the referral, its state, its UBRN
// once known, the attempt count, the first and last attempt start times and
// the last error. Every change is written to a temporary file, fsync'd,
// renamed over the old file, and the directory is fsync'd, so a record is
// either the old version or the new one after a crash. On start, leftover
// temporary files are removed, unreadable records are moved aside to
// *.corrupt (and logged as errors), and records in state "sending" become
// "uncertain".
package main
