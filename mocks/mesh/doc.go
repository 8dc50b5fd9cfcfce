// Package mesh is an in-memory mock of the NHS MESH API (Message Exchange
// for Social Care and Health) under /messageexchange, through which
// pathology results reach GP practices.
//
// It authenticates every request with the NHSMESH HMAC token (single-use
// nonces, two hours' clock skew, the header's mailbox must equal the path's)
// and implements the handshake, inbox listing (v1 capped at 500 ids, v2
// max_results with links.next), download (206 plus mex-Chunk-Range for
// chunked messages, GET .../inbox/{id}/{n} for the rest), idempotent
// acknowledge, send (single and chunked, gzip Content-Encoding), tracking
// by message id and by local id, a delivery delay before a sent message
// appears in the recipient's inbox, and undelivered REPORT messages (code
// 14) to the sender when a message stays unacknowledged past the expiry.
// Accept: application/vnd.mesh.v2+json selects the v2 shapes; anything else
// the v1 shapes, except an unknown vnd.mesh version, which is 400.
//
// Time comes from WithClock, so tests move the clock and call Sweep instead
// of sleeping; a started mock also sweeps every 100 ms.
//
// Journal (service "mesh"): message.sent (keys message_id, local_id, from,
// to, workflow, and when the body — gunzipped, chunks assembled — is a FHIR
// Bundle: bundle_id, nhs_number and content_hash, the
// synthetic.ResultContentHash the pathology lab also journals; attrs bytes,
// chunks, compressed), message.delivered,
// message.downloaded (one per chunk), message.acknowledged (first time
// only), report.undelivered (keys message_id of the report,
// linked_message_id, to = the original sender) and request.faulted.
//
// In-band faults (Faults, tenant = path mailbox) name these operations:
// handshake, listInbox, download, downloadChunk, acknowledge, send,
// sendChunk, tracking. Status faults answer with MESH error bodies (v1 or
// v2 by Accept). A lost-response fault on send stores the message and then
// drops the connection before the 202: the duplicate maker. A correct
// client recovers by tracking its mex-LocalID instead of re-sending.
// Delivery-delay spikes are SetDeliveryDelay.
package mesh
