package record

import "time"

// SUTEventKind names a lifecycle event of the system under test.
type SUTEventKind string

const (
	SUTStarted   SUTEventKind = "started"
	SUTHealthy   SUTEventKind = "healthy"
	SUTExited    SUTEventKind = "exited"
	SUTKilled    SUTEventKind = "killed"
	SUTPaused    SUTEventKind = "paused"
	SUTResumed   SUTEventKind = "resumed"
	SUTStopped   SUTEventKind = "stopped"
	SUTUnhealthy SUTEventKind = "unhealthy"
)

// SUTEvent is one lifecycle event. Expected is true when the harness caused
// it (a crash fault, a planned stop); an unexpected exit is what sut-alive
// fails on.
type SUTEvent struct {
	At       time.Duration `json:"at"`
	Kind     SUTEventKind  `json:"kind"`
	PID      int           `json:"pid,omitempty"`
	ExitCode int           `json:"exit_code,omitempty"`
	Expected bool          `json:"expected"`
	Detail   string        `json:"detail,omitempty"`
}

// LoadReport compares what a workload was planned to send with what it sent.
type LoadReport struct {
	Workload string `json:"workload"`
	// Planned arrivals over the load's duration at its rate.
	Planned int64 `json:"planned"`
	// Issued arrivals actually started.
	Issued int64 `json:"issued"`
	// Dropped arrivals could not start (the in-flight bound was reached).
	Dropped int64 `json:"dropped"`
	// MaxInFlight is the largest number of concurrent operations seen.
	MaxInFlight int64         `json:"max_in_flight"`
	Rate        float64       `json:"rate_per_second"`
	Duration    time.Duration `json:"duration"`
}
