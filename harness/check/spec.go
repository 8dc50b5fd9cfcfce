package check

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shakedown-harness/shakedown/harness/scenario"
)

// Names of the checks a scenario may ask for.
const (
	NameNoLostReferrals      = "no-lost-referrals"
	NameNoDuplicateReferrals = "no-duplicate-referrals"
	NameLatency              = "latency"
	NameErrorRate            = "error-rate"
	NameSUTAlive             = "sut-alive"
	NameHostResponsive       = "host-responsive"
	NameOrderingContinues    = "ordering-continues"
	NameNoLostResults        = "no-lost-results"
	NameNoDuplicateResults   = "no-duplicate-results"
	NameACKIntegrity         = "ack-integrity"
	NamePerPatientOrder      = "per-patient-order"
	NameMESHAcknowledged     = "mesh-acknowledged"
)

// Known lists the check names FromSpec builds, in a stable order.
func Known() []string {
	return []string{NameNoLostReferrals, NameNoDuplicateReferrals, NameLatency, NameErrorRate, NameSUTAlive,
		NameHostResponsive, NameOrderingContinues, NameNoLostResults, NameNoDuplicateResults, NameACKIntegrity, NamePerPatientOrder,
		NameMESHAcknowledged}
}

// FromSpec builds the check a scenario names, rejecting parameters that are
// missing, out of range or do not apply to it. Errors carry the spec's
// position when it has one.
func FromSpec(spec scenario.CheckSpec) (Check, error) {
	c, err := fromSpec(spec)
	if err != nil {
		if spec.Pos.Line > 0 {
			return nil, fmt.Errorf("%s: check %s: %w", spec.Pos, spec.Name, err)
		}
		return nil, fmt.Errorf("check %s: %w", spec.Name, err)
	}
	return c, nil
}

func fromSpec(spec scenario.CheckSpec) (Check, error) {
	switch spec.Name {
	case NameNoLostReferrals:
		if err := onlyParams(spec, "within"); err != nil {
			return nil, err
		}
		if spec.Within < 0 {
			return nil, fmt.Errorf("within must not be negative, got %s", spec.Within)
		}
		return NoLostReferrals{Within: spec.Within}, nil
	case NameNoDuplicateReferrals:
		if err := onlyParams(spec); err != nil {
			return nil, err
		}
		return NoDuplicateReferrals{}, nil
	case NameLatency:
		if err := onlyParams(spec, "phase", "p50", "p95", "p99"); err != nil {
			return nil, err
		}
		c := Latency{Phase: phaseOrAll(spec.Phase), P50: spec.P50, P95: spec.P95, P99: spec.P99}
		if err := ValidatePhase(c.Phase); err != nil {
			return nil, err
		}
		if c.P50 == 0 && c.P95 == 0 && c.P99 == 0 {
			return nil, fmt.Errorf("needs at least one limit: p50, p95 or p99")
		}
		if c.P50 < 0 || c.P95 < 0 || c.P99 < 0 {
			return nil, fmt.Errorf("latency limits must be positive")
		}
		return c, nil
	case NameErrorRate:
		if err := onlyParams(spec, "phase", "max"); err != nil {
			return nil, err
		}
		if spec.Max == nil {
			return nil, fmt.Errorf("needs max, the largest acceptable fraction of failed operations (0 to 1)")
		}
		if *spec.Max < 0 || *spec.Max > 1 {
			return nil, fmt.Errorf("max must be a fraction from 0 to 1, got %g", *spec.Max)
		}
		c := ErrorRate{Phase: phaseOrAll(spec.Phase), Max: *spec.Max}
		if err := ValidatePhase(c.Phase); err != nil {
			return nil, err
		}
		return c, nil
	case NameSUTAlive:
		if err := onlyParams(spec); err != nil {
			return nil, err
		}
		return SUTAlive{}, nil
	case NameHostResponsive:
		if err := onlyParams(spec, "max_block", "max_freezes", "max_unsafe"); err != nil {
			return nil, err
		}
		var errs []string
		if spec.MaxBlock <= 0 {
			errs = append(errs, fmt.Sprintf("needs max_block, the longest the clinician's screen may be blocked in one action (a positive duration, e.g. 2s), got %s", spec.MaxBlock))
		}
		if spec.MaxFreezes < 0 {
			errs = append(errs, fmt.Sprintf("max_freezes must not be negative, got %d", spec.MaxFreezes))
		}
		if spec.MaxUnsafe < 0 {
			errs = append(errs, fmt.Sprintf("max_unsafe must not be negative, got %d", spec.MaxUnsafe))
		}
		if len(errs) > 0 {
			return nil, errors.New(strings.Join(errs, "; "))
		}
		return HostResponsive{MaxBlock: spec.MaxBlock, MaxFreezes: spec.MaxFreezes, MaxUnsafe: spec.MaxUnsafe}, nil
	case NameOrderingContinues:
		if err := onlyParams(spec); err != nil {
			return nil, err
		}
		return OrderingContinues{}, nil
	case NameNoLostResults:
		if err := onlyParams(spec, "within"); err != nil {
			return nil, err
		}
		if spec.Within < 0 {
			return nil, fmt.Errorf("within must not be negative, got %s", spec.Within)
		}
		return NoLostResults{Within: spec.Within}, nil
	case NameNoDuplicateResults:
		if err := onlyParams(spec); err != nil {
			return nil, err
		}
		return NoDuplicateResults{}, nil
	case NameACKIntegrity:
		if err := onlyParams(spec); err != nil {
			return nil, err
		}
		return ACKIntegrity{}, nil
	case NamePerPatientOrder:
		if err := onlyParams(spec); err != nil {
			return nil, err
		}
		return PerPatientOrder{}, nil
	case NameMESHAcknowledged:
		if err := onlyParams(spec, "within"); err != nil {
			return nil, err
		}
		if spec.Within < 0 {
			return nil, fmt.Errorf("within must not be negative, got %s", spec.Within)
		}
		return MESHAcknowledged{Within: spec.Within}, nil
	case "":
		return nil, fmt.Errorf("a check needs a name (one of %s)", strings.Join(Known(), ", "))
	}
	return nil, fmt.Errorf("unknown check; known checks are %s", strings.Join(Known(), ", "))
}

func phaseOrAll(p string) string {
	if p == "" {
		return PhaseAll
	}
	return p
}

// onlyParams rejects parameters set on spec that are not in allowed.
func onlyParams(spec scenario.CheckSpec, allowed ...string) error {
	set := map[string]bool{
		"within":      spec.Within != 0,
		"phase":       spec.Phase != "",
		"p50":         spec.P50 != 0,
		"p95":         spec.P95 != 0,
		"p99":         spec.P99 != 0,
		"max":         spec.Max != nil,
		"max_block":   spec.MaxBlock != 0,
		"max_freezes": spec.MaxFreezes != 0,
		"max_unsafe":  spec.MaxUnsafe != 0,
	}
	for _, a := range allowed {
		delete(set, a)
	}
	var bad []string
	for _, p := range []string{"within", "phase", "p50", "p95", "p99", "max", "max_block", "max_freezes", "max_unsafe"} {
		if set[p] {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("does not take %s", strings.Join(bad, ", "))
	}
	return nil
}
