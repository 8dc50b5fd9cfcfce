package load

import (
	"math/bits"
	"time"
)

// ConstantPacer issues arrivals at a constant rate for a fixed duration.
//
// Arrival i (0-based) is due at i × Per / Freq after the start, so
// at 3/s the arrivals fall at 0s, 333.333333ms, 666.666666ms, 1s, … with no
// drift. The load stops at the first arrival whose due time is at or after
// Duration. A Freq or Per not positive, or a Duration not positive, plans no
// arrivals.
//
// The fields follow vegeta's Rate (Freq arrivals every Per); a scenario's
// rate maps across as ConstantPacer{Freq: r.Count, Per: r.Per, Duration: d}.
type ConstantPacer struct {
	Freq     int
	Per      time.Duration
	Duration time.Duration
}

var _ Pacer = ConstantPacer{}

// Pace returns how long to wait after elapsed for arrival number hits, or
// stop=true when that arrival would fall at or after Duration. A late caller
// (elapsed past the due time) gets wait 0: catching up is the generator's
// business, and the arrival keeps its original due time.
func (p ConstantPacer) Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool) {
	if !p.valid() {
		return 0, true
	}
	due, ok := p.due(hits)
	if !ok || due >= p.Duration {
		return 0, true
	}
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate is the constant rate in arrivals per second (0 when the pacer plans
// nothing).
func (p ConstantPacer) Rate(time.Duration) float64 {
	if !p.valid() {
		return 0
	}
	return float64(p.Freq) / p.Per.Seconds()
}

// Planned is the number of arrivals the pacer will issue.
func (p ConstantPacer) Planned() int64 {
	if !p.valid() {
		return 0
	}
	// Smallest n whose due time reaches Duration, found by doubling then
	// bisecting over the same due() that Pace uses, so the two always agree.
	before := func(n uint64) bool {
		d, ok := p.due(n)
		return ok && d < p.Duration
	}
	hi := uint64(1)
	for before(hi) {
		hi *= 2
	}
	lo := hi / 2 // before(lo) holds: arrival 0 is due at 0 < Duration
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if before(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return int64(hi)
}

func (p ConstantPacer) valid() bool {
	return p.Freq > 0 && p.Per > 0 && p.Duration > 0
}

// due is arrival n's offset from the start. It splits n into whole periods
// and a remainder so the product cannot overflow for any realistic run; ok is
// false if it would.
func (p ConstantPacer) due(n uint64) (time.Duration, bool) {
	count := uint64(p.Freq)
	per := uint64(p.Per)
	whole, rem := n/count, n%count
	const maxDur = uint64(1<<63 - 1)
	if whole != 0 && per > maxDur/whole {
		return 0, false
	}
	// rem < count, so rem×per/count < per: the 128-bit quotient fits.
	hi, lo := bits.Mul64(rem, per)
	part, _ := bits.Div64(hi, lo, count)
	d := whole*per + part
	if d > maxDur || d < part {
		return 0, false
	}
	return time.Duration(d), true
}

// planner is implemented by pacers that know how many arrivals they plan.
type planner interface {
	Planned() int64
}

// maxSimulatedArrivals bounds PlannedArrivals' walk through a pacer that
// cannot say how many arrivals it plans.
const maxSimulatedArrivals = 1 << 24

// PlannedArrivals returns how many arrivals p will issue if nothing is late
// or cancelled. Pacers with a Planned method are asked; others are walked
// through in virtual time. ok is false when the count cannot be known (the
// pacer did not stop within 16,777,216 arrivals).
func PlannedArrivals(p Pacer) (n int64, ok bool) {
	if pl, isPlanner := p.(planner); isPlanner {
		return pl.Planned(), true
	}
	var at time.Duration
	for hits := uint64(0); hits < maxSimulatedArrivals; hits++ {
		wait, stop := p.Pace(at, hits)
		if stop {
			return int64(hits), true
		}
		at += wait
	}
	return 0, false
}
