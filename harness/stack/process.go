package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/harness/record"
)

// Defaults for ProcessConfig.
const (
	DefaultHealthInterval = 100 * time.Millisecond
	DefaultStartTimeout   = 15 * time.Second
	DefaultStopTimeout    = 5 * time.Second
)

const (
	// startErrorLines is how many log lines a StartError carries.
	startErrorLines = 20
	// tailCapacity is how many lines LastLines can return.
	tailCapacity = 1000
	// pipeDrain bounds the wait for the SUT's output after it exits (a
	// grandchild may hold the pipes open).
	pipeDrain = 2 * time.Second
	// reapWait bounds the wait for a SIGKILLed process to be reaped.
	reapWait = 10 * time.Second
	// unexpectedBuffer is the capacity of the Unexpected channel.
	unexpectedBuffer = 64
)

// ProcessConfig describes how to run the SUT.
type ProcessConfig struct {
	// Argv is the command and its arguments.
	Argv []string
	// Env is added to os.Environ(); later entries win.
	Env []string
	// Dir is the working directory ("" = the harness's).
	Dir string
	// Addr is where the SUT must listen (a loopback host:port); the harness
	// sets SHAKEDOWN_SUT_ADDR to it.
	Addr string
	// HealthPath is probed with GET http://HealthAddr+HealthPath until it
	// answers 2xx. Empty means "until Addr accepts a TCP connection".
	HealthPath string
	// HealthAddr is where the health probe goes when the SUT serves it apart
	// from Addr (an MLLP SUT cannot answer HTTP on its MLLP port; the harness
	// tells it SHAKEDOWN_SUT_HEALTH_ADDR). Empty means Addr.
	HealthAddr string
	// HealthInterval is the wait between probes (default 100ms).
	HealthInterval time.Duration
	// StartTimeout bounds the wait for the first healthy probe (default 15s).
	StartTimeout time.Duration
	// StopTimeout is the grace between SIGTERM and SIGKILL (default 5s).
	StopTimeout time.Duration
	// LogDir, when set, receives sut.stdout.log and sut.stderr.log, appended
	// to across restarts.
	LogDir string
	// Clock places events on the run clock (default: a clock started now).
	Clock  *record.Clock
	Logger *slog.Logger
}

// StartError says why the SUT did not become healthy. The CLI maps it to
// exit code 3.
type StartError struct {
	Argv []string
	// What happened, in words.
	What string
	// Exited is true when the process ended by itself before it was healthy.
	Exited   bool
	ExitCode int
	// LastLines are the last lines the SUT wrote, stdout and stderr
	// interleaved as the harness read them (the two pipes are not ordered
	// with respect to each other).
	LastLines []string
	// Stderr and Stdout are the last lines of each stream.
	Stderr, Stdout []string
	Err            error
}

func (e *StartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "start SUT %q: %s", strings.Join(e.Argv, " "), e.What)
	if len(e.Stderr) == 0 && len(e.Stdout) == 0 {
		if len(e.LastLines) == 0 {
			b.WriteString(" (it wrote nothing to stdout or stderr)")
			return b.String()
		}
		e.writeLines(&b, "log", e.LastLines)
		return b.String()
	}
	e.writeLines(&b, "stderr", e.Stderr)
	e.writeLines(&b, "stdout", e.Stdout)
	return b.String()
}

func (e *StartError) writeLines(b *strings.Builder, stream string, lines []string) {
	if len(lines) == 0 {
		fmt.Fprintf(b, "\n  (nothing on %s)", stream)
		return
	}
	noun := "lines"
	if len(lines) == 1 {
		noun = "line"
	}
	fmt.Fprintf(b, "\n  last %d %s of %s:", len(lines), noun, stream)
	for _, l := range lines {
		b.WriteString("\n    ")
		b.WriteString(l)
	}
}

func (e *StartError) Unwrap() error { return e.Err }

// Process is a SUT started by shakedown. It implements fault.Process. All
// methods are safe for concurrent use.
type Process struct {
	cfg        ProcessConfig
	clock      *record.Clock
	log        *slog.Logger
	probe      *http.Client
	tail       *tail
	unexpected chan record.SUTEvent

	restartMu sync.Mutex // one Restart at a time

	mu       sync.Mutex
	inst     *instance
	starts   int
	events   []record.SUTEvent
	stopped  bool
	stopDone chan struct{}
}

var _ fault.Process = (*Process)(nil)

// instance is one run of the SUT binary.
type instance struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed once reaped and its exit recorded

	// Guarded by Process.mu.
	exited   bool
	expected bool // the harness caused (or is causing) the exit
	paused   bool
	code     int
	detail   string
}

// StartProcess starts the SUT and waits until it is healthy. If it exits
// first, or StartTimeout passes (the process is then killed), the error is
// a *StartError carrying its last log lines.
func StartProcess(ctx context.Context, cfg ProcessConfig) (*Process, error) {
	if len(cfg.Argv) == 0 || cfg.Argv[0] == "" {
		return nil, errors.New("start SUT: no command given")
	}
	if err := CheckLoopback(cfg.Addr); err != nil {
		return nil, fmt.Errorf("start SUT: SHAKEDOWN_SUT_ADDR: %w", err)
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.HealthAddr == "" {
		cfg.HealthAddr = cfg.Addr
	}
	if cfg.HealthPath != "" && !strings.HasPrefix(cfg.HealthPath, "/") {
		cfg.HealthPath = "/" + cfg.HealthPath
	}
	if cfg.LogDir != "" {
		if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
			return nil, fmt.Errorf("start SUT: log directory: %w", err)
		}
	}
	p := &Process{
		cfg:   cfg,
		clock: cfg.Clock,
		log:   cfg.Logger,
		probe: &http.Client{
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
			// A redirect is not health, and must not lead anywhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		tail:       newTail(tailCapacity),
		unexpected: make(chan record.SUTEvent, unexpectedBuffer),
		stopDone:   make(chan struct{}),
	}
	if p.clock == nil {
		p.clock = record.NewClock(nil)
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	inst, err := p.spawn()
	if err != nil {
		return nil, err
	}
	if err := p.waitHealthy(ctx, inst); err != nil {
		return nil, err
	}
	return p, nil
}

// spawn starts a new instance and its reaper.
func (p *Process) spawn() (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, errors.New("start SUT: it has been stopped")
	}
	p.starts++
	cmd := exec.Command(p.cfg.Argv[0], p.cfg.Argv[1:]...)
	cmd.Dir = p.cfg.Dir
	cmd.Env = append(append(os.Environ(), p.cfg.Env...), "SHAKEDOWN_SUT_ADDR="+p.cfg.Addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = pipeDrain

	outLine, errLine := p.tail.writer(streamStdout), p.tail.writer(streamStderr)
	var files []*os.File
	closeFiles := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	cmd.Stdout, cmd.Stderr = outLine, errLine
	if p.cfg.LogDir != "" {
		marker := fmt.Sprintf("# shakedown: SUT start %d at %s\n", p.starts, p.clock.Now().Round(time.Millisecond))
		for _, s := range []struct {
			name string
			w    *io.Writer
		}{{"sut.stdout.log", &cmd.Stdout}, {"sut.stderr.log", &cmd.Stderr}} {
			f, err := os.OpenFile(filepath.Join(p.cfg.LogDir, s.name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				closeFiles()
				return nil, fmt.Errorf("start SUT: open its log: %w", err)
			}
			files = append(files, f)
			_, _ = f.WriteString(marker)
			*s.w = io.MultiWriter(f, *s.w)
		}
	}
	if err := cmd.Start(); err != nil {
		closeFiles()
		return nil, &StartError{Argv: p.cfg.Argv, What: "could not be started: " + err.Error(), Err: err}
	}
	inst := &instance{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	p.inst = inst
	p.recordLocked(record.SUTEvent{Kind: record.SUTStarted, PID: inst.pid, Expected: true, Detail: strings.Join(p.cfg.Argv, " ")})
	go p.reap(inst, closeFiles, outLine, errLine)
	return inst, nil
}

// reap waits for inst to exit and records how it ended. Every instance has
// exactly one reaper, so no process is left a zombie.
func (p *Process) reap(inst *instance, closeFiles func(), lines ...*lineWriter) {
	waitErr := inst.cmd.Wait()
	closeFiles()
	for _, l := range lines {
		l.flush()
	}
	code, detail := exitStatus(inst.cmd.ProcessState, waitErr)
	p.mu.Lock()
	inst.exited, inst.paused = true, false
	inst.code, inst.detail = code, detail
	ev := record.SUTEvent{Kind: record.SUTExited, PID: inst.pid, ExitCode: code, Expected: inst.expected, Detail: detail}
	ev = p.recordLocked(ev)
	p.mu.Unlock()
	if !ev.Expected {
		select {
		case p.unexpected <- ev:
		default:
			p.log.Warn("SUT unexpected-exit channel is full; event kept in Events only", "pid", inst.pid)
		}
	}
	close(inst.done)
}

func exitStatus(st *os.ProcessState, waitErr error) (int, string) {
	if st == nil {
		return -1, fmt.Sprintf("wait failed: %v", waitErr)
	}
	detail := st.String() // "exit status 2", "signal: killed"
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		detail = "killed by signal " + ws.Signal().String()
	}
	if errors.Is(waitErr, exec.ErrWaitDelay) {
		detail += " (its output pipes were still held open after it exited)"
	}
	return st.ExitCode(), detail
}

// recordLocked stamps and appends an event; p.mu must be held.
func (p *Process) recordLocked(ev record.SUTEvent) record.SUTEvent {
	ev.At = p.clock.Now()
	p.events = append(p.events, ev)
	p.log.Info("SUT "+string(ev.Kind), "pid", ev.PID, "expected", ev.Expected, "detail", ev.Detail)
	return ev
}

// waitHealthy polls the health probe until it passes, the instance exits,
// StartTimeout passes or ctx ends. On every failure the instance is gone
// when it returns.
func (p *Process) waitHealthy(ctx context.Context, inst *instance) error {
	deadline := time.NewTimer(p.cfg.StartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(p.cfg.HealthInterval)
	defer tick.Stop()
	probeURL := p.describeProbe()
	var lastErr error
	for {
		select {
		case <-inst.done:
			return p.exitedBeforeHealthy(inst, probeURL)
		default:
		}
		lastErr = p.probeOnce(ctx)
		if lastErr == nil {
			select {
			case <-inst.done: // something else answered on Addr
				return p.exitedBeforeHealthy(inst, probeURL)
			default:
			}
			p.mu.Lock()
			p.recordLocked(record.SUTEvent{Kind: record.SUTHealthy, PID: inst.pid, Expected: true, Detail: probeURL})
			p.mu.Unlock()
			return nil
		}
		select {
		case <-inst.done:
			return p.exitedBeforeHealthy(inst, probeURL)
		case <-ctx.Done():
			p.killInstance(inst, "start interrupted")
			return fmt.Errorf("start SUT %q: %w", p.cfg.Argv[0], ctx.Err())
		case <-deadline.C:
			what := fmt.Sprintf("did not become healthy (%s) within %s; last probe: %v; shakedown killed it", probeURL, p.cfg.StartTimeout, lastErr)
			p.mu.Lock()
			p.recordLocked(record.SUTEvent{Kind: record.SUTUnhealthy, PID: inst.pid, Expected: false, Detail: what})
			p.mu.Unlock()
			p.killInstance(inst, "not healthy in time")
			return &StartError{Argv: p.cfg.Argv, What: what, LastLines: p.tail.last("", startErrorLines),
				Stderr: p.tail.last(streamStderr, startErrorLines), Stdout: p.tail.last(streamStdout, startErrorLines), Err: lastErr}
		case <-tick.C:
		}
	}
}

func (p *Process) describeProbe() string {
	if p.cfg.HealthPath == "" {
		return "TCP connect to " + p.cfg.Addr
	}
	return "GET http://" + p.cfg.HealthAddr + p.cfg.HealthPath + " answering 2xx"
}

func (p *Process) exitedBeforeHealthy(inst *instance, probe string) error {
	p.mu.Lock()
	code, detail, stopped := inst.code, inst.detail, p.stopped
	p.mu.Unlock()
	if stopped {
		return fmt.Errorf("start SUT %q: stopped by the harness before it became healthy", p.cfg.Argv[0])
	}
	return &StartError{
		Argv:      p.cfg.Argv,
		What:      fmt.Sprintf("exited before becoming healthy (%s): %s", probe, detail),
		Exited:    true,
		ExitCode:  code,
		LastLines: p.tail.last("", startErrorLines),
		Stderr:    p.tail.last(streamStderr, startErrorLines),
		Stdout:    p.tail.last(streamStdout, startErrorLines),
	}
}

// probeOnce runs one health probe.
func (p *Process) probeOnce(ctx context.Context) error {
	timeout := max(time.Second, 2*p.cfg.HealthInterval)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if p.cfg.HealthPath == "" {
		var d net.Dialer
		c, err := d.DialContext(pctx, "tcp", p.cfg.Addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, "http://"+p.cfg.HealthAddr+p.cfg.HealthPath, nil)
	if err != nil {
		return err
	}
	resp, err := p.probe.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// signalLocked sends sig to inst's process group; p.mu must be held and
// inst must not have been reaped.
func signalLocked(inst *instance, sig syscall.Signal) error {
	if err := syscall.Kill(-inst.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("send %s to process group %d: %w", sig, inst.pid, err)
	}
	return nil
}

// killInstance SIGKILLs inst's group as an expected exit and waits for the
// reaper (bounded).
func (p *Process) killInstance(inst *instance, why string) {
	p.mu.Lock()
	if !inst.exited {
		inst.expected = true
		_ = signalLocked(inst, syscall.SIGKILL)
		p.recordLocked(record.SUTEvent{Kind: record.SUTKilled, PID: inst.pid, Expected: true, Detail: why})
	}
	p.mu.Unlock()
	select {
	case <-inst.done:
	case <-time.After(reapWait):
		p.log.Error("SUT did not exit after SIGKILL", "pid", inst.pid)
	}
}

// running returns the current instance if it has not exited.
func (p *Process) runningLocked() (*instance, error) {
	if p.inst == nil {
		return nil, errors.New("the SUT has not been started")
	}
	if p.inst.exited {
		return nil, fmt.Errorf("the SUT is not running (pid %d %s)", p.inst.pid, p.inst.detail)
	}
	return p.inst, nil
}

// Kill sends SIGKILL to the SUT's process group, records the exit as
// expected and waits until it has been reaped.
func (p *Process) Kill(ctx context.Context) error {
	p.mu.Lock()
	inst, err := p.runningLocked()
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("kill SUT: %w", err)
	}
	inst.expected = true
	if err := signalLocked(inst, syscall.SIGKILL); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("kill SUT: %w", err)
	}
	p.recordLocked(record.SUTEvent{Kind: record.SUTKilled, PID: inst.pid, Expected: true, Detail: "SIGKILL to the process group (crash fault)"})
	p.mu.Unlock()
	return waitDone(ctx, inst, "kill SUT")
}

func waitDone(ctx context.Context, inst *instance, what string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case <-inst.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: pid %d has not exited yet: %w", what, inst.pid, ctx.Err())
	}
}

// Restart starts the SUT again with the same configuration and waits until
// it is healthy. A still-running SUT is killed first (expected). A failure
// is a *StartError, and leaves no process running.
func (p *Process) Restart(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p.restartMu.Lock()
	defer p.restartMu.Unlock()
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return errors.New("restart SUT: it has been stopped")
	}
	inst := p.inst
	running := inst != nil && !inst.exited
	p.mu.Unlock()
	if running {
		p.killInstance(inst, "killed before restart")
	}
	next, err := p.spawn()
	if err != nil {
		return err
	}
	return p.waitHealthy(ctx, next)
}

// Pause sends SIGSTOP to the SUT's process group (hang fault).
func (p *Process) Pause(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	inst, err := p.runningLocked()
	if err != nil {
		return fmt.Errorf("pause SUT: %w", err)
	}
	if inst.paused {
		return nil
	}
	if err := signalLocked(inst, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause SUT: %w", err)
	}
	inst.paused = true
	p.recordLocked(record.SUTEvent{Kind: record.SUTPaused, PID: inst.pid, Expected: true, Detail: "SIGSTOP to the process group"})
	return nil
}

// Resume sends SIGCONT to the SUT's process group. Resuming a SUT that is
// not paused, or that has exited since, does nothing.
func (p *Process) Resume(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	inst := p.inst
	if inst == nil {
		return errors.New("resume SUT: the SUT has not been started")
	}
	if inst.exited || !inst.paused {
		return nil
	}
	if err := signalLocked(inst, syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume SUT: %w", err)
	}
	inst.paused = false
	p.recordLocked(record.SUTEvent{Kind: record.SUTResumed, PID: inst.pid, Expected: true, Detail: "SIGCONT to the process group"})
	return nil
}

// Stop ends the SUT for good: SIGCONT (in case it is paused) and SIGTERM to
// its process group, then SIGKILL after StopTimeout, then SIGKILL to any
// process left in the group. It is idempotent, records the exit as
// expected, and returns once the SUT has been reaped. If ctx ends first the
// SUT is killed at once.
func (p *Process) Stop(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		select {
		case <-p.stopDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("stop SUT: %w", ctx.Err())
		}
	}
	p.stopped = true
	defer close(p.stopDone)
	inst := p.inst
	if inst == nil || inst.exited {
		p.recordLocked(record.SUTEvent{Kind: record.SUTStopped, PID: p.pidLocked(), Expected: true, Detail: "was not running"})
		p.mu.Unlock()
		if inst != nil {
			sweepGroup(inst.pid)
		}
		return nil
	}
	inst.expected = true
	_ = signalLocked(inst, syscall.SIGCONT)
	termErr := signalLocked(inst, syscall.SIGTERM)
	inst.paused = false
	p.mu.Unlock()

	how := "exited after SIGTERM"
	grace := time.NewTimer(p.cfg.StopTimeout)
	defer grace.Stop()
	if termErr != nil {
		how = "SIGTERM failed (" + termErr.Error() + "); killed"
		p.killInstance(inst, how)
	} else {
		select {
		case <-inst.done:
		case <-grace.C:
			how = fmt.Sprintf("killed: still running %s after SIGTERM", p.cfg.StopTimeout)
			p.killInstance(inst, how)
		case <-ctx.Done():
			how = "killed: stop interrupted (" + ctx.Err().Error() + ")"
			p.killInstance(inst, how)
		}
	}
	sweepGroup(inst.pid)
	p.mu.Lock()
	if inst.exited {
		how += "; " + inst.detail
	}
	p.recordLocked(record.SUTEvent{Kind: record.SUTStopped, PID: inst.pid, ExitCode: inst.code, Expected: true, Detail: how})
	exited := inst.exited
	p.mu.Unlock()
	if !exited {
		return fmt.Errorf("stop SUT: pid %d did not exit after SIGKILL", inst.pid)
	}
	return nil
}

// sweepGroup kills whatever is left in a process group whose leader has
// been reaped (children that outlived it).
func sweepGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (p *Process) pidLocked() int {
	if p.inst == nil {
		return 0
	}
	return p.inst.pid
}

// Events returns every lifecycle event so far.
func (p *Process) Events() []record.SUTEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]record.SUTEvent, len(p.events))
	copy(out, p.events)
	return out
}

// Unexpected delivers exits the harness did not cause. It is buffered and
// never closed; the reaper never blocks on it (if it is full, the event is
// still in Events).
func (p *Process) Unexpected() <-chan record.SUTEvent { return p.unexpected }

// PID is the process id of the current (or last) instance.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pidLocked()
}

// Alive reports whether the current instance has not exited (a paused SUT
// is alive).
func (p *Process) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inst != nil && !p.inst.exited
}

// LastLines returns up to n of the last lines the SUT wrote to stdout and
// stderr, across restarts, oldest first.
func (p *Process) LastLines(n int) []string { return p.tail.last("", n) }

// Streams a tail line comes from.
const (
	streamStdout = "stdout"
	streamStderr = "stderr"
)

type tailLine struct {
	stream string
	text   string
}

// tail keeps the last lines written by the SUT.
type tail struct {
	mu    sync.Mutex
	lines []tailLine
	max   int
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) add(stream, line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, tailLine{stream: stream, text: line})
	if len(t.lines) > 2*t.max {
		t.lines = append([]tailLine(nil), t.lines[len(t.lines)-t.max:]...)
	}
}

// last returns up to n of the last lines of stream ("" = both).
func (t *tail) last(stream string, n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for i := len(t.lines) - 1; i >= 0 && len(out) < n; i-- {
		if stream == "" || t.lines[i].stream == stream {
			out = append(out, t.lines[i].text)
		}
	}
	slices.Reverse(out)
	return out
}

func (t *tail) writer(stream string) *lineWriter { return &lineWriter{t: t, stream: stream} }

// lineWriter splits one stream into lines for the tail.
type lineWriter struct {
	t       *tail
	stream  string
	mu      sync.Mutex
	partial []byte
}

// maxLine bounds a line kept in the tail.
const maxLine = 4096

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.partial = append(w.partial, b...)
			if len(w.partial) > maxLine {
				w.t.add(w.stream, string(w.partial[:maxLine]))
				w.partial = w.partial[:0]
			}
			break
		}
		w.partial = append(w.partial, b[:i]...)
		w.t.add(w.stream, strings.TrimSuffix(string(w.partial), "\r"))
		w.partial = w.partial[:0]
		b = b[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.t.add(w.stream, string(w.partial))
		w.partial = w.partial[:0]
	}
}
