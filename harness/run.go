package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

// Artifact renders a file of the run directory from the result (JUnit,
// summaries). The CLI passes the reports package's renderers, so the
// dependency points from reports to harness and never back.
type Artifact struct {
	Name   string
	Render func(io.Writer, *Result) error
}

// WithArtifacts adds files rendered from the result into the run directory.
func WithArtifacts(a ...Artifact) Option {
	return func(c *config) error { c.artifacts = append(c.artifacts, a...); return nil }
}

// UsageError is an invalid scenario or option (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Run executes s and returns its result. The error is non-nil only when no
// trustworthy result could be produced (invalid scenario: *UsageError;
// otherwise a harness failure); even then the returned Result, when not nil,
// has been written to the run directory with HarnessError set.
func Run(ctx context.Context, s *scenario.Scenario, opts ...Option) (res *Result, err error) {
	cfg := defaults()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, &UsageError{Err: err}
		}
	}
	sc := *s
	if len(cfg.sutCommand) > 0 {
		sc.SUT.Command, sc.SUT.URL, sc.SUT.Image = cfg.sutCommand, "", ""
	}
	if cfg.seed != 0 {
		sc.Seed = cfg.seed
	}
	if sc.Seed == 0 {
		sc.Seed = chooseSeed()
	}
	if err := sc.Validate(); err != nil {
		return nil, &UsageError{Err: err}
	}
	if sc.SUT.Image != "" {
		return nil, &UsageError{Err: errors.New("sut.image needs containers mode, which is not available yet; give sut.command (or --sut-cmd) instead")}
	}

	r := &runner{cfg: cfg, sc: &sc, log: cfg.logger}
	r.res = &Result{
		Scenario:    sc.Name,
		Description: sc.Description,
		Hazards:     sc.Hazards,
		Source:      sc.Source,
		Seed:        sc.Seed,
		RunID:       fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405Z"), sc.Seed%100000),
		Mode:        cfg.mode,
		Started:     time.Now(),
		ExpectFail:  cfg.expectFail,
	}
	if err := r.prepareDir(); err != nil {
		return nil, err
	}

	defer func() {
		if p := recover(); p != nil {
			r.harnessErr(fmt.Errorf("harness panic: %v\n%s", p, debug.Stack()))
		}
		r.cleanup(context.WithoutCancel(ctx))
		r.finish(ctx)
		res = r.res
		if r.res.HarnessError != "" && !r.res.Interrupted {
			err = errors.New(r.res.HarnessError)
		}
	}()
	r.execute(ctx)
	return r.res, nil
}

type runner struct {
	cfg config
	sc  *scenario.Scenario
	log *slog.Logger
	res *Result

	dir      string
	clock    *record.Clock
	stack    *stack.Stack
	sut      *stack.Process
	sutURL   string
	env      map[string]string
	history  *record.History
	opsFile  *os.File
	timeline *timeline
	checks   []check.Check
	signer   *cdshooks.Signer
	inbound  string
	closers  []io.Closer
	extra    []*journal.Journal

	mu        sync.Mutex
	loads     []record.LoadReport
	cleanedUp bool
}

func (r *runner) progress(format string, args ...any) {
	at := time.Duration(0)
	if r.clock != nil {
		at = r.clock.Now()
	}
	fmt.Fprintf(r.cfg.progress, "[%7.2fs] %s\n", at.Seconds(), fmt.Sprintf(format, args...))
}

func (r *runner) harnessErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.HarnessError = joinNonEmpty(r.res.HarnessError, err.Error())
	r.log.Error("harness error", "err", err)
}

// prepareDir creates the run directory, refusing to clobber a directory
// that is not a previous run's.
func (r *runner) prepareDir() error {
	r.dir = filepath.Join(r.cfg.outDir, r.sc.Name)
	if entries, err := os.ReadDir(r.dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(r.dir, "seed")); err != nil {
			return &UsageError{Err: fmt.Errorf("run directory %s exists and is not a shakedown run directory; choose another --out", r.dir)}
		}
		if err := os.RemoveAll(r.dir); err != nil {
			return fmt.Errorf("clear previous run directory %s: %w", r.dir, err)
		}
	}
	for _, d := range []string{r.dir, filepath.Join(r.dir, "journals"), filepath.Join(r.dir, "sut-state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create run directory %s: %w", d, err)
		}
	}
	r.res.Dir = r.dir
	if err := os.WriteFile(filepath.Join(r.dir, "seed"), fmt.Appendf(nil, "%d\n", r.sc.Seed), 0o644); err != nil {
		return fmt.Errorf("write seed: %w", err)
	}
	raw := r.sc.Raw
	if len(raw) == 0 {
		raw = []byte("# built in code: " + r.sc.Name + "\n")
	}
	if len(r.cfg.sutCommand) > 0 {
		raw = append(fmt.Appendf(nil, "# run with --sut-cmd %q\n", strings.Join(r.cfg.sutCommand, " ")), raw...)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "scenario.yaml"), raw, 0o644); err != nil {
		return fmt.Errorf("write scenario.yaml: %w", err)
	}
	return nil
}

func (r *runner) execute(ctx context.Context) {
	r.clock = record.NewClock(nil)
	r.progress("scenario %s, seed %d, mode %s, run directory %s", r.sc.Name, r.sc.Seed, r.cfg.mode, r.dir)

	for _, spec := range r.sc.Checks {
		c, err := check.FromSpec(spec)
		if err != nil {
			r.harnessErr(fmt.Errorf("check %s at %s: %w", spec.Name, spec.Pos, err))
			return
		}
		r.checks = append(r.checks, c)
	}

	st, err := stack.Start(ctx, stack.Config{
		Services:  r.sc.Services,
		Factories: stack.DefaultFactories(),
		Seed:      r.sc.Seed,
		Options:   r.sc.ServiceOptions,
		Logger:    r.log,
	})
	if err != nil {
		r.harnessErr(fmt.Errorf("start the embedded stack: %w", err))
		return
	}
	r.stack = st
	r.res.ToxiproxyURL = st.ToxiproxyURL()
	r.res.Endpoints = map[string]string{}
	for name, ep := range st.Endpoints() {
		r.res.Endpoints[name] = ep.URL
	}
	r.progress("stack up: %s; Toxiproxy API %s (toxiproxy-cli -h %s list)", describeEndpoints(st.Endpoints()),
		st.ToxiproxyURL(), strings.TrimPrefix(st.ToxiproxyURL(), "http://"))

	if err := r.startSUT(ctx); err != nil {
		r.harnessErr(err)
		return
	}

	f, err := os.Create(filepath.Join(r.dir, "operations.jsonl"))
	if err != nil {
		r.harnessErr(fmt.Errorf("create operations.jsonl: %w", err))
		return
	}
	r.opsFile = f
	r.history = record.NewHistory(f)

	tl, err := newTimeline(r.sc, r.sc.Seed, r.clock, r.target(), st, r.log, r.progress)
	if err != nil {
		r.harnessErr(err)
		return
	}
	r.timeline = tl

	if ctx.Err() != nil {
		return
	}
	r.res.LoadStart = r.clock.Now()
	r.progress("load and fault timeline start")

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	client := workloadClient()
	defer client.CloseIdleConnections()
	for _, l := range r.sc.Load {
		w, err := newWorkload(l.Workload, workloadEnv{sutURL: r.sutURL, env: r.env, seed: r.sc.Seed, clock: r.clock,
			client: client, stack: r.stack, load: l, signer: r.signer, logger: r.log, inbound: r.inbound,
			onClose:  func(c io.Closer) { r.mu.Lock(); r.closers = append(r.closers, c); r.mu.Unlock() },
			journals: func(j *journal.Journal) { r.mu.Lock(); r.extra = append(r.extra, j); r.mu.Unlock() }})
		if err != nil {
			r.harnessErr(fmt.Errorf("load at %s: %w", l.Pos, err))
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := load.Run(loadCtx, load.RunConfig{
				Name:        l.Workload,
				Clock:       r.clock,
				Pacer:       load.ConstantPacer{Freq: l.Rate.Count, Per: l.Rate.Per, Duration: l.Duration},
				Workload:    w,
				History:     r.history,
				Timeout:     orDefault(l.Timeout, 10*time.Second),
				MaxInFlight: orDefaultInt(l.MaxInFlight, 1000),
				Logger:      r.log,
			})
			r.mu.Lock()
			r.loads = append(r.loads, rep)
			r.mu.Unlock()
		}()
	}
	tlDone := make(chan struct{})
	go func() {
		defer close(tlDone)
		tl.run(ctx, r.res.LoadStart)
	}()
	if r.sut != nil {
		go r.watchSUT(loadCtx)
	}

	wg.Wait()
	r.res.LoadEnd = r.clock.Now()
	r.progress("load finished: %d operations", r.history.Len())
	select {
	case <-tlDone:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		r.progress("interrupted: reverting faults and writing the report")
		return
	}
	r.drain(ctx)
}

// drain waits after the load for the checks' "within" deadlines, stopping
// early once every check that can tell says the outcome is settled.
func (r *runner) drain(ctx context.Context) {
	var within time.Duration
	for _, c := range r.sc.Checks {
		within = max(within, c.Within)
	}
	if r.sc.Drain > 0 {
		within = r.sc.Drain
	}
	if within == 0 {
		return
	}
	start := max(r.res.LoadEnd, lastEnd(r.timeline.windows()))
	deadline := min(start+within, r.res.LoadEnd+r.cfg.drainCap)
	r.progress("draining until %.1fs at most (within %s of the last fault or the end of load)", deadline.Seconds(), within)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for r.clock.Now() < deadline {
		if r.settled() {
			r.progress("settled: every check that can tell has its answer")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// quietPeriod is how long the mocks must have journalled nothing before the
// drain may end early.
const quietPeriod = 2 * time.Second

// Settler is implemented by checks that can tell, during the drain, that
// waiting longer cannot change their verdict.
type Settler interface {
	Settled(in *check.Input) bool
}

func (r *runner) settled() bool {
	if r.timeline.pending() > 0 {
		return false
	}
	in := r.input()
	// Nothing may still be happening: a duplicate made after the verdicts
	// looked settled would otherwise be missed.
	if n := len(in.Effects); n > 0 && in.End-in.Effects[n-1].At < quietPeriod {
		return false
	}
	any := false
	for _, c := range r.checks {
		s, ok := c.(Settler)
		if !ok {
			continue
		}
		any = true
		if !s.Settled(in) {
			return false
		}
	}
	return any
}

func lastEnd(ws []record.FaultWindow) time.Duration {
	var last time.Duration
	for _, w := range ws {
		end := w.Reverted
		if end == 0 {
			end = w.End
		}
		last = max(last, end)
	}
	return last
}

// watchSUT reports unexpected exits as they happen.
func (r *runner) watchSUT(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-r.sut.Unexpected():
			if !ok {
				return
			}
			r.progress("SUT exited unexpectedly (pid %d, exit code %d): %s", ev.PID, ev.ExitCode, ev.Detail)
		}
	}
}

func (r *runner) startSUT(ctx context.Context) error {
	addr, err := stack.FreeLoopbackAddr()
	if err != nil {
		return fmt.Errorf("choose an address for the SUT: %w", err)
	}
	r.env = r.stack.Env()
	inbound := r.needsInbound()
	healthAddr := addr
	if inbound {
		// An MLLP SUT cannot answer HTTP on its MLLP port: it serves health
		// on a second address.
		if healthAddr, err = stack.FreeLoopbackAddr(); err != nil {
			return fmt.Errorf("choose a health address for the SUT: %w", err)
		}
		r.env["SHAKEDOWN_SUT_HEALTH_ADDR"] = healthAddr
	}
	signer, err := hostSigner(r.stack, r.env)
	if err != nil {
		return err
	}
	r.signer = signer
	sutURL := "http://" + addr
	stateDir, _ := filepath.Abs(filepath.Join(r.dir, "sut-state"))
	runDir, _ := filepath.Abs(r.dir)
	maps.Copy(r.env, map[string]string{
		"SHAKEDOWN_SUT_ADDR":      addr,
		"SHAKEDOWN_SUT_URL":       sutURL,
		"SHAKEDOWN_SUT_STATE_DIR": stateDir,
		"SHAKEDOWN_RUN_DIR":       runDir,
		"SHAKEDOWN_SEED":          fmt.Sprint(r.sc.Seed),
	})
	data := r.templateData(addr, sutURL, runDir)
	for k, v := range r.sc.SUT.Env {
		ev, err := expand(v, data)
		if err != nil {
			return fmt.Errorf("sut.env %s at %s: %w", k, r.sc.SUT.Pos, err)
		}
		r.env[k] = ev
	}

	if r.sc.SUT.URL != "" {
		r.sutURL = strings.TrimSuffix(r.sc.SUT.URL, "/")
		r.res.SUT = r.sutURL
		r.progress("SUT given by URL %s (crash and hang faults unavailable)", r.sutURL)
		return nil
	}
	argv := make([]string, len(r.sc.SUT.Command))
	for i, a := range r.sc.SUT.Command {
		v, err := expand(a, data)
		if err != nil {
			return fmt.Errorf("sut.command[%d] at %s: %w", i, r.sc.SUT.Pos, err)
		}
		argv[i] = v
	}
	r.res.SUT = strings.Join(argv, " ")
	env := make([]string, 0, len(r.env))
	for _, k := range slices.Sorted(maps.Keys(r.env)) {
		env = append(env, k+"="+r.env[k])
	}
	p, err := stack.StartProcess(ctx, stack.ProcessConfig{
		Argv:           argv,
		Env:            env,
		Addr:           addr,
		HealthPath:     r.sc.SUT.Health.HTTP,
		HealthAddr:     healthAddr,
		HealthInterval: r.sc.SUT.Health.Interval,
		StartTimeout:   r.sc.SUT.StartTimeout,
		StopTimeout:    r.sc.SUT.StopTimeout,
		LogDir:         r.dir,
		Clock:          r.clock,
		Logger:         r.log,
	})
	if p != nil {
		r.sut = p
	}
	if err != nil {
		return fmt.Errorf("start the SUT %q: %w", r.res.SUT, err)
	}
	r.sutURL = sutURL
	r.progress("SUT healthy at %s (pid %d): %s", sutURL, p.PID(), r.res.SUT)
	if inbound {
		ep, err := r.stack.AddInbound(ctx, scenario.SUTService, addr)
		if err != nil {
			return fmt.Errorf("put a proxy in front of the SUT's own port %s: %w", addr, err)
		}
		r.inbound = ep.Addr
		r.progress("inbound proxy %q in front of the SUT: %s → %s (faults with service: sut)", scenario.SUTService, ep.Addr, addr)
	}
	return nil
}

// needsInbound reports whether a load drives the SUT over TCP through a
// proxy in front of its own port (lab-results over MLLP).
func (r *runner) needsInbound() bool {
	for _, l := range r.sc.Load {
		if slices.Contains(scenario.InboundWorkloads(), l.Workload) {
			return true
		}
	}
	return false
}

func (r *runner) templateData(addr, sutURL, runDir string) map[string]any {
	data := map[string]any{
		"examples": r.cfg.examplesDir,
		"run_dir":  runDir,
		"sut":      map[string]string{"addr": addr, "url": sutURL},
	}
	for name, ep := range r.stack.Endpoints() {
		data[name] = map[string]string{"url": ep.URL, "addr": ep.Addr}
	}
	return data
}

func expand(s string, data map[string]any) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	t, err := template.New("v").Option("missingkey=error").Parse(s)
	if err != nil {
		return "", fmt.Errorf("template %q: %w", s, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %q: %w (known fields: .examples, .run_dir, .sut.addr, .sut.url, .<service>.url, .<service>.addr)", s, err)
	}
	return b.String(), nil
}

func (r *runner) target() stack.Target {
	return stack.Target{Stack: r.stack, Process: r.sut}
}

// cleanup reverts every fault (newest first), stops the SUT and closes the
// stack, whatever happened. It runs once.
func (r *runner) cleanup(ctx context.Context) {
	r.mu.Lock()
	if r.cleanedUp {
		r.mu.Unlock()
		return
	}
	r.cleanedUp = true
	r.mu.Unlock()

	if r.timeline != nil {
		r.timeline.revertAll(ctx)
		if err := r.timeline.err(); err != nil {
			r.harnessErr(err)
		}
	}
	if r.clock != nil && r.res.End == 0 {
		r.res.End = r.clock.Now()
	}
	r.mu.Lock()
	closers := slices.Clone(r.closers)
	r.mu.Unlock()
	for _, c := range closers {
		if err := c.Close(); err != nil {
			r.log.Warn("close a workload's resources", "err", err)
		}
	}
	if r.sut != nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.sut.Stop(sctx); err != nil {
			r.harnessErr(fmt.Errorf("stop the SUT: %w", err))
		}
		cancel()
	}
	if r.stack != nil {
		// Journals stay readable after Close: finish reads them next.
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.stack.Close(sctx); err != nil {
			r.harnessErr(fmt.Errorf("close the stack: %w", err))
		}
		cancel()
	}
	if r.opsFile != nil {
		if err := r.history.Err(); err != nil {
			r.harnessErr(fmt.Errorf("operations.jsonl: %w", err))
		}
		if err := r.opsFile.Close(); err != nil {
			r.harnessErr(fmt.Errorf("close operations.jsonl: %w", err))
		}
	}
}

// input assembles what checks read.
func (r *runner) input() *check.Input {
	in := &check.Input{LoadEnd: r.res.LoadEnd, End: r.clock.Now()}
	if r.res.End != 0 {
		in.End = r.res.End
	}
	if r.history != nil {
		in.Operations = r.history.Operations()
	}
	if r.stack != nil {
		r.mu.Lock()
		journals := append(r.stack.Journals(), r.extra...)
		r.mu.Unlock()
		for _, j := range journals {
			in.Effects = append(in.Effects, record.EffectsOf(r.clock, j.Entries())...)
		}
		sort.SliceStable(in.Effects, func(a, b int) bool { return in.Effects[a].At < in.Effects[b].At })
	}
	if r.timeline != nil {
		in.Faults = judgeWindows(r.timeline.windows(), in.Operations)
	}
	if r.sut != nil {
		in.SUT = r.sut.Events()
	}
	r.mu.Lock()
	in.Load = slices.Clone(r.loads)
	r.mu.Unlock()
	return in
}

// finish evaluates the checks and writes the run directory.
func (r *runner) finish(ctx context.Context) {
	res := r.res
	res.Interrupted = ctx.Err() != nil
	res.Wall = time.Since(res.Started)
	if r.clock == nil {
		res.Status = check.Inconclusive
		r.writeArtifacts(nil)
		return
	}
	in := r.input()
	res.Load = in.Load
	res.Faults = in.Faults
	res.SUTEvents = in.SUT
	res.Phases = phaseSummaries(in)
	if res.HarnessError == "" || r.history != nil {
		for _, c := range r.checks {
			v := c.Evaluate(in)
			if v.Check == "" {
				v.Check = c.Name()
			}
			res.Verdicts = append(res.Verdicts, v)
		}
	}
	res.Validity = validity(in.Load, in.Faults, r.cfg.minLoad)
	res.Status = overall(res.Verdicts, res.Validity)
	if res.Interrupted || res.HarnessError != "" {
		res.Status = check.Inconclusive
	}
	if len(r.cfg.expectFail) > 0 && res.HarnessError == "" && !res.Interrupted {
		met := expectationMet(res, r.cfg.expectFail)
		res.ExpectMet = met
	}
	r.writeArtifacts(in)
}

// expectationMet is nil when a check is inconclusive (the run cannot say
// whether it would have failed), otherwise whether every expected check
// failed. Other checks failing as well do not undo it: for a known-bad
// control they are further catches, reported beside it (the run that guards
// against a check failing wrongly is the good integration's, which must
// pass everything). An inconclusive validity verdict does not block it: a
// known-bad control may wedge itself so that a later fault finds no traffic,
// and its failures are still evidence (a failure outranks an invalid run);
// the report shows the validity verdicts beside it.
func expectationMet(res *Result, expect []string) *bool {
	for _, v := range res.Verdicts {
		if v.Status == check.Inconclusive {
			return nil
		}
	}
	failed := res.Failed()
	met := true
	for _, name := range expect {
		met = met && slices.Contains(failed, name)
	}
	return &met
}

func (r *runner) writeArtifacts(in *check.Input) {
	write := func(name string, fn func(io.Writer) error) {
		f, err := os.Create(filepath.Join(r.dir, name))
		if err != nil {
			r.harnessErr(fmt.Errorf("create %s: %w", name, err))
			return
		}
		if err := fn(f); err != nil {
			r.harnessErr(fmt.Errorf("write %s: %w", name, err))
		}
		if err := f.Close(); err != nil {
			r.harnessErr(fmt.Errorf("close %s: %w", name, err))
		}
	}
	jsonOf := func(v any) func(io.Writer) error {
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	if in != nil {
		write("faults.json", jsonOf(in.Faults))
		bySvc := map[string][]record.Effect{}
		for _, e := range in.Effects {
			bySvc[e.Service] = append(bySvc[e.Service], e)
		}
		services := slices.Clone(r.sc.Services)
		for svc := range bySvc {
			if !slices.Contains(services, svc) {
				services = append(services, svc)
			}
		}
		for _, svc := range services {
			write(filepath.Join("journals", svc+".jsonl"), func(w io.Writer) error {
				enc := json.NewEncoder(w)
				for _, e := range bySvc[svc] {
					if err := enc.Encode(e); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	for _, a := range r.cfg.artifacts {
		write(a.Name, func(w io.Writer) error { return a.Render(w, r.res) })
	}
	// result.json last, so its presence means the directory is complete.
	write("result.json", jsonOf(r.res))
}

func phaseSummaries(in *check.Input) []PhaseSummary {
	phases := []string{"all", "steady", "before-faults", "during-faults", "after-faults"}
	for _, w := range in.Faults {
		phases = append(phases, fmt.Sprintf("fault-%d", w.Index))
	}
	var out []PhaseSummary
	for _, p := range phases {
		ops := check.PhaseOps(in, p)
		if len(ops) == 0 && p != "all" {
			continue
		}
		st := check.Stats(ops)
		out = append(out, PhaseSummary{Phase: p, PhaseStats: st, ErrorRate: st.ErrorRate()})
	}
	return out
}

func describeEndpoints(eps map[string]stack.Endpoint) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(eps)) {
		parts = append(parts, fmt.Sprintf("%s via proxy %s", name, eps[name].URL))
	}
	return strings.Join(parts, ", ")
}

func chooseSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	s := binary.LittleEndian.Uint64(b[:]) % 1_000_000_000
	if s == 0 {
		s = 1
	}
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orDefaultInt(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}
