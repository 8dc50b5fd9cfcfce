// Package fault owns the faults of the timeline: one file per kind. A Fault
// is injected into a Target and returns its own Revert; the engine reverts
// in reverse order on success, failure, panic and interrupt. Network faults
// are Toxiproxy toxics or a disabled proxy; SUT faults kill or freeze the
// process; in-band faults make a mock misbehave at the protocol level.
// Randomness is decided by the harness from the run's seed, so toxics are
// always applied at toxicity 1.0.
package fault
