// Package load owns the open-model load: pacers (when the next arrival is
// due), workloads (one clinical journey per arrival) and the generator that
// starts an arrival on schedule whether or not earlier ones have returned.
// Latency is measured from the intended send time, so a stalled system
// cannot hide behind a stalled generator (no coordinated omission).
//
//   - ConstantPacer: Freq arrivals every Per for Duration, without drift.
//   - Run: the generator. Each arrival runs in its own goroutine at its due
//     time under its own timeout; arrivals beyond MaxInFlight are dropped
//     and counted, never delayed; cancelling the context stops new arrivals
//     and Run returns once those in flight have finished. It returns a
//     record.LoadReport of planned against issued load.
//   - ReferPatient ("refer-patient"): a GP refers one synthetic patient per
//     arrival through the SUT's POST /referrals.
//   - OrderImaging ("order-imaging"): a clinician orders imaging in the GP
//     clinical system, whose CDS Hooks host calls the SUT (a CDS service) on
//     order-select and order-sign; the operation carries the host's view
//     (record.HostView) and the order is journalled as order.signed or
//     order.abandoned in the clinical mock's journal.
//   - LabResults ("lab-results"): the pathology lab sends one seeded ORU^R01
//     per arrival to the SUT over MLLP (through the stack's inbound proxy)
//     and waits for its ACK; OK = a matching AA, Fail = AE/AR, Unknown = no
//     matching ACK. PathologyLab adapts a *pathology.Lab to its LabSender.
package load
