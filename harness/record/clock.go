package record

import "time"

// Clock is the one monotonic clock of a run. Every recorded time is an
// offset from its base.
type Clock struct {
	base time.Time
	now  func() time.Time
}

// NewClock starts a clock at now(). now defaults to time.Now.
func NewClock(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{base: now(), now: now}
}

// Base is the instant offsets are measured from.
func (c *Clock) Base() time.Time { return c.base }

// Now is the current offset.
func (c *Clock) Now() time.Duration { return c.now().Sub(c.base) }

// Offset converts an instant taken in this process to an offset.
func (c *Clock) Offset(t time.Time) time.Duration { return t.Sub(c.base) }

// At converts an offset back to an instant.
func (c *Clock) At(d time.Duration) time.Time { return c.base.Add(d) }
