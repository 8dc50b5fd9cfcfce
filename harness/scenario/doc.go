// Package scenario owns the scenario model and its strict YAML loading:
// unknown keys are errors, every problem in a file is reported at once with
// file:line:col and a hint, durations are Go durations and rates are N/s or
// N/m. It knows which faults, checks, workloads and services exist and which
// attributes each one takes, so `shakedown validate` can judge a file
// without starting anything.
package scenario
