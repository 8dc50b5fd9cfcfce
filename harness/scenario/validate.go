package scenario

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Validate checks the scenario's meaning: required fields, known services,
// faults, checks and workloads, attributes that apply, a loopback SUT, a
// timeline that touches traffic and does not clash. It returns every
// problem as *Problems, or nil. For a parsed scenario the problems point at
// the file; for one built in code they carry paths only.
func (s *Scenario) Validate() error { return s.ValidateWith() }

// ValidateWith is Validate with options, e.g. AllowHosts.
func (s *Scenario) ValidateWith(opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	v := newValidator(s, o, nil)
	v.validate()
	return v.problems.asError()
}

type validator struct {
	s    *Scenario
	opts options
	pos  map[string]nodePos
	// skip: paths the decoder could not decode; nothing more is said about
	// them or anything beneath them.
	skip map[string]bool
	// said: paths that already have a problem; one is enough per path.
	said     map[string]bool
	problems Problems
}

func newValidator(s *Scenario, o options, skip map[string]bool) *validator {
	pos := make(map[string]nodePos, len(s.pos)+len(s.Load)+len(s.Timeline)+len(s.Checks)+1)
	for k, p := range s.pos {
		pos[k] = p
	}
	fallback := func(path string, p Pos) {
		if _, ok := pos[path]; !ok && p != (Pos{}) {
			pos[path] = nodePos{Key: p, Val: p}
		}
	}
	fallback("sut", s.SUT.Pos)
	for i, l := range s.Load {
		fallback(index("load", i), l.Pos)
	}
	for i, st := range s.Timeline {
		fallback(index("timeline", i), st.Pos)
	}
	for i, c := range s.Checks {
		fallback(index("checks", i), c.Pos)
	}
	return &validator{s: s, opts: o, pos: pos, skip: skip, said: map[string]bool{}}
}

// parent is path without its last element ("" for a top-level key).
func parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// lookup finds the position of path or its nearest recorded ancestor.
func (v *validator) lookup(path string, key bool) Pos {
	for p := path; ; p = parent(p) {
		if np, ok := v.pos[p]; ok {
			if key && p == path {
				return np.Key
			}
			return np.Val
		}
		if p == "" {
			return Pos{}
		}
	}
}

// present reports whether the file spelled out the key at path.
func (v *validator) present(path string) bool {
	_, ok := v.pos[path]
	return ok
}

func (v *validator) ok(path string) bool {
	if v.said[path] {
		return false
	}
	for p := path; ; p = parent(p) {
		if v.skip[p] {
			return false
		}
		if p == "" {
			return true
		}
	}
}

func (v *validator) report(pos Pos, path, msg, hint string) {
	if !v.ok(path) {
		return
	}
	v.said[path] = true
	v.problems = append(v.problems, Problem{Pos: pos, Path: path, Msg: msg, Hint: hint})
}

// value reports a problem with the value at path (or, if the key is
// missing, with the mapping that should hold it).
func (v *validator) value(path, msg, hint string) { v.report(v.lookup(path, false), path, msg, hint) }

// key reports a problem with the key at path itself.
func (v *validator) key(path, msg, hint string) { v.report(v.lookup(path, true), path, msg, hint) }

// required reports a missing or empty value: "is required" when the key is
// absent, "must not be empty or zero" when it is there but empty.
func (v *validator) required(path, what, hint string) {
	msg := what + " is required"
	if v.present(path) {
		msg = what + " must not be empty or zero"
	}
	v.value(path, msg, hint)
}

func (v *validator) validate() {
	v.negatives(reflect.ValueOf(v.s).Elem(), "")
	v.header()
	v.serviceOptions()
	v.sut()
	loadEnd := v.load()
	v.timeline(loadEnd)
	v.checks()
}

// negatives reports negative durations and numbers anywhere in the struct
// v, by the YAML (or, for checks, JSON) names of its fields.
func (v *validator) negatives(rv reflect.Value, path string) {
	t := rv.Type()
	tagKey := "yaml"
	if t == reflect.TypeFor[CheckSpec]() {
		tagKey = "json"
	}
	for _, f := range fields(t, tagKey, "name") {
		fv := rv.Field(f.index)
		p := join(path, f.name)
		switch {
		case fv.Type() == durationType && fv.Int() < 0:
			v.value(p, fmt.Sprintf("%s must not be negative, got %s", f.name, time.Duration(fv.Int())),
				"durations count forward from the start of the run")
		case fv.Kind() >= reflect.Int && fv.Kind() <= reflect.Int64 && fv.Type() != durationType && fv.Int() < 0:
			v.value(p, fmt.Sprintf("%s must not be negative, got %d", f.name, fv.Int()), "use 0 or a positive number")
		case fv.Kind() == reflect.Struct && fv.Type() != rateType:
			v.negatives(fv, p)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			for i := range fv.Len() {
				ip := index(p, i)
				if c, ok := fv.Index(i).Interface().(CheckSpec); ok {
					ip = join(ip, c.Name)
				}
				v.negatives(fv.Index(i), ip)
			}
		}
	}
}

// A name becomes a directory name in the run's output.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

func (v *validator) header() {
	s := v.s
	switch {
	case s.Name == "":
		v.required("name", "name", "add `name: my-scenario` (kebab-case; it names the run's output directory)")
	case !validName.MatchString(s.Name):
		v.value("name", fmt.Sprintf("name %q is not a plain name", truncate(s.Name, 40)),
			"names become directory names: use letters, digits, '.', '_' and '-' (at most 100), e.g. ers-outage-during-referrals")
	}
	if strings.TrimSpace(s.Description) == "" {
		v.required("description", "description",
			"say in a sentence what goes wrong and what the integration must survive; it heads the report")
	}
	for i, h := range s.Hazards {
		if strings.TrimSpace(h) == "" {
			v.value(index("hazards", i), "empty hazard reference", "name a hazard log entry, e.g. HAZ-ERS-01, or remove it")
		}
	}
	if len(s.Services) == 0 {
		v.required("services", "services", "list the services to mock, e.g. services: [ers]; known: "+strings.Join(Services(), ", "))
	}
	for i, name := range s.Services {
		p := index("services", i)
		if name == SUTService {
			v.value(p, "sut is not a mocked service and is not listed in services",
				"remove it; a network fault reaches the inbound proxy in front of the SUT with service: sut without it")
			continue
		}
		if _, ok := LookupService(name); !ok {
			v.value(p, fmt.Sprintf("unknown service %q", name), unknownHint(name, Services(), "known services", Services()))
			continue
		}
		if j := slices.Index(s.Services, name); j < i {
			v.value(p, fmt.Sprintf("service %s is listed twice", name), "remove the repeat")
		}
	}
}

// serviceOptions checks service_options against the catalog: known and
// listed services, known options, values of the right type and range, and
// options that only work alongside another.
func (v *validator) serviceOptions() {
	s := v.s
	for _, name := range slices.Sorted(maps.Keys(s.ServiceOptions)) {
		p := "service_options." + name
		svc, ok := LookupService(name)
		switch {
		case !ok:
			v.key(p, fmt.Sprintf("options for unknown service %q", name), unknownHint(name, Services(), "known services", Services()))
			continue
		case len(svc.Options) == 0:
			v.key(p, fmt.Sprintf("service %s takes no options", name), fmt.Sprintf("remove service_options.%s", name))
			continue
		case !slices.Contains(s.Services, name):
			v.key(p, fmt.Sprintf("options for service %s, which is not in services", name),
				fmt.Sprintf("add %s to services, or remove its options", name))
		}
		opts := s.ServiceOptions[name]
		if len(opts) == 0 {
			v.value(p, fmt.Sprintf("no options given for service %s", name),
				fmt.Sprintf("give some (%s options: %s) or remove service_options.%s", name, strings.Join(svc.OptionNames(), ", "), name))
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(opts)) {
			kp := p + "." + key
			o, ok := svc.Option(key)
			if !ok {
				v.key(kp, fmt.Sprintf("unknown %s option %q", name, key),
					unknownHint(key, svc.OptionNames(), name+" options", svc.OptionNames()))
				continue
			}
			v.optionValue(kp, o, opts[key])
		}
		for _, o := range svc.Options {
			if _, given := opts[o.Name]; !given || o.Needs == "" {
				continue
			}
			if need, given := opts[o.Needs]; !given || isZeroNumber(need) {
				n, _ := svc.Option(o.Needs)
				v.key(p+"."+o.Name, fmt.Sprintf("%s has no effect without %s", o.Name, o.Needs),
					fmt.Sprintf("add %s, %s, e.g. %s: %s; or remove %s", o.Needs, n.Doc, o.Needs, n.Example, o.Name))
			}
		}
	}
}

func isZeroNumber(text string) bool {
	f, err := strconv.ParseFloat(text, 64)
	return err == nil && f == 0
}

// optionValue checks one service option's text against its type and range.
func (v *validator) optionValue(path string, o ServiceOption, text string) {
	example := fmt.Sprintf("%s is %s; e.g. %s: %s", o.Name, o.Doc, o.Name, o.Example)
	switch o.Type {
	case OptionCount, OptionBytes:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		switch {
		case err != nil:
			v.value(path, fmt.Sprintf("%s must be %s, got %q", o.Name, optionTypeName(o.Type), truncate(text, 40)), example)
		case n < o.Min || n > o.Max:
			unit := ""
			if o.Type == OptionBytes {
				unit = " bytes"
			}
			v.value(path, fmt.Sprintf("%s %d is out of range: it must be from %d to %d%s", o.Name, n, o.Min, o.Max, unit), example)
		}
	case OptionFraction:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		switch {
		case err != nil:
			v.value(path, fmt.Sprintf("%s must be %s, got %q", o.Name, optionTypeName(o.Type), truncate(text, 40)), example)
		case !(f >= 0 && f <= 1):
			v.value(path, fmt.Sprintf("%s %v must be between 0 and 1", o.Name, f), example)
		}
	case OptionDuration:
		d, err := time.ParseDuration(strings.TrimSpace(text))
		switch {
		case err != nil:
			v.value(path, fmt.Sprintf("%s must be %s, got %q", o.Name, optionTypeName(o.Type), truncate(text, 40)), example)
		case int64(d) < o.Min || (o.Max > 0 && int64(d) > o.Max):
			v.value(path, fmt.Sprintf("%s %s is out of range: it must be from %s to %s", o.Name, d, time.Duration(o.Min), time.Duration(o.Max)), example)
		}
	}
}

func (v *validator) sut() {
	u := v.s.SUT
	if !v.present("sut") && len(u.Command) == 0 && u.URL == "" && u.Image == "" && u.Health == (Health{}) {
		v.value("sut", "sut is required",
			`say how to run the system under test, e.g. sut: {command: ["./bin/my-integration"], health: {http: /health}}`)
		return
	}
	var ways []string
	for _, w := range []struct {
		key string
		set bool
	}{{"command", len(u.Command) > 0}, {"url", u.URL != ""}, {"image", u.Image != ""}} {
		if w.set || v.present("sut."+w.key) {
			ways = append(ways, w.key)
		}
	}
	switch {
	case len(ways) == 0:
		v.value("sut", "sut needs one of command, url or image",
			"command is a process the harness starts; url an already running SUT on loopback; image a container (containers mode)")
	case len(ways) > 1:
		v.report(v.lookup("sut."+ways[1], true), "sut", fmt.Sprintf("sut has both %s and %s; give exactly one", ways[0], ways[1]),
			"keep the one this scenario means and remove the other")
	}
	for i, arg := range u.Command {
		p := index("sut.command", i)
		if i == 0 && strings.TrimSpace(arg) == "" {
			v.value(p, "the command's program is empty", "the first element is the program to run")
		}
		if _, err := template.New(p).Parse(arg); err != nil {
			v.value(p, fmt.Sprintf("bad template: %v", err), "fields are written {{ .examples }} or {{ .ers.url }}")
		}
	}
	if present := v.present("sut.command"); present && len(u.Command) == 0 {
		v.value("sut.command", "command is empty", `give argv, e.g. ["./bin/my-integration", "--mode", "resilient"]`)
	}
	if u.URL != "" {
		v.sutURL(u.URL)
	}
	if v.present("sut.image") && strings.TrimSpace(u.Image) == "" {
		v.value("sut.image", "image is empty", "name the container image, e.g. supplier/integration:1.4.2")
	}
	switch h := u.Health.HTTP; {
	case h == "":
		v.required("sut.health.http", "sut.health.http",
			"the harness probes it for readiness and liveness: health: {http: /health}")
	case !strings.HasPrefix(h, "/"):
		v.value("sut.health.http", fmt.Sprintf("health path %q must start with /", h),
			"give a path on the SUT's own address, e.g. /health; the harness supplies the host")
	}
	for k, val := range u.Env {
		p := "sut.env." + k
		if k == "" || strings.ContainsAny(k, "=\x00") {
			v.key(p, fmt.Sprintf("bad environment variable name %q", k), "use a name like ERS_BASE_URL")
		}
		if _, err := template.New(p).Parse(val); err != nil {
			v.value(p, fmt.Sprintf("bad template: %v", err), "fields are written {{ .ers.url }}")
		}
	}
}

// sutIsURL: the SUT is only a URL, so the harness cannot kill or pause it.
func (v *validator) sutIsURL() bool {
	u := v.s.SUT
	return u.URL != "" && len(u.Command) == 0 && u.Image == "" &&
		!v.present("sut.command") && !v.present("sut.image")
}

// sutURL enforces DESIGN §8: loopback only, unless explicitly allowed.
func (v *validator) sutURL(raw string) {
	const p = "sut.url"
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.value(p, fmt.Sprintf("url %q is not an http(s) URL", truncate(raw, 60)), "write e.g. http://127.0.0.1:9000")
		return
	}
	host := u.Hostname()
	if slices.Contains(v.opts.allowHosts, host) {
		return
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Unmap().IsLoopback() {
		return
	}
	hint := "shakedown only aims at loopback (127.0.0.0/8 or ::1) unless the host is explicitly allowed; never a real NHS endpoint"
	if host == "localhost" {
		hint = "write 127.0.0.1 (or [::1]) instead of localhost: names can resolve anywhere"
	}
	v.value(p, fmt.Sprintf("sut url host %s is not loopback", host), hint)
}

// load validates the load and returns when it all ends (0 if unknown).
func (v *validator) load() time.Duration {
	s := v.s
	if len(s.Load) == 0 {
		v.required("load", "load", "add at least one workload: load: [{workload: refer-patient, rate: 5/s, duration: 3m}]")
	}
	var end time.Duration
	for i, l := range s.Load {
		p := index("load", i)
		switch w, ok := LookupWorkload(l.Workload); {
		case l.Workload == "":
			v.required(p+".workload", "workload", "name the journey to drive; known: "+strings.Join(Workloads(), ", "))
		case !ok:
			v.value(p+".workload", fmt.Sprintf("unknown workload %q", l.Workload),
				unknownHint(l.Workload, Workloads(), "known workloads", Workloads()))
		default:
			for _, need := range w.Services {
				if !slices.Contains(s.Services, need) {
					v.value(p+".workload", fmt.Sprintf("workload %s needs service %s, which is not in services", w.Name, need),
						fmt.Sprintf("add %s to services", need))
				}
			}
			v.loadAttrs(p, l, w)
		}
		if l.Rate.Count <= 0 || l.Rate.Per <= 0 {
			if v.present(p + ".rate") {
				v.value(p+".rate", fmt.Sprintf("rate %s must be greater than 0", l.Rate), "e.g. rate: 5/s")
			} else {
				v.required(p+".rate", "rate", "e.g. rate: 5/s or 300/m")
			}
		}
		switch {
		case l.Duration == 0 && v.present(p+".duration"):
			v.value(p+".duration", "duration must be greater than 0", "how long to drive the load, e.g. duration: 3m")
		case l.Duration == 0:
			v.required(p+".duration", "duration", "how long to drive the load, e.g. duration: 3m")
		}
		end = max(end, l.Duration)
	}
	return end
}

// defaultLoadTimeout is Load.Timeout when a load entry does not set it.
const defaultLoadTimeout = 10 * time.Second

// loadAttrs rejects load keys the workload does not take, and checks the
// UI budget of workloads driven through the clinical host.
func (v *validator) loadAttrs(p string, l Load, w WorkloadKind) {
	lv := reflect.ValueOf(l)
	for _, f := range fields(reflect.TypeFor[Load](), "yaml") {
		kp := p + "." + f.name
		if w.Takes(f.name) || !(v.present(kp) || !lv.Field(f.index).IsZero()) {
			continue
		}
		var takers []string
		for _, k := range workloadTable {
			if k.Takes(f.name) {
				takers = append(takers, k.Name)
			}
		}
		v.key(kp, fmt.Sprintf("%s does not apply to workload %s", f.name, w.Name),
			fmt.Sprintf("%s applies to workload %s only; remove it here", f.name, orList(takers)))
	}
	if w.Takes("ack_timeout") && v.present(p+".ack_timeout") && l.ACKTimeout == 0 {
		v.value(p+".ack_timeout", "ack_timeout must be greater than 0",
			fmt.Sprintf("leave it out for the default %s, or give e.g. ack_timeout: 5s", DefaultACKTimeout))
	}
	if !w.Takes("ui_budget") {
		return
	}
	if v.present(p+".ui_budget") && l.UIBudget == 0 {
		v.value(p+".ui_budget", "ui_budget must be greater than 0",
			fmt.Sprintf("leave it out for the default %s, or give e.g. ui_budget: 2s", DefaultUIBudget))
		return
	}
	timeout := cmp.Or(l.Timeout, defaultLoadTimeout)
	if l.Budget() >= timeout && l.Timeout >= 0 && l.UIBudget >= 0 {
		at := p + ".timeout"
		if v.present(p + ".ui_budget") {
			at = p + ".ui_budget"
		}
		v.value(at, fmt.Sprintf("ui_budget %s is not below the operation timeout %s: the clinician would give up before a hook could count as a freeze",
			l.Budget(), timeout),
			"make ui_budget (how long a hook may hold the screen) shorter than timeout (the clinician's patience), e.g. ui_budget: 2s, timeout: 10s")
	}
}

// stepKeys are Step's YAML keys other than fault.
func stepKeys() []field { return fields(reflect.TypeFor[Step](), "yaml", "fault") }

// examples of each attribute's value, for hints.
var attrExample = map[string]string{
	"for": "30s", "service": "ers", "target": "sut", "latency": "5s", "rate_kbps": "64", "delay": "1s",
	"average_size": "64", "bytes": "1024", "status": "503", "within": "60s", "phase": "steady", "max": "0.01",
	"malform": "invalid-json", "field": "text", "ods": "[Y12345]", "max_block": "2s", "ui_budget": "2s",
	"ack_timeout": "5s",
}

func exampleHint(key string) string {
	if e, ok := attrExample[key]; ok {
		return fmt.Sprintf("e.g. %s: %s", key, e)
	}
	return ""
}

var (
	streams         = []string{"downstream", "upstream"}
	clashingClasses = []FaultClass{ClassToxic, ClassProxy}
)

func (v *validator) timeline(loadEnd time.Duration) {
	s := v.s
	keys := stepKeys()
	for i := range s.Timeline {
		st := &s.Timeline[i]
		p := index("timeline", i)
		kind, ok := LookupFault(st.Fault)
		switch {
		case st.Fault == "":
			v.required(p+".fault", "fault", "fault kinds: "+strings.Join(faultNames(), ", "))
			continue
		case !ok:
			v.value(p+".fault", fmt.Sprintf("unknown fault %q", st.Fault),
				unknownHint(st.Fault, faultNames(), "fault kinds", faultNames()))
			continue
		}
		sv := reflect.ValueOf(st).Elem()
		takes := fmt.Sprintf("fault %s takes: %s", kind.Name, strings.Join(kind.Attrs, ", "))
		for _, f := range keys {
			kp := p + "." + f.name
			set := v.present(kp) || !sv.Field(f.index).IsZero()
			switch {
			case set && !kind.Takes(f.name):
				hint := takes
				if f.name == "for" && kind.Name == "crash" {
					hint = "a crash is instantaneous; use restart_after to bring the SUT back, or fault hang to freeze it for a window"
				}
				v.key(kp, fmt.Sprintf("%s does not apply to fault %s", f.name, kind.Name), hint)
			case !set && kind.Requires(f.name):
				v.value(kp, fmt.Sprintf("%s is required for fault %s", f.name, kind.Name), exampleHint(f.name))
			case set && kind.Requires(f.name) && sv.Field(f.index).IsZero():
				v.value(kp, fmt.Sprintf("%s must not be zero for fault %s", f.name, kind.Name), exampleHint(f.name))
			}
		}
		v.stepValues(p, st, kind, loadEnd)
	}
	v.overlaps()
}

func (v *validator) stepValues(p string, st *Step, kind FaultKind, loadEnd time.Duration) {
	s := v.s
	if kind.NeedsService && st.Service == SUTService {
		v.sutService(p, kind)
	} else if kind.NeedsService && st.Service != "" {
		if _, ok := LookupService(st.Service); !ok {
			v.value(p+".service", fmt.Sprintf("unknown service %q", st.Service),
				unknownHint(st.Service, Services(), "known services", Services()))
		} else if !slices.Contains(s.Services, st.Service) {
			v.value(p+".service", fmt.Sprintf("service %s is not listed in services", st.Service),
				fmt.Sprintf("add %s to services: [%s]", st.Service, strings.Join(append(slices.Clone(s.Services), st.Service), ", ")))
		}
	}
	if kind.TargetSUT {
		if st.Target != "" && st.Target != "sut" {
			v.value(p+".target", fmt.Sprintf("target %q: fault %s can only target sut", st.Target, kind.Name), "write target: sut")
		}
		if v.sutIsURL() {
			v.key(p+".fault", fmt.Sprintf("fault %s needs a SUT the harness runs, but sut is a url", kind.Name),
				"give sut.command (or sut.image in containers mode) so the harness can kill and restart it")
		}
	}
	if st.Stream != "" && kind.Takes("stream") && !slices.Contains(streams, st.Stream) {
		v.value(p+".stream", fmt.Sprintf("unknown stream %q", st.Stream),
			"upstream is SUT→service, downstream service→SUT (the default)")
	}
	if kind.Takes("status") && st.Status != 0 && (st.Status < 400 || st.Status > 599) {
		v.value(p+".status", fmt.Sprintf("status %d is not an HTTP error", st.Status), "use 400–599, e.g. 429, 503 or 504")
	}
	v.malformed(p, st, kind)
	v.ods(p, st, kind)
	if kind.Takes("fraction") && !(st.Fraction >= 0 && st.Fraction <= 1) {
		v.value(p+".fraction", fmt.Sprintf("fraction %v must be between 0 and 1", st.Fraction),
			"0.3 hits 30% of requests; leave it out to hit them all")
	}
	if kind.Takes("operations") {
		if svc, ok := LookupService(st.Service); ok {
			for j, op := range st.Operations {
				opPath := index(p+".operations", j)
				switch {
				case !slices.Contains(svc.Operations, op):
					v.value(opPath, fmt.Sprintf("unknown %s operation %q", svc.Name, op),
						unknownHint(op, svc.Operations, svc.Name+" operations", svc.Operations))
				case slices.Index(st.Operations, op) < j:
					v.value(opPath, fmt.Sprintf("operation %s is listed twice", op), "remove the repeat")
				}
			}
		}
	}
	if loadEnd > 0 && st.At >= loadEnd {
		v.value(p+".at", fmt.Sprintf("fault starts at %s, when all load has ended (%s): it would touch no traffic", st.At, loadEnd),
			fmt.Sprintf("start it before %s or make the load last longer", loadEnd))
	}
}

// sutService checks a fault aimed at the inbound proxy in front of the SUT
// (service: sut): only network faults can act there, and only when a load
// drives the SUT through that proxy.
func (v *validator) sutService(p string, kind FaultKind) {
	if kind.Class != ClassToxic && kind.Class != ClassProxy {
		v.value(p+".service", fmt.Sprintf("fault %s cannot target service sut: sut is the inbound proxy in front of the SUT, not a mock that can misbehave", kind.Name),
			"aim sut only with network faults (latency, slicer, reset_peer, down, ...); for the SUT itself use fault crash or hang with target: sut")
		return
	}
	if len(v.s.Load) == 0 {
		return
	}
	inbound := InboundWorkloads()
	for _, l := range v.s.Load {
		if slices.Contains(inbound, l.Workload) {
			return
		}
	}
	v.value(p+".service", fmt.Sprintf("service sut (the inbound proxy in front of the SUT) carries traffic only from workload %s, but no load entry drives it", orList(inbound)),
		fmt.Sprintf("add e.g. {workload: %s, rate: 1/s, duration: 3m} to load, or aim the fault at a mocked service", inbound[0]))
}

// malformed checks what a malformed fault does to the answer.
func (v *validator) malformed(p string, st *Step, kind FaultKind) {
	if !kind.Takes("malform") {
		return
	}
	if st.Malform != "" && !slices.Contains(MalformKinds(), st.Malform) {
		v.value(p+".malform", fmt.Sprintf("unknown malform %q", st.Malform),
			unknownHint(st.Malform, MalformKinds(), "malform is one of", MalformKinds()))
		return
	}
	if fp := p + ".field"; v.present(fp) || st.Field != "" {
		switch {
		case st.Malform == MalformInvalidJSON:
			v.key(fp, "field does not apply to malform: invalid-json (the whole body is cut short)",
				"remove field, or use malform: wrong-types or oversized")
		case !validField.MatchString(st.Field):
			v.value(fp, fmt.Sprintf("field %q is not a JSON key name", st.Field),
				"give the key whose values to corrupt, e.g. field: text")
		}
	}
	bp := p + ".bytes"
	if !v.present(bp) && st.Bytes == 0 {
		return
	}
	switch {
	case st.Malform != "" && st.Malform != MalformOversized:
		v.key(bp, fmt.Sprintf("bytes applies only to malform: %s, not %s", MalformOversized, st.Malform),
			"remove bytes, or use malform: oversized to pad answers to that size")
	case st.Bytes == 0:
		v.value(bp, "bytes must be greater than 0", "leave it out for the mock's default size, or give e.g. bytes: 5000000")
	case st.Bytes > MaxMalformedBytes:
		v.value(bp, fmt.Sprintf("bytes %d is too large for an oversized answer (at most %d, 64 MiB)", st.Bytes, MaxMalformedBytes),
			"a few megabytes is enough to choke a host, e.g. bytes: 5000000")
	}
}

// validField is the shape of a JSON key a malformed fault may aim at.
var validField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// validODS is the shape of an ODS code: upper-case letters and digits.
var validODS = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// ods checks the tenants an in-band fault is restricted to.
func (v *validator) ods(p string, st *Step, kind FaultKind) {
	if !kind.Takes("ods") || len(st.ODS) == 0 {
		return
	}
	if svc, ok := LookupService(st.Service); ok && svc.Tenants == "" {
		var tenanted []string
		for _, k := range serviceTable {
			if k.Tenants != "" {
				tenanted = append(tenanted, k.Name)
			}
		}
		v.key(p+".ods", fmt.Sprintf("ods does not apply to service %s: its mock does not tell tenants apart", svc.Name),
			fmt.Sprintf("remove ods; it restricts a fault to some organisations of a service that serves several (%s)", strings.Join(tenanted, ", ")))
		return
	}
	for j, code := range st.ODS {
		cp := index(p+".ods", j)
		switch {
		case !validODS.MatchString(code):
			v.value(cp, fmt.Sprintf("%q is not an ODS code", truncate(code, 20)),
				"ODS codes are 3 to 10 upper-case letters and digits, e.g. Y12345")
		case slices.Index(st.ODS, code) < j:
			v.value(cp, fmt.Sprintf("ODS code %s is listed twice", code), "remove the repeat")
		}
	}
}

// overlaps reports toxics of one type on one service and stream whose
// windows overlap (Toxiproxy names toxics by type, so they would clash), and
// overlapping `down` windows on one service.
func (v *validator) overlaps() {
	tl := v.s.Timeline
	type slot struct{ fault, service, stream string }
	slotOf := func(st Step) (slot, bool) {
		k, ok := LookupFault(st.Fault)
		if !ok || !slices.Contains(clashingClasses, k.Class) || st.Service == "" || st.For <= 0 || st.At < 0 {
			return slot{}, false
		}
		sl := slot{fault: st.Fault, service: st.Service}
		if k.Class == ClassToxic {
			sl.stream = cmp.Or(st.Stream, "downstream")
		}
		return sl, true
	}
	for j := range tl {
		b, ok := slotOf(tl[j])
		if !ok {
			continue
		}
		for i := range j {
			a, ok := slotOf(tl[i])
			if !ok || a != b || !(tl[i].At < tl[j].End() && tl[j].At < tl[i].End()) {
				continue
			}
			what := fmt.Sprintf("%s toxic on %s (%s)", b.fault, b.service, b.stream)
			why := "two toxics of one type on one service and stream clash in Toxiproxy"
			if b.stream == "" {
				what, why = fmt.Sprintf("down on %s", b.service), "the first window's end would bring the service back early"
			}
			line := ""
			if pos := v.lookup(index("timeline", i), false); pos.Line > 0 {
				line = fmt.Sprintf(" on line %d", pos.Line)
			}
			v.value(index("timeline", j),
				fmt.Sprintf("%s at %s–%s overlaps timeline[%d]%s at %s–%s: %s", what,
					tl[j].At, tl[j].End(), i, line, tl[i].At, tl[i].End(), why),
				"move one window so they do not overlap, or merge them into one step")
			break
		}
	}
}

func (v *validator) checks() {
	s := v.s
	if len(s.Checks) == 0 {
		v.required("checks", "checks", "say how to judge the run, e.g. checks: [{sut-alive: {}}]; known: "+strings.Join(checkNames(), ", "))
	}
	params := checkParams()
	seen := map[[2]string]int{}
	for i := range s.Checks {
		c := &s.Checks[i]
		p := index("checks", i)
		kind, ok := LookupCheck(c.Name)
		switch {
		case c.Name == "":
			v.value(p, "check has no name", "known checks: "+strings.Join(checkNames(), ", "))
			continue
		case !ok:
			v.key(join(p, c.Name), fmt.Sprintf("unknown check %q", c.Name),
				unknownHint(c.Name, checkNames(), "known checks", checkNames()))
			continue
		}
		cp := join(p, c.Name)
		cv := reflect.ValueOf(c).Elem()
		for _, f := range params {
			pp := cp + "." + f.name
			set := v.present(pp) || !cv.Field(f.index).IsZero()
			switch {
			case set && !kind.Takes(f.name):
				v.key(pp, fmt.Sprintf("%s does not apply to check %s", f.name, kind.Name), checkTakesHint(kind))
			case !set && slices.Contains(kind.Required, f.name):
				hint := exampleHint(f.name)
				if f.name == "phase" {
					hint += "; phases: " + strings.Join(Phases(), ", ")
				}
				v.value(pp, fmt.Sprintf("%s is required for check %s", f.name, kind.Name), hint)
			}
		}
		if len(kind.OneOf) > 0 && !slices.ContainsFunc(kind.OneOf, func(name string) bool {
			i := slices.IndexFunc(params, func(f field) bool { return f.name == name })
			return !cv.Field(params[i].index).IsZero()
		}) {
			v.value(cp, fmt.Sprintf("check %s needs at least one of %s", kind.Name, orList(kind.OneOf)),
				fmt.Sprintf("e.g. - %s: {phase: steady, p99: 2s}", kind.Name))
		}
		if kind.Takes("within") && v.present(cp+".within") && c.Within == 0 {
			v.value(cp+".within", "within must be greater than 0", exampleHint("within"))
		}
		if kind.Takes("max_block") && v.present(cp+".max_block") && c.MaxBlock == 0 {
			v.value(cp+".max_block", "max_block must be greater than 0",
				"the longest the clinician's screen may wait on the integration in one action, e.g. max_block: 2s")
		}
		v.checkWorkloads(cp, kind)
		if kind.Takes("phase") && c.Phase != "" {
			v.phase(cp+".phase", c.Phase)
		}
		if kind.Takes("max") && c.Max != nil && !(*c.Max >= 0 && *c.Max <= 1) {
			v.value(cp+".max", fmt.Sprintf("max %v must be a fraction between 0 and 1", *c.Max), "0.01 allows 1% of operations to fail")
		}
		v.percentiles(cp, c)
		key := [2]string{c.Name, c.Phase}
		if j, dup := seen[key]; dup {
			where := fmt.Sprintf("checks[%d]", j)
			if pos := v.lookup(index("checks", j), false); pos.Line > 0 {
				where = fmt.Sprintf("line %d", pos.Line)
			}
			what := c.Name
			if c.Phase != "" {
				what += " in phase " + c.Phase
			}
			v.key(cp, fmt.Sprintf("duplicate check: %s is already at %s", what, where), "merge the two entries or remove one")
		} else {
			seen[key] = i
		}
	}
}

// checkWorkloads reports a check that judges what a workload records when
// no load entry drives that workload.
func (v *validator) checkWorkloads(path string, kind CheckKind) {
	if len(kind.Workloads) == 0 || len(v.s.Load) == 0 {
		return
	}
	for _, l := range v.s.Load {
		if slices.Contains(kind.Workloads, l.Workload) {
			return
		}
	}
	v.key(path, fmt.Sprintf("check %s judges operations of workload %s, but no load entry drives it", kind.Name, orList(kind.Workloads)),
		fmt.Sprintf("add e.g. {workload: %s, rate: 1/s, duration: 3m} to load, or remove the check", kind.Workloads[0]))
}

func (v *validator) phase(path, phase string) {
	s := v.s
	if !s.ValidPhase(phase) {
		hint := "phases: " + strings.Join(Phases()[:5], ", ")
		if n := len(s.Timeline); n == 1 {
			hint += ", or fault-1 (the only timeline step)"
		} else if n > 1 {
			hint += fmt.Sprintf(", or fault-1 … fault-%d (one per timeline step)", n)
		} else {
			hint += " (fault-N needs timeline steps)"
		}
		msg := fmt.Sprintf("unknown phase %q", phase)
		if n, ok := PhaseFault(phase); ok {
			msg = fmt.Sprintf("phase %s names timeline step %d, but the timeline has %d", phase, n, len(s.Timeline))
		}
		v.value(path, msg, hint)
		return
	}
	if (phase == PhaseDuringFaults || phase == PhaseAfterFaults) && len(s.Timeline) == 0 {
		v.value(path, fmt.Sprintf("phase %s is empty: the timeline has no faults", phase),
			"use phase all or steady, or add a fault to the timeline")
	}
}

// percentiles reports latency bounds that contradict each other.
func (v *validator) percentiles(path string, c *CheckSpec) {
	ps := []struct {
		name string
		d    time.Duration
	}{{"p50", c.P50}, {"p95", c.P95}, {"p99", c.P99}}
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if ps[i].d > 0 && ps[j].d > 0 && ps[j].d < ps[i].d {
				v.value(path+"."+ps[j].name, fmt.Sprintf("%s (%s) is below %s (%s)", ps[j].name, ps[j].d, ps[i].name, ps[i].d),
					"a higher percentile cannot be faster than a lower one")
			}
		}
	}
}
