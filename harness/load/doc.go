// Package load owns the open-model load: pacers (when the next arrival is
// due), workloads (one clinical journey per arrival) and the generator that
// starts an arrival on schedule whether or not earlier ones have returned.
// Latency is measured from the intended send time, so a stalled system
// cannot hide behind a stalled generator (no coordinated omission).
package load
