package load

import (
	"context"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Pacer decides when the next arrival is due (the vegeta shape). Given the
// time elapsed since the start and the arrivals so far, it returns how long
// to wait before the next one, or stop=true when the load is over.
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
	// Rate is the arrival rate per second at elapsed.
	Rate(elapsed time.Duration) float64
}

// Arrival is one scheduled iteration of a workload.
type Arrival struct {
	// N is the arrival's 0-based sequence number within its workload.
	N uint64
	// Intended is the offset on the run clock at which it was due.
	Intended time.Duration
}

// Workload is one clinical journey, run once per arrival.
type Workload interface {
	Name() string
	// Iterate runs one journey and returns the operation it made. It must
	// set Call, Return, Outcome and the correlation keys; the generator sets
	// Workload and Intended. ctx carries the operation's timeout.
	Iterate(ctx context.Context, a Arrival) record.Operation
}
