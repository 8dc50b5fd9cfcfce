package scenario_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// problemsOf extracts *Problems from err, failing the test if it is not one.
func problemsOf(t *testing.T, err error) scenario.Problems {
	t.Helper()
	require.Error(t, err)
	var ps *scenario.Problems
	require.True(t, errors.As(err, &ps), "want *scenario.Problems, got %T: %v", err, err)
	require.NotEmpty(t, *ps)
	return *ps
}

func TestLoadFileGood(t *testing.T) {
	const path = "testdata/good.yaml"
	s, err := scenario.LoadFile(path)
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)

	require.Equal(t, "ers-outage-during-referrals", s.Name)
	require.Equal(t, "e-RS becomes unreachable, then slow, while GPs keep referring.", s.Description)
	require.Equal(t, []string{"HAZ-ERS-01"}, s.Hazards)
	require.Zero(t, s.Seed)
	require.Equal(t, []string{"ers"}, s.Services)
	require.Equal(t, path, s.Source)
	require.Equal(t, raw, s.Raw)

	require.Equal(t, []string{"{{ .examples }}/referral-gateway", "--mode", "resilient"}, s.SUT.Command)
	require.Equal(t, "/health", s.SUT.Health.HTTP)
	require.Equal(t, map[string]string{"EXTRA": "x"}, s.SUT.Env)
	require.Equal(t, 15*time.Second, s.SUT.StartTimeout)
	require.Equal(t, scenario.Pos{File: path, Line: 7, Col: 3}, s.SUT.Pos)

	require.Equal(t, []scenario.Load{{
		Workload: "refer-patient",
		Rate:     scenario.Rate{Count: 5, Per: time.Second},
		Duration: 3 * time.Minute,
		Timeout:  10 * time.Second,
		Pos:      scenario.Pos{File: path, Line: 12, Col: 5},
	}}, s.Load)
	require.InDelta(t, 5.0, s.Load[0].Rate.PerSecond(), 1e-9)

	require.Len(t, s.Timeline, 5)
	at := func(line int) scenario.Pos { return scenario.Pos{File: path, Line: line, Col: 5} }
	require.Equal(t, scenario.Step{At: 30 * time.Second, For: 45 * time.Second, Fault: "down", Service: "ers", Pos: at(17)}, s.Timeline[0])
	require.Equal(t, scenario.Step{At: 90 * time.Second, For: 30 * time.Second, Fault: "latency", Service: "ers",
		Latency: 8 * time.Second, Jitter: time.Second, Pos: at(18)}, s.Timeline[1])
	require.Equal(t, scenario.Step{At: 100 * time.Second, For: 20 * time.Second, Fault: "status", Service: "ers",
		Status: 429, RetryAfter: 2 * time.Second, Fraction: 0.3, Operations: []string{"createReferral"}, Pos: at(19)}, s.Timeline[2])
	require.Equal(t, scenario.Step{At: 125 * time.Second, For: 10 * time.Second, Fault: "lost-response", Service: "ers",
		Fraction: 0.5, Pos: at(20)}, s.Timeline[3])
	require.Equal(t, scenario.Step{At: 130 * time.Second, Fault: "crash", Target: "sut", RestartAfter: 5 * time.Second, Pos: at(21)}, s.Timeline[4])
	require.Equal(t, 135*time.Second, s.Timeline[4].End())

	maxErr := 0.01
	require.Equal(t, []scenario.CheckSpec{
		{Name: "no-lost-referrals", Within: 60 * time.Second, Pos: at(23)},
		{Name: "no-duplicate-referrals", Pos: at(24)},
		{Name: "latency", Phase: "steady", P99: 2 * time.Second, Pos: at(25)},
		{Name: "error-rate", Phase: "steady", Max: &maxErr, Pos: at(26)},
		{Name: "sut-alive", Pos: at(27)},
	}, s.Checks)

	require.NoError(t, s.Validate(), "a scenario that parsed must validate again")
	require.True(t, s.ValidPhase("fault-5"))
	require.False(t, s.ValidPhase("fault-6"))
}

// The iRefer scenario: the GP clinical system as GP Connect provider and CDS
// Hooks host, with every new key set.
func TestLoadFileImaging(t *testing.T) {
	const path = "testdata/imaging.yaml"
	s, err := scenario.LoadFile(path)
	require.NoError(t, err)

	require.Equal(t, []string{"gpconnect"}, s.Services)
	require.Equal(t, map[string]map[string]string{
		"gpconnect": {"patients": "50", "large_records": "0.2", "large_record_bytes": "3000000"},
	}, s.ServiceOptions, "values are kept as canonical text")

	require.Len(t, s.Load, 1)
	require.Equal(t, "order-imaging", s.Load[0].Workload)
	require.Equal(t, 1500*time.Millisecond, s.Load[0].UIBudget)
	require.Equal(t, 1500*time.Millisecond, s.Load[0].Budget())

	at := func(line int) scenario.Pos { return scenario.Pos{File: path, Line: line, Col: 5} }
	require.Equal(t, []scenario.Step{
		{At: 30 * time.Second, For: 30 * time.Second, Fault: "delay", Service: "gpconnect", Delay: 8 * time.Second,
			Operations: []string{"getStructuredRecord"}, Pos: at(18)},
		{At: 70 * time.Second, For: 20 * time.Second, Fault: "malformed", Service: "gpconnect", Malform: "oversized",
			Bytes: 5_000_000, Fraction: 0.5, ODS: []string{"Y12345"}, Pos: at(19)},
		{At: 100 * time.Second, For: 20 * time.Second, Fault: "malformed", Service: "gpconnect", Malform: "invalid-json", Pos: at(20)},
		{At: 130 * time.Second, For: 20 * time.Second, Fault: "status", Service: "gpconnect", Status: 503,
			ODS: []string{"Y12345", "A81001"}, Pos: at(21)},
		{At: 160 * time.Second, For: 10 * time.Second, Fault: "lost-response", Service: "gpconnect", ODS: []string{"Y12345"}, Pos: at(22)},
	}, s.Timeline)
	require.Equal(t, []scenario.CheckSpec{
		{Name: "host-responsive", MaxBlock: 2 * time.Second, MaxFreezes: 3, Pos: at(24)},
		{Name: "ordering-continues", Pos: at(25)},
		{Name: "sut-alive", Pos: at(26)},
	}, s.Checks)
	require.NoError(t, s.Validate(), "a scenario that parsed must validate again")
}

func TestLoadBudgetDefault(t *testing.T) {
	require.Equal(t, 2*time.Second, scenario.Load{}.Budget())
	require.Equal(t, scenario.DefaultUIBudget, scenario.Load{Workload: "order-imaging"}.Budget())
	require.Equal(t, time.Second, scenario.Load{UIBudget: time.Second}.Budget())
}

func TestLoadFileMissing(t *testing.T) {
	_, err := scenario.LoadFile("testdata/no-such-file.yaml")
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// brokenCases: one row per file in testdata/broken (except
// many-problems.yaml, which has its own test). Each file has exactly one
// problem; col 0 means the test does not pin the column.
var brokenCases = []struct {
	file      string
	line, col int
	path      string
	msg       string
}{
	{"unknown-key", 10, 68, "timeline[0].jiter", `unknown key "jiter" (hint: did you mean jitter?`},
	{"duration-no-unit", 10, 10, "timeline[0].at", "durations need a unit, e.g. 30s"},
	{"missing-description", 1, 1, "description", "description is required"},
	{"unknown-fault", 10, 32, "timeline[0].fault", `unknown fault "latncy" (hint: did you mean latency?`},
	{"not-applicable", 10, 52, "timeline[0].jitter", "jitter does not apply to fault down"},
	{"unknown-service", 10, 47, "timeline[0].service", `unknown service "gp-connect" (hint: did you mean gpconnect? known services: ers, gpconnect, mesh)`},
	{"sut-two-ways", 6, 3, "sut", "sut has both command and url; give exactly one"},
	{"sut-url-not-loopback", 5, 8, "sut.url", "sut url host 10.0.0.5 is not loopback"},
	{"health-path", 6, 18, "sut.health.http", `health path "health" must start with /`},
	{"rate-zero", 8, 37, "load[0].rate", "rate 0/s must be greater than 0"},
	{"rate-no-unit", 8, 37, "load[0].rate", "rates need a unit, e.g. 5/s"},
	{"fault-after-load", 10, 10, "timeline[0].at", "it would touch no traffic"},
	{"toxic-overlap", 11, 5, "timeline[1]", "latency toxic on ers (downstream) at 1m0s–1m30s overlaps timeline[0] on line 10"},
	{"negative-for", 10, 20, "timeline[0].for", "for must not be negative, got -5s"},
	{"seed-negative", 3, 7, "seed", "seed must be a non-negative integer"},
	{"duplicate-check", 13, 5, "checks[1].latency", "duplicate check: latency in phase steady is already at line 12"},
	{"multi-document", 13, 1, "", "the file holds more than one YAML document"},
	{"check-shape", 12, 5, "checks[0]", "write `- sut-alive: {}`"},
	{"crash-url-sut", 10, 15, "timeline[0].fault", "fault crash needs a SUT the harness runs, but sut is a url"},
	{"status-range", 10, 62, "timeline[0].status", "status 200 is not an HTTP error"},
	{"unknown-check", 12, 5, "checks[0].no-lost-referral", "did you mean no-lost-referrals?"},
	{"unknown-operation", 10, 74, "timeline[0].operations[0]", `unknown ers operation "createReferal" (hint: did you mean createReferral?`},
	{"phase-no-such-fault", 12, 25, "checks[0].error-rate.phase", "phase fault-2 names timeline step 2, but the timeline has 1"},
	{"duplicate-key", 4, 1, "name", `key "name" appears twice (first on line 1)`},
	{"crash-for", 10, 15, "timeline[0].for", "for does not apply to fault crash (hint: a crash is instantaneous"},
	{"yaml-syntax", 12, 0, "", "invalid YAML: did not find expected node content"},
	{"not-a-mapping", 1, 1, "", "a scenario is a mapping of keys, not a list"},

	// service_options
	{"unknown-service-option", 5, 15, "service_options.gpconnect.patiens", `unknown gpconnect option "patiens" (hint: did you mean patients?`},
	{"service-option-range", 5, 44, "service_options.gpconnect.large_records", "large_records 1.5 must be between 0 and 1"},
	{"service-option-type", 5, 25, "service_options.gpconnect.patients", `patients wants a whole number, got "fifty"`},
	{"service-option-count-range", 5, 25, "service_options.gpconnect.patients", "patients 0 is out of range: it must be from 1 to 100000"},
	{"service-option-needs", 5, 15, "service_options.gpconnect.large_record_bytes", "large_record_bytes has no effect without large_records"},
	{"service-options-not-listed", 5, 3, "service_options.gpconnect", "options for service gpconnect, which is not in services"},
	{"service-takes-no-options", 5, 3, "service_options.ers", "service ers takes no options"},
	// load: workloads driven through the clinical host
	{"ui-budget-wrong-workload", 8, 56, "load[0].ui_budget", "ui_budget does not apply to workload refer-patient (hint: ui_budget applies to workload order-imaging only"},
	{"ui-budget-not-below-timeout", 8, 80, "load[0].ui_budget", "ui_budget 5s is not below the operation timeout 5s"},
	{"ui-budget-zero", 8, 67, "load[0].ui_budget", "ui_budget must be greater than 0"},
	{"order-imaging-needs-gpconnect", 8, 16, "load[0].workload", "workload order-imaging needs service gpconnect"},
	// in-band faults on the clinical system
	{"unknown-malform", 10, 72, "timeline[0].malform", `unknown malform "invalid-jsn" (hint: did you mean invalid-json?`},
	{"malformed-no-malform", 10, 5, "timeline[0].malform", "malform is required for fault malformed"},
	{"malform-bytes-not-oversized", 10, 85, "timeline[0].bytes", "bytes applies only to malform: oversized, not wrong-types"},
	{"malform-bytes-too-large", 10, 90, "timeline[0].bytes", "bytes 1000000000 is too large for an oversized answer"},
	{"delay-no-delay", 10, 5, "timeline[0].delay", "delay is required for fault delay"},
	{"ods-not-a-code", 10, 76, "timeline[0].ods[0]", `"y12345" is not an ODS code`},
	{"ods-on-ers", 10, 67, "timeline[0].ods", "ods does not apply to service ers: its mock does not tell tenants apart"},
	{"ods-on-toxic", 10, 74, "timeline[0].ods", "ods does not apply to fault latency"},
	{"unknown-gpconnect-operation", 10, 83, "timeline[0].operations[0]", `unknown gpconnect operation "getStructuredRecords" (hint: did you mean getStructuredRecord?`},
	// checks of the clinical host's view
	{"host-responsive-no-max-block", 12, 22, "checks[0].host-responsive.max_block", "max_block is required for check host-responsive"},
	{"host-responsive-negative", 12, 50, "checks[0].host-responsive.max_unsafe", "max_unsafe must not be negative, got -1"},
	{"check-needs-workload", 12, 5, "checks[0].ordering-continues", "check ordering-continues judges operations of workload order-imaging, but no load entry drives it"},
	// pathology and MESH
	{"mesh-option-not-duration", 5, 26, "service_options.mesh.delivery_delay", "delivery_delay wants a duration with a unit, e.g. 5s, got the number 5"},
	{"mesh-option-range", 5, 26, "service_options.mesh.delivery_delay", "delivery_delay 2h0m0s is out of range: it must be from 0s to 1h0m0s"},
	{"unknown-mesh-operation", 10, 81, "timeline[0].operations[0]", `unknown mesh operation "sendChunks" (hint: did you mean sendChunk?`},
	{"sut-fault-in-band", 10, 49, "timeline[0].service", "fault status cannot target service sut: sut is the inbound proxy in front of the SUT"},
	{"sut-fault-no-inbound-load", 10, 50, "timeline[0].service", "service sut (the inbound proxy in front of the SUT) carries traffic only from workload lab-results, but no load entry drives it"},
	{"sut-in-services", 3, 18, "services[1]", "sut is not a mocked service and is not listed in services"},
	{"ack-timeout-wrong-workload", 8, 56, "load[0].ack_timeout", "ack_timeout does not apply to workload refer-patient (hint: ack_timeout applies to workload lab-results only"},
	{"ack-timeout-zero", 8, 67, "load[0].ack_timeout", "ack_timeout must be greater than 0"},
	{"no-lost-results-no-within", 12, 22, "checks[0].no-lost-results.within", "within is required for check no-lost-results"},
	{"no-lost-results-needs-lab-results", 12, 5, "checks[0].no-lost-results", "check no-lost-results judges operations of workload lab-results, but no load entry drives it"},
	{"no-duplicate-results-needs-lab-results", 12, 5, "checks[0].no-duplicate-results", "check no-duplicate-results judges operations of workload lab-results"},
	{"ack-integrity-needs-lab-results", 12, 5, "checks[0].ack-integrity", "check ack-integrity judges operations of workload lab-results"},
	{"per-patient-order-needs-lab-results", 12, 5, "checks[0].per-patient-order", "check per-patient-order judges operations of workload lab-results"},
	{"mesh-inbound-needs-mesh", 8, 16, "load[0].workload", "workload mesh-inbound needs service mesh"},
	{"mesh-acknowledged-no-within", 12, 24, "checks[0].mesh-acknowledged.within", "within is required for check mesh-acknowledged"},
	{"mesh-acknowledged-needs-mesh-inbound", 12, 5, "checks[0].mesh-acknowledged", "check mesh-acknowledged judges operations of workload mesh-inbound, but no load entry drives it"},
}

func TestLoadFileBroken(t *testing.T) {
	for _, tc := range brokenCases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "broken", tc.file+".yaml")
			_, err := scenario.LoadFile(path)
			ps := problemsOf(t, err)
			require.Len(t, ps, 1, "want exactly one problem, got:\n%v", err)
			p := ps[0]
			require.Equal(t, path, p.Pos.File)
			require.Equal(t, tc.line, p.Pos.Line, "line of: %v", p)
			if tc.col != 0 {
				require.Equal(t, tc.col, p.Pos.Col, "col of: %v", p)
			}
			require.Equal(t, tc.path, p.Path)
			require.Contains(t, err.Error(), tc.msg)
			require.NotEmpty(t, p.Hint, "every problem says what to do")
		})
	}
}

// Every broken file has a row, so none is silently untested.
func TestBrokenFilesAllCovered(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	require.NoError(t, err)
	var names []string
	for _, tc := range brokenCases {
		names = append(names, tc.file)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if name == "many-problems" {
			continue
		}
		require.Contains(t, names, name, "add a row for %s to brokenCases", f)
	}
	require.GreaterOrEqual(t, len(files), 13)
}

func TestLoadFileManyProblems(t *testing.T) {
	const path = "testdata/broken/many-problems.yaml"
	s, err := scenario.LoadFile(path)
	require.NotNil(t, s, "a mapping that decodes partly is returned alongside its problems")
	ps := problemsOf(t, err)

	want := []struct {
		line, col int
		msg       string
	}{
		{1, 1, "description is required"},
		{1, 7, `name "ers outage/../x" is not a plain name`},
		{2, 1, `unknown key "descripton" (hint: did you mean description?`},
		{3, 7, "seed must be a non-negative integer, got the number 1.5"},
		{4, 17, "service ers is listed twice"},
		{6, 12, `want a list, got "./bin/gateway"`},
		{7, 3, "sut has both command and url"},
		{7, 8, "sut url host 192.168.1.10 is not loopback"},
		{8, 18, `health path "health" must start with /`},
		{8, 36, "100: durations need a unit"},
		{10, 15, `unknown workload "refer-patients" (hint: did you mean refer-patient?`},
		{11, 11, "5: rates need a unit"},
		{12, 15, "duration must be greater than 0"},
		{14, 52, "latency does not apply to fault down"},
		{15, 5, "down on ers at 40s–50s overlaps timeline[0] on line 14"},
		{16, 5, "for is required for fault latency"},
		{16, 5, "latency is required for fault latency"},
		{17, 62, "status 200 is not an HTTP error"},
		{17, 77, "fraction 1.5 must be between 0 and 1"},
		{18, 5, "target is required for fault hang"},
		{20, 14, "phase is required for check latency"},
		{21, 38, "max 2 must be a fraction between 0 and 1"},
		{22, 33, "60: durations need a unit"},
		{23, 5, "write `- sut-alive: {}`"},
	}
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, ps, len(want), "got:\n%v", err)
	require.Len(t, lines, len(want))
	for i, w := range want {
		require.Equal(t, w.line, ps[i].Pos.Line, "problem %d: %v", i, ps[i])
		require.Equal(t, w.col, ps[i].Pos.Col, "problem %d: %v", i, ps[i])
		require.Contains(t, lines[i], w.msg, "problem %d", i)
		require.True(t, strings.HasPrefix(lines[i], ps[i].Pos.String()+": "), lines[i])
	}

	golden := filepath.Join("testdata", "many-problems.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644))
	}
	wantText, rerr := os.ReadFile(golden)
	require.NoError(t, rerr, "run go test -update to create %s", golden)
	require.Equal(t, string(wantText), err.Error()+"\n", "run go test -update if the change is intended")
}

func TestParseEdgeCases(t *testing.T) {
	good, err := os.ReadFile("testdata/good.yaml")
	require.NoError(t, err)
	edit := func(old, new string) string {
		require.Contains(t, string(good), old)
		return strings.Replace(string(good), old, new, 1)
	}
	tests := []struct {
		name string
		in   string
		opts []scenario.Option
		want []string // substrings, one per problem; none = valid
	}{
		{name: "empty file", in: "", want: []string{"fuzz.yaml:1:1: the file is empty"}},
		{name: "only a comment", in: "# nothing\n", want: []string{"the file is empty"}},
		{name: "scalar root", in: "hello\n", want: []string{`a scenario is a mapping of keys, not "hello"`}},
		{name: "at 0 needs no unit", in: edit("at: 30s,", "at: 0,")},
		{name: "timeout toxic with zero timeout is a blackhole",
			in: edit("{at: 125s, for: 10s, fault: lost-response, service: ers, fraction: 0.5}",
				"{at: 125s, for: 10s, fault: timeout, service: ers, timeout: 0s, stream: upstream}")},
		{name: "zero for on a windowed fault", in: edit("at: 30s, for: 45s,", "at: 30s, for: 0s,"),
			want: []string{"timeline[0].for: for must not be zero for fault down"}},
		{name: "missing for", in: edit("at: 30s, for: 45s,", "at: 30s,"),
			want: []string{"17:5: timeline[0].for: for is required for fault down"}},
		{name: "alias", in: edit(`env: {EXTRA: "x"}`, `env: {EXTRA: &x "x", OTHER: *x}`),
			want: []string{"sut.env.OTHER: YAML aliases (*x) are not supported"}},
		{name: "merge key", in: edit("  start_timeout: 15s", "  <<: {start_timeout: 15s}"),
			want: []string{"merge keys (<<) are not supported"}},
		{name: "localhost is not an address", in: edit(`command: ["{{ .examples }}/referral-gateway", "--mode", "resilient"]`, "url: http://localhost:9000"),
			want: []string{"sut url host localhost is not loopback (hint: write 127.0.0.1", "crash needs a SUT the harness runs"}},
		{name: "an image SUT can crash", in: edit(`command: ["{{ .examples }}/referral-gateway", "--mode", "resilient"]`, "image: x/y:1"),
			want: nil},
		{name: "allowed host", in: edit(`command: ["{{ .examples }}/referral-gateway", "--mode", "resilient"]`, "url: http://pilot.example:9000\n  image: x"),
			opts: []scenario.Option{scenario.AllowHosts("pilot.example")},
			want: []string{"sut has both url and image"}},
		{name: "bad template", in: edit("{{ .examples }}/referral-gateway", "{{ .examples /referral-gateway"),
			want: []string{"sut.command[0]: bad template"}},
		{name: "service not listed", in: edit("services: [ers]", "services: []"),
			want: []string{"services: services must not be empty or zero", "workload refer-patient needs service ers",
				"timeline[0].service: service ers is not listed in services",
				"timeline[1].service: service ers is not listed", "timeline[2].service: service ers is not listed",
				"timeline[3].service: service ers is not listed"}},
		{name: "param of another check", in: edit("error-rate: {phase: steady, max: 0.01}", "error-rate: {phase: steady, max: 0.01, p99: 1s}"),
			want: []string{"checks[3].error-rate.p99: p99 does not apply to check error-rate (hint: check error-rate takes: phase, max)"}},
		{name: "unknown param", in: edit("{within: 60s}", "{withn: 60s}"),
			want: []string{`unknown parameter "withn" (hint: did you mean within? check no-lost-referrals takes: within)`,
				"within is required for check no-lost-referrals"}},
		{name: "latency needs a percentile", in: edit("{phase: steady, p99: 2s}", "{phase: steady}"),
			want: []string{"check latency needs at least one of p50, p95 or p99"}},
		{name: "percentiles out of order", in: edit("{phase: steady, p99: 2s}", "{phase: steady, p95: 3s, p99: 2s}"),
			want: []string{"p99 (2s) is below p95 (3s)"}},
		{name: "same check in another phase is fine", in: edit("  - sut-alive: {}", "  - sut-alive: {}\n  - latency: {phase: fault-2, p99: 9s}")},
		{name: "unknown stream", in: edit("latency: 8s,", "latency: 8s, stream: sideways,"),
			want: []string{`unknown stream "sideways"`}},
		{name: "upstream and downstream latency do not clash",
			in: edit("{at: 100s, for: 20s, fault: status, service: ers, status: 429, retry_after: 2s, fraction: 0.3, operations: [createReferral]}",
				"{at: 100s, for: 20s, fault: latency, service: ers, stream: upstream, latency: 1s}")},
		{name: "wrong types", in: edit("hazards: [HAZ-ERS-01]", "hazards: HAZ-ERS-01\ndrain: [1]"),
			want: []string{"hazards: want a list", "drain: want a duration, got a list"}},
		{name: "huge seed", in: edit("seed: 0", "seed: 18446744073709551615")},
		{name: "seed too big", in: edit("seed: 0", "seed: 18446744073709551616"), want: []string{"seed must be a non-negative integer"}},
		{name: "during-faults phase", in: edit("phase: steady, max", "phase: during-faults, max")},
		{name: "bad rate", in: edit("rate: 5/s", "rate: 1.5/s"), want: []string{"count must be a whole number"}},
	}
	imaging, err := os.ReadFile("testdata/imaging.yaml")
	require.NoError(t, err)
	editImaging := func(old, new string) string {
		require.Contains(t, string(imaging), old)
		return strings.Replace(string(imaging), old, new, 1)
	}
	const opts = "{patients: 50, large_records: 0.2, large_record_bytes: 3000000}"
	tests = append(tests, []struct {
		name string
		in   string
		opts []scenario.Option
		want []string
	}{
		{name: "imaging as is", in: string(imaging)},
		{name: "field aims an oversized fault", in: editImaging("malform: oversized, bytes: 5000000,", "malform: oversized, bytes: 5000000, field: text,")},
		{name: "field does not apply to invalid JSON", in: editImaging("malform: invalid-json}", "malform: invalid-json, field: text}"),
			want: []string{"field does not apply to malform: invalid-json"}},
		{name: "field must be a key name", in: editImaging("malform: oversized, bytes: 5000000,", `malform: oversized, bytes: 5000000, field: "a b",`),
			want: []string{`field "a b" is not a JSON key name`}},
		{name: "a quoted number is not a count", in: editImaging(opts, `{patients: "50"}`),
			want: []string{`service_options.gpconnect.patients: patients wants a whole number, got "50"`}},
		{name: "a whole number is a fraction", in: editImaging(opts, "{large_records: 1}")},
		{name: "a fraction is not a count", in: editImaging(opts, "{patients: 2.5}"),
			want: []string{"patients wants a whole number, got the number 2.5"}},
		{name: "large records of zero leave the bytes without effect", in: editImaging(opts, "{large_records: 0, large_record_bytes: 3000000}"),
			want: []string{"large_record_bytes has no effect without large_records"}},
		{name: "bytes below the minimum", in: editImaging(opts, "{large_records: 0.1, large_record_bytes: 10}"),
			want: []string{"large_record_bytes 10 is out of range: it must be from 1024 to 67108864 bytes"}},
		{name: "options not a mapping", in: editImaging(opts, "[patients]"),
			want: []string{"the options of service gpconnect must be a mapping, got a list (hint: write e.g. {patients: 50}; gpconnect options: patients, large_records, large_record_bytes)"}},
		{name: "service_options not a mapping", in: editImaging("service_options:\n  gpconnect: "+opts, "service_options: 3"),
			want: []string{"want a mapping of services to their options, got the number 3"}},
		{name: "an option value that is a list", in: editImaging(opts, "{patients: [50]}"),
			want: []string{"service_options.gpconnect.patients: want a single value, got a list"}},
		{name: "empty options", in: editImaging(opts, "{}"),
			want: []string{"no options given for service gpconnect"}},
		{name: "null options", in: editImaging(opts, ""),
			want: []string{"no options given for service gpconnect"}},
		{name: "unknown service", in: editImaging("  gpconnect: "+opts, "  gpconect: {x: 1}"),
			want: []string{`options for unknown service "gpconect" (hint: did you mean gpconnect?`}},
		{name: "alias in options", in: editImaging(opts, "{patients: &n 50, large_records: *n}"),
			want: []string{"YAML aliases (*n) are not supported"}},
		{name: "default ui budget", in: editImaging("    ui_budget: 1500ms\n", "")},
		{name: "default ui budget not below a short timeout", in: editImaging("    timeout: 30s\n    ui_budget: 1500ms\n", "    timeout: 2s\n"),
			want: []string{"load[0].timeout: ui_budget 2s is not below the operation timeout 2s"}},
		{name: "max_block of zero", in: editImaging("{max_block: 2s, max_freezes: 3}", "{max_block: 0s}"),
			want: []string{"max_block must be greater than 0"}},
		{name: "max_freezes on another check", in: editImaging("sut-alive: {}", "sut-alive: {max_freezes: 1}"),
			want: []string{"max_freezes does not apply to check sut-alive"}},
		{name: "zero bytes on oversized", in: editImaging("bytes: 5000000", "bytes: 0"),
			want: []string{"timeline[1].bytes: bytes must be greater than 0"}},
		{name: "ods listed twice", in: editImaging("ods: [Y12345, A81001]", "ods: [Y12345, Y12345]"),
			want: []string{"timeline[3].ods[1]: ODS code Y12345 is listed twice"}},
		{name: "ods on lost-response", in: editImaging("ods: [Y12345]}\nchecks", "ods: [Y12345, A81001, B82002]}\nchecks")},
		{name: "delay on an operation", in: editImaging("operations: [getStructuredRecord]", "operations: [getStructuredRecord, searchPatient]")},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := scenario.Parse("fuzz.yaml", []byte(tc.in), tc.opts...)
			if len(tc.want) == 0 {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			ps := problemsOf(t, err)
			require.Len(t, ps, len(tc.want), "got:\n%v", err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    scenario.Rate
		perSec  float64
		wantErr string
	}{
		{in: "5/s", want: scenario.Rate{Count: 5, Per: time.Second}, perSec: 5},
		{in: "300/m", want: scenario.Rate{Count: 300, Per: time.Minute}, perSec: 5},
		{in: "1/500ms", want: scenario.Rate{Count: 1, Per: 500 * time.Millisecond}, perSec: 2},
		{in: "10/1s", want: scenario.Rate{Count: 10, Per: time.Second}, perSec: 10},
		{in: "3600/h", want: scenario.Rate{Count: 3600, Per: time.Hour}, perSec: 1},
		{in: " 7 / s ", want: scenario.Rate{Count: 7, Per: time.Second}, perSec: 7},
		{in: "0/s", want: scenario.Rate{Per: time.Second}, perSec: 0},
		{in: "5", wantErr: "has no unit"},
		{in: "5/", wantErr: "no period"},
		{in: "/s", wantErr: "not a whole number"},
		{in: "x/s", wantErr: "not a whole number"},
		{in: "1.5/s", wantErr: "3/2s"},
		{in: "-1/s", wantErr: "must not be negative"},
		{in: "5/fortnight", wantErr: "not a unit"},
		{in: "5/0s", wantErr: "period must be positive"},
		{in: "5/-1s", wantErr: "period must be positive"},
		{in: "99999999999999999999/s", wantErr: "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r, err := scenario.ParseRate(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, r)
			require.InDelta(t, tc.perSec, r.PerSecond(), 1e-9)
			again, err := scenario.ParseRate(r.String())
			require.NoError(t, err, "String must parse back")
			require.Equal(t, r, again)
		})
	}
}

// inMemory is a valid scenario built in code, as the harness's own tests
// and CLI overrides would.
func inMemory() *scenario.Scenario {
	return &scenario.Scenario{
		Name:        "built-in-code",
		Description: "a scenario with no file behind it",
		Services:    []string{"ers"},
		SUT: scenario.SUT{
			Command: []string{"./bin/gateway"},
			Health:  scenario.Health{HTTP: "/health"},
		},
		Load: []scenario.Load{{Workload: "refer-patient", Rate: scenario.Rate{Count: 5, Per: time.Second}, Duration: time.Minute}},
		Timeline: []scenario.Step{
			{At: 10 * time.Second, For: 10 * time.Second, Fault: "latency", Service: "ers", Latency: time.Second},
			{At: 30 * time.Second, Fault: "crash", Target: "sut"},
		},
		Checks: []scenario.CheckSpec{{Name: "sut-alive"}, {Name: "latency", Phase: "fault-1", P99: 3 * time.Second}},
	}
}

func TestValidateInMemory(t *testing.T) {
	require.NoError(t, inMemory().Validate())

	tests := []struct {
		name   string
		mutate func(*scenario.Scenario)
		opts   []scenario.Option
		want   []scenario.Problem // Pos is zero: there is no file
	}{
		{name: "valid"},
		{name: "nothing at all", mutate: func(s *scenario.Scenario) { *s = scenario.Scenario{} }, want: []scenario.Problem{
			{Path: "name", Msg: "name is required"},
			{Path: "description", Msg: "description is required"},
			{Path: "services", Msg: "services is required"},
			{Path: "sut", Msg: "sut is required"},
			{Path: "load", Msg: "load is required"},
			{Path: "checks", Msg: "checks is required"},
		}},
		{name: "override makes load too short", mutate: func(s *scenario.Scenario) { s.Load[0].Duration = 20 * time.Second },
			want: []scenario.Problem{{Path: "timeline[1].at", Msg: "fault starts at 30s, when all load has ended (20s): it would touch no traffic"}}},
		{name: "attribute set in code that does not apply", mutate: func(s *scenario.Scenario) { s.Timeline[1].Jitter = time.Second },
			want: []scenario.Problem{{Path: "timeline[1].jitter", Msg: "jitter does not apply to fault crash"}}},
		{name: "remote url", mutate: func(s *scenario.Scenario) {
			s.SUT.Command, s.SUT.URL, s.Timeline = nil, "https://ers.nhs.uk/", s.Timeline[:1]
		}, want: []scenario.Problem{{Path: "sut.url", Msg: "sut url host ers.nhs.uk is not loopback"}}},
		{name: "remote url allowed explicitly", opts: []scenario.Option{scenario.AllowHosts("10.1.2.3")}, mutate: func(s *scenario.Scenario) {
			s.SUT.Command, s.SUT.URL, s.Timeline = nil, "http://10.1.2.3:8080", s.Timeline[:1]
		}},
		{name: "ipv6 loopback url", mutate: func(s *scenario.Scenario) {
			s.SUT.Command, s.SUT.URL, s.Timeline = nil, "http://[::1]:8080", s.Timeline[:1]
		}},
		{name: "phase beyond timeline", mutate: func(s *scenario.Scenario) { s.Checks[1].Phase = "fault-3" },
			want: []scenario.Problem{{Path: "checks[1].latency.phase", Msg: "phase fault-3 names timeline step 3, but the timeline has 2"}}},
		{name: "error-rate without max", mutate: func(s *scenario.Scenario) {
			s.Checks = append(s.Checks, scenario.CheckSpec{Name: "error-rate", Phase: "all"})
		}, want: []scenario.Problem{{Path: "checks[2].error-rate.max", Msg: "max is required for check error-rate"}}},
		{name: "service options in code", mutate: func(s *scenario.Scenario) {
			s.Services = append(s.Services, "gpconnect")
			s.ServiceOptions = map[string]map[string]string{"gpconnect": {"patients": "50", "large_records": "0.25"}}
		}},
		{name: "service options in code with every problem", mutate: func(s *scenario.Scenario) {
			s.ServiceOptions = map[string]map[string]string{
				"gpconnect": {"patients": "many", "large_records": "NaN", "large_record_bytes": "3000000", "seed": "1"},
				"pharmacy":  {"x": "1"},
			}
		}, want: []scenario.Problem{
			{Path: "service_options.gpconnect", Msg: "options for service gpconnect, which is not in services"},
			{Path: "service_options.gpconnect.large_records", Msg: "large_records NaN must be between 0 and 1"},
			{Path: "service_options.gpconnect.patients", Msg: `patients must be a whole number, got "many"`},
			{Path: "service_options.gpconnect.seed", Msg: `unknown gpconnect option "seed"`},
			{Path: "service_options.pharmacy", Msg: `options for unknown service "pharmacy"`},
		}},
		{name: "order imaging in code", mutate: func(s *scenario.Scenario) {
			s.Services = []string{"gpconnect"}
			s.Load = []scenario.Load{{Workload: "order-imaging", Rate: scenario.Rate{Count: 2, Per: time.Second}, Duration: time.Minute,
				UIBudget: 12 * time.Second}}
			s.Timeline = []scenario.Step{
				{At: 10 * time.Second, For: 10 * time.Second, Fault: "malformed", Service: "gpconnect", Malform: "wrong-types", Bytes: 10},
				{At: 20 * time.Second, For: 10 * time.Second, Fault: "delay", Service: "gpconnect", ODS: []string{"Y1"}},
			}
			s.Checks = []scenario.CheckSpec{{Name: "host-responsive", MaxFreezes: -1}, {Name: "ordering-continues", Phase: "steady"}}
		}, want: []scenario.Problem{
			{Path: "checks[0].host-responsive.max_freezes", Msg: "max_freezes must not be negative, got -1"},
			{Path: "load[0].timeout", Msg: "ui_budget 12s is not below the operation timeout 10s"},
			{Path: "timeline[0].bytes", Msg: "bytes applies only to malform: oversized, not wrong-types"},
			{Path: "timeline[1].delay", Msg: "delay is required for fault delay"},
			{Path: "timeline[1].ods[0]", Msg: `"Y1" is not an ODS code`},
			{Path: "checks[0].host-responsive.max_block", Msg: "max_block is required for check host-responsive"},
			{Path: "checks[1].ordering-continues.phase", Msg: "phase does not apply to check ordering-continues"},
		}},
		{name: "clashing toxics", mutate: func(s *scenario.Scenario) {
			s.Timeline = append(s.Timeline, scenario.Step{At: 15 * time.Second, For: time.Second, Fault: "latency", Service: "ers", Latency: 2 * time.Second, Stream: "downstream"})
		}, want: []scenario.Problem{{Path: "timeline[2]", Msg: "latency toxic on ers (downstream) at 15s–16s overlaps timeline[0] at 10s–20s"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := inMemory()
			if tc.mutate != nil {
				tc.mutate(s)
			}
			err := s.ValidateWith(tc.opts...)
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			ps := problemsOf(t, err)
			require.Len(t, ps, len(tc.want), "got:\n%v", err)
			for i, w := range tc.want {
				require.Equal(t, w.Path, ps[i].Path)
				require.Contains(t, ps[i].Msg, w.Msg)
				require.Zero(t, ps[i].Pos)
				require.True(t, strings.HasPrefix(ps[i].String(), w.Path+": "), "no position prefix without a file: %s", ps[i])
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	stepKeys := tagNames(reflect.TypeFor[scenario.Step](), "yaml")
	paramNames := tagNames(reflect.TypeFor[scenario.CheckSpec](), "json")

	var names []string
	for _, f := range scenario.Faults() {
		names = append(names, f.Name)
		t.Run("fault "+f.Name, func(t *testing.T) {
			require.NotEmpty(t, f.Doc)
			for _, a := range f.Attrs {
				require.Contains(t, stepKeys, a, "attribute %s is not a Step key", a)
			}
			for _, r := range f.Required {
				require.Contains(t, f.Attrs, r, "required %s must also be in Attrs", r)
			}
			require.Equal(t, f.Windowed, f.Requires("for"), "windowed faults require for")
			require.Equal(t, f.NeedsService, f.Requires("service"))
			require.Equal(t, f.TargetSUT, f.Requires("target"))
			got, ok := scenario.LookupFault(f.Name)
			require.True(t, ok)
			require.Equal(t, f, got)
		})
	}
	require.Equal(t, []string{"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data",
		"down", "crash", "hang", "status", "lost-response", "delay", "malformed"}, names)
	for _, f := range scenario.Faults() {
		// Every in-band fault can be aimed at requests, operations and tenants.
		if f.Class == scenario.ClassInBand {
			for _, a := range []string{"fraction", "operations", "ods"} {
				require.True(t, f.Takes(a), "in-band fault %s must take %s", f.Name, a)
			}
		} else {
			require.False(t, f.Takes("ods"), "only in-band faults take ods, not %s", f.Name)
		}
	}
	require.Equal(t, []string{"invalid-json", "wrong-types", "oversized"}, scenario.MalformKinds())

	for _, c := range scenario.Checks() {
		t.Run("check "+c.Name, func(t *testing.T) {
			require.NotEmpty(t, c.Doc)
			for _, p := range c.Params {
				require.Contains(t, paramNames, p)
			}
			for _, p := range slices.Concat(c.Required, c.OneOf) {
				require.Contains(t, c.Params, p)
			}
			for _, w := range c.Workloads {
				require.Contains(t, scenario.Workloads(), w)
			}
		})
	}
	var checkNames []string
	for _, c := range scenario.Checks() {
		checkNames = append(checkNames, c.Name)
	}
	require.Equal(t, []string{"no-lost-referrals", "no-duplicate-referrals", "latency", "error-rate", "sut-alive",
		"host-responsive", "ordering-continues", "no-lost-results", "no-duplicate-results", "ack-integrity", "per-patient-order", "mesh-acknowledged"}, checkNames)

	loadKeys := tagNames(reflect.TypeFor[scenario.Load](), "yaml")
	for _, w := range scenario.Workloads() {
		k, ok := scenario.LookupWorkload(w)
		require.True(t, ok)
		require.NotEmpty(t, k.Doc)
		for _, svc := range k.Services {
			require.Contains(t, scenario.Services(), svc)
		}
		for _, a := range k.Attrs {
			require.Contains(t, loadKeys, a, "workload %s: attribute %s is not a Load key", w, a)
		}
		for _, common := range []string{"workload", "rate", "duration", "timeout", "max_in_flight"} {
			require.True(t, k.Takes(common))
		}
	}
	imaging, _ := scenario.LookupWorkload("order-imaging")
	require.True(t, imaging.Takes("ui_budget"))
	referral, _ := scenario.LookupWorkload("refer-patient")
	require.False(t, referral.Takes("ui_budget"))

	require.Equal(t, []string{"refer-patient", "order-imaging", "lab-results", "mesh-inbound"}, scenario.Workloads())
	require.Equal(t, []string{"ers", "gpconnect", "mesh"}, scenario.Services())
	ers, ok := scenario.LookupService("ers")
	require.True(t, ok)
	require.Equal(t, []string{"createReferral", "readReferral", "fetchWorklist", "cancelReferral", "practitionerRole"}, ers.Operations)
	require.Empty(t, ers.Options)
	require.Empty(t, ers.Tenants)
	gpc, ok := scenario.LookupService("gpconnect")
	require.True(t, ok)
	require.Equal(t, []string{"metadata", "searchPatient", "readPatient", "readOrganization", "readPractitioner",
		"readLocation", "getStructuredRecord", "searchSlot", "readAppointment", "bookAppointment",
		"amendAppointment", "cancelAppointment", "searchPatientAppointments", "jwks"}, gpc.Operations)
	require.NotEmpty(t, gpc.Tenants)
	require.Equal(t, []string{"patients", "large_records", "large_record_bytes"}, gpc.OptionNames())
	for _, name := range scenario.Services() {
		svc, _ := scenario.LookupService(name)
		for _, o := range svc.Options {
			t.Run("option "+name+"."+o.Name, func(t *testing.T) {
				require.NotEmpty(t, o.Doc)
				require.NotEmpty(t, o.Example)
				require.Contains(t, []scenario.OptionType{scenario.OptionCount, scenario.OptionFraction, scenario.OptionBytes, scenario.OptionDuration}, o.Type)
				if o.Type != scenario.OptionFraction {
					require.Less(t, o.Min, o.Max)
				}
				// The example and the default are themselves valid.
				for _, val := range []string{o.Example, o.Default} {
					if val == "" {
						continue
					}
					s := inMemory()
					s.Services = []string{name}
					workload := "order-imaging"
					if name != "gpconnect" {
						workload = "lab-results"
					}
					s.Load = []scenario.Load{{Workload: workload, Rate: scenario.Rate{Count: 1, Per: time.Second}, Duration: time.Minute}}
					s.Timeline = nil
					s.Checks = []scenario.CheckSpec{{Name: "sut-alive"}}
					s.ServiceOptions = map[string]map[string]string{name: {o.Name: val}}
					if o.Needs != "" {
						needed, ok := svc.Option(o.Needs)
						require.True(t, ok, "%s needs unknown option %s", o.Name, o.Needs)
						s.ServiceOptions[name][o.Needs] = needed.Example
					}
					require.NoError(t, s.Validate(), "%s: %s", o.Name, val)
				}
			})
		}
	}
	_, ok = gpc.Option("nope")
	require.False(t, ok)

	// The tables are not writable through the accessors.
	scenario.Faults()[0].Attrs[0] = "scribbled"
	f, _ := scenario.LookupFault("latency")
	require.NotContains(t, f.Attrs, "scribbled")
	gpc.Options[0].Name = "scribbled"
	again, _ := scenario.LookupService("gpconnect")
	require.Equal(t, "patients", again.Options[0].Name)
	imaging.Attrs[0] = "scribbled"
	imaging, _ = scenario.LookupWorkload("order-imaging")
	require.Equal(t, []string{"ui_budget"}, imaging.Attrs)
	hr, _ := scenario.LookupCheck("host-responsive")
	hr.Workloads[0] = "scribbled"
	hr, _ = scenario.LookupCheck("host-responsive")
	require.Equal(t, []string{"order-imaging"}, hr.Workloads)
}

func tagNames(t reflect.Type, key string) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get(key), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func TestPhases(t *testing.T) {
	s := inMemory() // two timeline steps
	tests := []struct {
		phase string
		valid bool
		fault int
	}{
		{"all", true, 0}, {"steady", true, 0}, {"before-faults", true, 0}, {"during-faults", true, 0},
		{"after-faults", true, 0}, {"fault-1", true, 1}, {"fault-2", true, 2}, {"fault-3", false, 3},
		{"fault-0", false, 0}, {"fault-01", false, 0}, {"fault-+1", false, 0}, {"fault-", false, 0},
		{"fault-N", false, 0}, {"Steady", false, 0}, {"", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.phase, func(t *testing.T) {
			require.Equal(t, tc.valid, s.ValidPhase(tc.phase))
			n, ok := scenario.PhaseFault(tc.phase)
			require.Equal(t, tc.fault, n)
			require.Equal(t, tc.fault > 0, ok)
		})
	}
	require.Equal(t, []string{"all", "steady", "before-faults", "during-faults", "after-faults", "fault-1", "fault-2"}, s.Phases())
	require.Contains(t, scenario.Phases(), "fault-N")
}

func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	require.NoError(f, err)
	broken, err := filepath.Glob("testdata/broken/*.yaml")
	require.NoError(f, err)
	for _, path := range append(seeds, broken...) {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("fuzz.yaml", data)
		if err == nil {
			require.NotNil(t, s)
			require.NoError(t, s.Validate(), "what Parse accepts, Validate accepts")
			return
		}
		var ps *scenario.Problems
		require.True(t, errors.As(err, &ps), "Parse returns *Problems, got %T", err)
		require.NotEmpty(t, *ps)
		for _, p := range *ps {
			require.NotEmpty(t, p.Msg)
			require.NotEmpty(t, p.Hint, "every problem says what to do: %v", p)
			require.Equal(t, "fuzz.yaml", p.Pos.File)
		}
		_ = err.Error()
		if s != nil {
			_ = s.Validate() // must not panic on a partial scenario
		}
	})
}

func TestLoadFilePathology(t *testing.T) {
	s, err := scenario.LoadFile("testdata/pathology.yaml")
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]string{"mesh": {"delivery_delay": "1.5s"}}, s.ServiceOptions,
		"a duration option is kept in its canonical text")
	require.Equal(t, 3*time.Second, s.Load[0].ACKWait())
	require.Equal(t, scenario.SUTService, s.Timeline[0].Service)
	require.Equal(t, scenario.DefaultACKTimeout, scenario.Load{Workload: "lab-results"}.ACKWait())
	require.Equal(t, []string{"lab-results"}, scenario.InboundWorkloads())

	w, ok := scenario.LookupWorkload("lab-results")
	require.True(t, ok)
	require.True(t, w.Inbound)
	require.Empty(t, w.Services, "lab-results needs no mock of its own; the lab is the harness")
	require.True(t, w.Takes("ack_timeout"))

	mesh, ok := scenario.LookupService("mesh")
	require.True(t, ok)
	require.Equal(t, []string{"handshake", "listInbox", "download", "downloadChunk", "acknowledge", "send", "sendChunk", "tracking"}, mesh.Operations)
	o, ok := mesh.Option("delivery_delay")
	require.True(t, ok)
	require.Equal(t, scenario.OptionDuration, o.Type)

	for _, name := range []string{"no-lost-results", "no-duplicate-results", "ack-integrity", "per-patient-order"} {
		k, ok := scenario.LookupCheck(name)
		require.True(t, ok, name)
		require.Equal(t, []string{"lab-results"}, k.Workloads, name)
	}
	inbound, ok := scenario.LookupWorkload("mesh-inbound")
	require.True(t, ok)
	require.False(t, inbound.Inbound, "mesh-inbound reaches the SUT through MESH, not the inbound proxy")
	require.Equal(t, []string{"mesh"}, inbound.Services)
	ack, ok := scenario.LookupCheck("mesh-acknowledged")
	require.True(t, ok)
	require.Equal(t, []string{"mesh-inbound"}, ack.Workloads)
	require.Equal(t, []string{"within"}, ack.Required)
	_, isService := scenario.LookupService(scenario.SUTService)
	require.False(t, isService, "sut is a pseudo-service for network faults only")
}
