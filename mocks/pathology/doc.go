// Package pathology owns both sides of a pathology lab feed: HL7 v2 ORU^R01
// results over MLLP.
//
// Lab is the lab's sender: it sends seeded synthetic results to a target
// address the way real senders (Mirth, LIMS interface engines) do — one
// message in flight per connection, an ACK timeout (DefaultACKTimeout), then
// the same message again with the same MSH-10, reconnecting when the
// connection is lost. That is the behaviour that floods receivers with
// duplicates. It records, per message, when each copy was sent, every ACK
// that arrived while it was in flight and whether that ACK's MSA-2 matched
// its MSH-10, so a late ACK for an earlier message is seen as mismatched
// rather than silently taken as this message's.
//
// Listener is an inbound results listener (a GP system or order-comms
// interface that a SUT sends results onward to): it validates each ORU^R01
// and answers AA, AE (application error, e.g. an unknown patient or a
// missing NHS number) or AR (reject: unparseable, wrong message type,
// version or processing id) with MSA-2 set to the received MSH-10, and
// journals what it accepted with a hash of the clinical content, so that
// duplicates re-sent under a new MSH-10 can be found. Both sides hash with
// ContentHash (synthetic.ResultContentHash), the same function the MESH mock
// uses on FHIR Bundles, so a result can be followed from lab to mailbox.
//
// In-band faults use Faults, a small MLLP-level equivalent of
// inband.Controller (which is HTTP-shaped): the same Add / Remove / Counts /
// Clear / Total / Active semantics, per-message seeded fractions, and counts
// of messages seen and faulted as the evidence a fault window touched
// traffic. The listener implements WithholdACK, LateACK, ErrorACK and
// RejectACK; the lab implements Burst, SilentDrop and Backlog.
//
// Journal (service "pathology"):
//
//	lab:      result.sent     keys msh10, nhs_number, content_hash  attrs attempt, status
//	          result.resent   keys msh10, nhs_number, content_hash  attrs attempt, status, reason (ack-timeout, connection-lost, burst)
//	          ack.received    keys msh10 (the message in flight)  attrs code, msa2, matched
//	          result.dropped  keys msh10, nhs_number, content_hash  (SilentDrop: journalled as sent, never sent)
//	          result.held     keys msh10, nhs_number, content_hash  (Backlog)
//	listener: result.accepted keys msh10, nhs_number, filler_order, test_code, result_status
//	                          attrs content_hash, version, duplicate_msh10, duplicate_content
//	          result.rejected keys msh10, nhs_number  attrs code (AE/AR), error, fault
//	          ack.withheld, ack.delayed  keys msh10  attrs delay
package pathology
