// Package scenario owns the scenario model and its strict YAML loading:
// unknown keys are errors, every problem in a file is reported at once with
// file:line:col and a hint, durations are Go durations and rates are N/s or
// N/m. It knows which faults, checks, workloads and services exist and which
// attributes each one takes, so `shakedown validate` can judge a file
// without starting anything.
//
// LoadFile and Parse decode a file by walking its YAML nodes, so that every
// field keeps its position; they return the scenario and, if anything is
// wrong, a *Problems listing all of it, sorted by position. Validate (and
// ValidateWith, for options such as AllowHosts) runs the semantic checks
// alone, for a scenario built in code or changed by CLI overrides after
// loading; problems then point into the original file where it is known.
//
// The catalog (Faults, Checks, Workloads, Services, Phases) is a set of
// tables in catalog.go. Adding a fault, check, workload or service is adding
// a row there; the decoder and validator are driven by the tables and by the
// model's yaml (Step, SUT, Load, ...) and json (CheckSpec) tags.
//
// Scenario files are plain YAML: one document, a mapping at the root, no
// anchors/aliases and no merge keys (<<), so every value is visible where it
// applies.
package scenario
