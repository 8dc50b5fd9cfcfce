package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/scenario"
)

func TestFromSpec(t *testing.T) {
	tests := []struct {
		name     string
		spec     scenario.CheckSpec
		wantName string
		wantErr  string
	}{
		{"no-lost-referrals", scenario.CheckSpec{Name: "no-lost-referrals", Within: sec(60)}, "no-lost-referrals", ""},
		{"no-lost-referrals without within", scenario.CheckSpec{Name: "no-lost-referrals"}, "no-lost-referrals", ""},
		{"no-duplicate-referrals", scenario.CheckSpec{Name: "no-duplicate-referrals"}, "no-duplicate-referrals", ""},
		{"latency", scenario.CheckSpec{Name: "latency", Phase: "steady", P99: sec(2)}, "latency[steady]", ""},
		{"latency defaults to all", scenario.CheckSpec{Name: "latency", P50: sec(1)}, "latency[all]", ""},
		{"error-rate", scenario.CheckSpec{Name: "error-rate", Phase: "fault-2", Max: ptr(0.01)}, "error-rate[fault-2]", ""},
		{"error-rate of zero", scenario.CheckSpec{Name: "error-rate", Max: ptr(0.0)}, "error-rate[all]", ""},
		{"sut-alive", scenario.CheckSpec{Name: "sut-alive"}, "sut-alive", ""},

		{"host-responsive", scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2)}, "host-responsive", ""},
		{"host-responsive with allowances", scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2), MaxFreezes: 3, MaxUnsafe: 1}, "host-responsive", ""},
		{"ordering-continues", scenario.CheckSpec{Name: "ordering-continues"}, "ordering-continues", ""},

		{"unknown", scenario.CheckSpec{Name: "no-lost-result"}, "", "check no-lost-result: unknown check; known checks are no-lost-referrals, no-duplicate-referrals, latency, error-rate, sut-alive, host-responsive, ordering-continues, no-lost-results, no-duplicate-results, ack-integrity, per-patient-order, mesh-acknowledged"},
		{"no-lost-results", scenario.CheckSpec{Name: "no-lost-results", Within: sec(60)}, "no-lost-results", ""},
		{"no-lost-results takes only within", scenario.CheckSpec{Name: "no-lost-results", Within: sec(60), Phase: "all"}, "", "does not take phase"},
		{"no-duplicate-results", scenario.CheckSpec{Name: "no-duplicate-results"}, "no-duplicate-results", ""},
		{"ack-integrity", scenario.CheckSpec{Name: "ack-integrity"}, "ack-integrity", ""},
		{"per-patient-order", scenario.CheckSpec{Name: "per-patient-order"}, "per-patient-order", ""},
		{"mesh-acknowledged", scenario.CheckSpec{Name: "mesh-acknowledged", Within: sec(30)}, "mesh-acknowledged", ""},
		{"mesh-acknowledged takes only within", scenario.CheckSpec{Name: "mesh-acknowledged", Within: sec(30), Phase: "all"}, "", "does not take phase"},
		{"mesh-acknowledged negative within", scenario.CheckSpec{Name: "mesh-acknowledged", Within: -sec(1)}, "", "within must not be negative"},
		{"host-responsive without max_block", scenario.CheckSpec{Name: "host-responsive", MaxFreezes: 1}, "", "needs max_block, the longest the clinician's screen may be blocked in one action"},
		{"host-responsive negatives", scenario.CheckSpec{Name: "host-responsive", MaxBlock: -sec(1), MaxFreezes: -1, MaxUnsafe: -2}, "", "got -1s; max_freezes must not be negative, got -1; max_unsafe must not be negative, got -2"},
		{"host-responsive with phase", scenario.CheckSpec{Name: "host-responsive", MaxBlock: sec(2), Phase: "steady"}, "", "does not take phase"},
		{"ordering-continues takes nothing", scenario.CheckSpec{Name: "ordering-continues", MaxBlock: sec(2)}, "", "does not take max_block"},
		{"latency with max_unsafe", scenario.CheckSpec{Name: "latency", P99: sec(1), MaxUnsafe: 1}, "", "does not take max_unsafe"},
		{"no name", scenario.CheckSpec{}, "", "a check needs a name"},
		{"with position", scenario.CheckSpec{Name: "nope", Pos: scenario.Pos{File: "s.yaml", Line: 12, Col: 5}}, "", "s.yaml:12:5: check nope: unknown check"},
		{"negative within", scenario.CheckSpec{Name: "no-lost-referrals", Within: -sec(1)}, "", "within must not be negative"},
		{"param that does not apply", scenario.CheckSpec{Name: "no-duplicate-referrals", Within: sec(1), Phase: "all"}, "", "does not take within, phase"},
		{"sut-alive takes nothing", scenario.CheckSpec{Name: "sut-alive", Max: ptr(0.1)}, "", "does not take max"},
		{"latency without limits", scenario.CheckSpec{Name: "latency", Phase: "steady"}, "", "needs at least one limit"},
		{"latency negative", scenario.CheckSpec{Name: "latency", P95: -sec(1)}, "", "must be positive"},
		{"latency bad phase", scenario.CheckSpec{Name: "latency", Phase: "during", P99: sec(1)}, "", `unknown phase "during"`},
		{"latency with max", scenario.CheckSpec{Name: "latency", P99: sec(1), Max: ptr(0.1)}, "", "does not take max"},
		{"error-rate without max", scenario.CheckSpec{Name: "error-rate"}, "", "needs max"},
		{"error-rate max over 1", scenario.CheckSpec{Name: "error-rate", Max: ptr(5.0)}, "", "max must be a fraction from 0 to 1, got 5"},
		{"error-rate fault-0", scenario.CheckSpec{Name: "error-rate", Phase: "fault-0", Max: ptr(0.1)}, "", "numbered from 1"},
		{"error-rate with p99", scenario.CheckSpec{Name: "error-rate", Max: ptr(0.1), P99: sec(1)}, "", "does not take p99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := check.FromSpec(tt.spec)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.wantErr)
				require.Nil(t, c)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantName, c.Name())
		})
	}
}

// Every known check can be built from a spec that names it, and the checks
// FromSpec builds are exactly the scenario catalog's.
func TestKnownChecksBuild(t *testing.T) {
	var catalog []string
	for _, k := range scenario.Checks() {
		catalog = append(catalog, k.Name)
	}
	require.Equal(t, catalog, check.Known())
	params := map[string]scenario.CheckSpec{
		"latency":         {P99: sec(1)},
		"error-rate":      {Max: ptr(0.1)},
		"host-responsive": {MaxBlock: sec(2)},
	}
	for _, name := range check.Known() {
		spec := params[name]
		spec.Name = name
		_, err := check.FromSpec(spec)
		require.NoError(t, err, name)
	}
}
