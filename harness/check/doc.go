// Package check owns the clinical-safety checks that judge a run from its
// recorded history, the mocks' effect journals and the fault windows: one
// file per check. A Check returns a Verdict — pass, fail or inconclusive —
// with a message a clinician-safety reviewer can read and the offending
// operations as evidence. Checks never look at the live system; replaying a
// run directory gives the same verdicts.
package check
