// Package harness owns one run of a scenario: start the stack (mocks behind
// Toxiproxy) and the system under test, drive the load and the fault
// timeline on one monotonic clock, revert every fault whatever happens,
// drain until the checks' deadlines, evaluate the checks, write the run
// directory and classify the outcome into an exit code.
//
// The engine never decides a verdict itself: checks do. What it adds is the
// validity of the run — was the planned load reached, did every fault
// demonstrably touch traffic — because a run that did not test anything must
// be inconclusive, never a pass.
package harness
