package fault

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// Kinds lists every fault kind a timeline step may name.
var Kinds = []string{
	"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data",
	"down", "crash", "hang", "status", "lost-response", "delay", "malformed",
}

// FromStep builds the fault a timeline step describes. index is the step's
// position in the timeline (the engine counts from 1); it makes toxic names
// unique ("sd-3-latency") and, with seed, gives in-band faults their own
// seed (StepSeed). Every problem with the step is reported at once.
func FromStep(step scenario.Step, index int, seed uint64) (Fault, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	nonNegative := func(name string, d time.Duration) {
		if d < 0 {
			bad("%s must not be negative, got %s", name, d)
		}
	}
	needService := func() {
		if step.Service == "" {
			bad("%s needs a service", step.Fault)
		}
		if step.Target != "" {
			bad("%s acts on a service, not a target (remove target: %s)", step.Fault, step.Target)
		}
	}
	stream := step.Stream
	isToxic := false
	switch step.Fault {
	case "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data":
		isToxic = true
		needService()
		if stream != "" && stream != Upstream && stream != Downstream {
			bad("stream must be %s or %s, got %q", Upstream, Downstream, stream)
		}
		stream = streamOr(stream)
	case "down", "status", "lost-response", "delay", "malformed":
		needService()
		if stream != "" {
			bad("%s does not take a stream", step.Fault)
		}
	case "crash", "hang":
		if step.Target != "" && step.Target != "sut" {
			bad("%s acts on target sut, got %q", step.Fault, step.Target)
		}
		if step.Service != "" {
			bad("%s acts on the SUT, not a service (use target: sut)", step.Fault)
		}
	case "":
		return nil, fmt.Errorf("step %d names no fault (known: %s)", index, strings.Join(Kinds, ", "))
	default:
		return nil, fmt.Errorf("step %d: unknown fault %q (known: %s)", index, step.Fault, strings.Join(Kinds, ", "))
	}
	inBand := slices.Contains([]string{"status", "lost-response", "delay", "malformed"}, step.Fault)
	if len(step.ODS) > 0 && !inBand {
		bad("%s does not take ods: only in-band faults (status, lost-response, delay, malformed) can be aimed at tenants", step.Fault)
	}
	for _, code := range step.ODS {
		if strings.TrimSpace(code) == "" {
			bad("ods lists an empty ODS code")
		}
	}
	if step.Malform != "" && step.Fault != "malformed" {
		bad("%s does not take malform (only malformed does)", step.Fault)
	}
	name := ""
	if isToxic {
		name = "sd-" + strconv.Itoa(index) + "-" + step.Fault
	}

	var f Fault
	switch step.Fault {
	case "latency":
		if step.Latency <= 0 {
			bad("latency needs a positive latency, got %s", step.Latency)
		}
		nonNegative("jitter", step.Jitter)
		f = Latency{Service: step.Service, Stream: stream, Latency: step.Latency, Jitter: step.Jitter, ToxicName: name}
	case "bandwidth":
		if step.RateKBps <= 0 {
			bad("bandwidth needs a positive rate_kbps, got %d", step.RateKBps)
		}
		f = Bandwidth{Service: step.Service, Stream: stream, RateKBps: step.RateKBps, ToxicName: name}
	case "slow_close":
		if step.Delay <= 0 {
			bad("slow_close needs a positive delay, got %s", step.Delay)
		}
		f = SlowClose{Service: step.Service, Stream: stream, Delay: step.Delay, ToxicName: name}
	case "timeout":
		nonNegative("timeout", step.Timeout)
		f = Timeout{Service: step.Service, Stream: stream, Timeout: step.Timeout, ToxicName: name}
	case "reset_peer":
		nonNegative("timeout", step.Timeout)
		f = ResetPeer{Service: step.Service, Stream: stream, Timeout: step.Timeout, ToxicName: name}
	case "slicer":
		if step.AverageSize <= 0 {
			bad("slicer needs a positive average_size, got %d", step.AverageSize)
		}
		if step.SizeVariation < 0 || (step.AverageSize > 0 && step.SizeVariation >= step.AverageSize) {
			bad("slicer's size_variation must be at least 0 and below average_size (%d), got %d", step.AverageSize, step.SizeVariation)
		}
		nonNegative("delay", step.Delay)
		f = Slicer{Service: step.Service, Stream: stream, AverageSize: step.AverageSize, SizeVariation: step.SizeVariation, Delay: step.Delay, ToxicName: name}
	case "limit_data":
		if step.Bytes <= 0 {
			bad("limit_data needs a positive bytes, got %d", step.Bytes)
		}
		f = LimitData{Service: step.Service, Stream: stream, Bytes: step.Bytes, ToxicName: name}
	case "down":
		f = Down{Service: step.Service}
	case "crash":
		nonNegative("restart_after", step.RestartAfter)
		f = Crash{RestartAfter: step.RestartAfter}
	case "hang":
		f = Hang{}
	case "status":
		if step.Status < 400 || step.Status > 599 {
			bad("status needs an HTTP error status between 400 and 599, got %d", step.Status)
		}
		nonNegative("retry_after", step.RetryAfter)
		checkFraction(step.Fraction, bad)
		f = Status{Service: step.Service, Status: step.Status, Code: step.Code, RetryAfter: step.RetryAfter,
			Fraction: step.Fraction, Operations: step.Operations, ODS: step.ODS, Seed: StepSeed(seed, index)}
	case "lost-response":
		checkFraction(step.Fraction, bad)
		f = LostResponse{Service: step.Service, Fraction: step.Fraction, Operations: step.Operations, ODS: step.ODS, Seed: StepSeed(seed, index)}
	case "delay":
		if step.Delay <= 0 {
			bad("delay needs a positive delay, got %s", step.Delay)
		}
		checkFraction(step.Fraction, bad)
		f = Delay{Service: step.Service, Delay: step.Delay, Fraction: step.Fraction, Operations: step.Operations,
			ODS: step.ODS, Seed: StepSeed(seed, index)}
	case "malformed":
		if !slices.Contains(inband.Malforms, step.Malform) {
			bad("malformed needs malform set to one of %s, got %q", strings.Join(inband.Malforms, ", "), step.Malform)
		}
		switch {
		case step.Bytes < 0:
			bad("bytes must not be negative, got %d", step.Bytes)
		case step.Bytes > 0 && step.Malform != inband.MalformOversized:
			bad("bytes only applies to malform %s, not %q", inband.MalformOversized, step.Malform)
		case step.Bytes > math.MaxInt32:
			bad("bytes %d is too large for an oversized answer", step.Bytes)
		}
		checkFraction(step.Fraction, bad)
		f = Malformed{Service: step.Service, Malform: step.Malform, Bytes: int(step.Bytes), Field: step.Field, Fraction: step.Fraction,
			Operations: step.Operations, ODS: step.ODS, Seed: StepSeed(seed, index)}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("step %d (%s): %w", index, step.Fault, errors.Join(errs...))
	}
	return f, nil
}

func checkFraction(f float64, bad func(string, ...any)) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		bad("fraction must be within 0..1 (0 = all requests), got %v", f)
	}
}

// StepSeed derives the seed of timeline step index from the run's seed
// (splitmix64), so each in-band fault has its own replayable stream.
func StepSeed(seed uint64, index int) uint64 {
	z := seed + uint64(index+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
