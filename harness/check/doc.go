// Package check owns the clinical-safety checks that judge a run from its
// recorded history, the mocks' effect journals and the fault windows: one
// file per check. A Check returns a Verdict — pass, fail or inconclusive —
// with a message a clinician-safety reviewer can read and the offending
// operations as evidence. Checks never look at the live system; replaying a
// run directory gives the same verdicts.
//
// FromSpec builds a check from a scenario's CheckSpec:
//
//   - no-lost-referrals {within}: every referral the SUT accepted reached
//     e-RS by `within` after the later of its acceptance and the last fault.
//   - no-duplicate-referrals: no patient has more than one UBRN in e-RS.
//   - latency {phase, p50, p95, p99}: nearest-rank latency percentiles,
//     measured from the intended send time, within their limits.
//   - error-rate {phase, max}: the fraction of operations refused or left
//     unanswered is at most max.
//   - sut-alive: the SUT never exited unless the harness made it.
//   - host-responsive {max_block, max_freezes, max_unsafe}: over the
//     operations driven through the clinical system's CDS Hooks host, no
//     action blocked the clinician's screen longer than max_block, at most
//     max_freezes hook calls overran the UI budget and at most max_unsafe
//     answers were ones a real host could crash on.
//   - ordering-continues: every order was signed, with or without decision
//     support; the pass message says how many went ahead without it.
//   - no-lost-results {within}: every pathology result the SUT acknowledged
//     with AA reached MESH (a "message.sent" whose local_id is its MSH-10 or
//     whose content_hash is its content hash) by `within` after the later of
//     the AA and the last fault. Settled.
//   - no-duplicate-results: no Bundle identifier (else MESH local id) was
//     sent through MESH twice, and no clinical content reached MESH more
//     often than the lab sent distinct results carrying it.
//   - ack-integrity: no ACK for another message arrived while a result was
//     in flight (mismatched_acks), and every AA'd result reached MESH by the
//     end of the run. Settled.
//   - per-patient-order: each patient's results reached MESH in the order
//     the lab sent them.
//   - mesh-acknowledged {within}: every message the mesh-inbound workload
//     delivered into the SUT's MESH mailbox was acknowledged (a
//     "message.acknowledged" with its message_id) by `within` after the
//     later of the delivery and the last fault. Settled.
//
// Phases (PhaseOps, Stats) place an operation by its intended send time
// against the fault windows: all, steady, before-faults, during-faults,
// after-faults and fault-N. Reports reuse them for per-phase figures.
package check
