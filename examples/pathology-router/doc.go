// Command pathology-router is a reference integration for issue 4
// (pathology results never lost, never duplicated, never misfiled). It
// receives HL7 v2 ORU^R01 results over MLLP, converts each into a FHIR R4
// pathology message Bundle (INTERFACES §4.2) and sends it to the practice's
// MESH mailbox on workflow PATH_BS_R4.
//
// # Configuration
//
// Flags override the environment the harness sets:
//
//	--mode naive|resilient   required
//	--listen                 MLLP address ($SHAKEDOWN_SUT_ADDR)
//	--health-listen          HTTP address for GET /health ($SHAKEDOWN_SUT_HEALTH_ADDR); MLLP and
//	                         HTTP cannot share a port, so health is off when this is empty
//	--state-dir              outbox directory, resilient mode ($SHAKEDOWN_SUT_STATE_DIR)
//	--mesh-url               MESH base URL, without /messageexchange ($SHAKEDOWN_MESH_URL)
//	--mesh-to                the practice's mailbox ($SHAKEDOWN_MESH_TO)
//	--attempt-timeout, --backoff-base, --backoff-cap, --naive-attempts, --max-frame,
//	--shutdown-grace, --log-level
//
// Credentials come only from $SHAKEDOWN_MESH_MAILBOX, $SHAKEDOWN_MESH_PASSWORD
// and $SHAKEDOWN_MESH_SHARED_KEY (NHSMESH HMAC, a fresh nonce per request).
// Configuration errors are all listed at once and exit 2.
//
// # Conversion
//
// Bundle.type message; MessageHeader (event unsolicited-observations, sender
// lab Organization from MSH-4, receiver GP Organization from MSH-6, focus
// DiagnosticReport); Patient with the NHS number from PID-3 (modulus-11
// checked); Practitioner (OBR-16) and ServiceRequest (OBR-2/4);
// DiagnosticReport (OBR-3/4/7/22/25, NTE as conclusion); one Observation per
// OBX with valueQuantity (NM), valueCodeableConcept (CE/CWE) or valueString,
// referenceRange from OBX-7 ("lo-hi", "<x", ">x", else text) and
// interpretation from OBX-8. OBR-25/OBX-11 F, P, C, X map to final,
// preliminary, corrected, cancelled. Every id is a UUID v5 of MSH-10, so the
// same MSH-10 always gives the same Bundle.identifier. Sent with mex-LocalID
// = MSH-10 and Content-Type application/fhir+json.
//
// # ACKs
//
// MSA-2 is always the received MSH-10. AA accepted; AE for a result that
// parses but cannot be used (no or invalid NHS number, unknown status or
// abnormal flag, non-numeric NM value); AR for a frame that does not parse,
// is not ORU^R01 or has no MSH-10, and in resilient mode when the outbox
// cannot be written (resend later).
//
// # Modes
//
// --mode naive is how the incidents happen: AA as soon as the frame parses,
// a send from memory, an immediate re-POST on a timeout or connection error
// (each a new MESH message) and no de-duplication of lab resends.
//
// --mode resilient writes the result to the outbox (temp file, fsync,
// rename, directory fsync) before it ACKs AA, and de-duplicates on MSH-10: a
// resend is ACKed AA again and not forwarded. One sender drains the outbox in
// order with a timeout per call and capped, jittered backoff; a 429/503
// Retry-After is honoured exactly. A send whose outcome is uncertain (no
// answer, a lost 202, 5xx other than 503) is checked with GET
// .../outbox/tracking?localID=MSH-10 before it is posted again; records left
// "sending" by a crash are reloaded as uncertain and tracked first.
// 400/417/422 from MESH are permanent: the record is marked failed and logged
// at ERROR for a person.
package main
