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
//	--poll-interval          how often to poll the router's own MESH inbox (default 1s; 0 turns it off)
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
//
// # Inbox
//
// Both modes poll the router's own MESH inbox (GET .../inbox every
// --poll-interval, following "next" links), download each message (all
// chunks) and acknowledge it (PUT .../inbox/{id}/status/acknowledged):
// PATH_BS_R4_ACK business acknowledgements from the practice, undelivered
// REPORTs, anything. Resilient logs each message, writes a record of it to
// <state-dir>/inbox (one file per MESH message id, written like the outbox)
// and only then acknowledges it; a message already recorded is acknowledged
// again but not downloaded or processed again (de-duplication by message
// id, also across a crash). 429/503 are retried after Retry-After, other
// failures after a capped, jittered backoff; MESH unavailable ends the poll
// early and the poller backs off; one bad message does not hold up the rest.
// Naive lists the inbox once per poll and works down it with no retry or
// backoff, acknowledging only bodies that parse as JSON. The first error
// ends the poll, and it remembers every id it has started on before the
// download (to avoid handling a message twice), so a message whose
// download, parse or acknowledgement failed is never tried again: under
// faults messages stay in the inbox unacknowledged until MESH expires them
// back to their sender.
package main
