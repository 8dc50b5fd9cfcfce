package stack_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/stack"
)

// The test binary doubles as the SUT: with STACK_TEST_SUT set it runs
// fakeSUT instead of the tests.
const sutModeEnv = "STACK_TEST_SUT"

func TestMain(m *testing.M) {
	if mode := os.Getenv(sutModeEnv); mode != "" {
		os.Exit(fakeSUT(mode))
	}
	os.Exit(m.Run())
}

// fakeSUT modes:
//
//	serve  listen on SHAKEDOWN_SUT_ADDR: /health → 200, /exit?code=N exits N;
//	       SIGTERM exits 0 unless STACK_TEST_IGNORE_TERM=1; with
//	       STACK_TEST_CHILD=1 it first starts a child (mode sleep) in its
//	       process group and prints "child pid N".
//	fail   print 30 lines, then a fatal error on stderr, exit 3.
//	never  never listen.
//	sleep  block until killed.
func fakeSUT(mode string) int {
	switch mode {
	case "fail":
		for i := 1; i <= 30; i++ {
			fmt.Printf("loading step %d\n", i)
		}
		fmt.Fprintln(os.Stderr, "fatal: cannot read config pilot.yaml")
		return 3
	case "never":
		fmt.Printf("starting as pid %d, but never listening\n", os.Getpid())
		select {}
	case "sleep":
		select {}
	case "serve":
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		return 2
	}
	term := make(chan os.Signal, 1)
	if os.Getenv("STACK_TEST_IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(term, syscall.SIGTERM)
	}
	if os.Getenv("STACK_TEST_CHILD") == "1" {
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), sutModeEnv+"=sleep")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start child:", err)
			return 1
		}
		fmt.Printf("child pid %d\n", child.Process.Pid)
	}
	ln, err := net.Listen("tcp", os.Getenv("SHAKEDOWN_SUT_ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	exit := make(chan int, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(http.StatusAccepted)
		// The answer must be on the wire before the process may exit, or the
		// client sees EOF instead of 202.
		http.NewResponseController(w).Flush()
		exit <- code
	})
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Println("hello from the fake SUT")
	fmt.Fprintln(os.Stderr, "listening on", ln.Addr())
	select {
	case code := <-exit:
		fmt.Fprintln(os.Stderr, "exiting with", code)
		return code
	case <-term:
		fmt.Println("got SIGTERM, bye")
		return 0
	}
}

type sutOpts struct {
	mode         string
	env          []string
	startTimeout time.Duration
	stopTimeout  time.Duration
}

func sutConfig(t *testing.T, o sutOpts) stack.ProcessConfig {
	t.Helper()
	addr, err := stack.FreeLoopbackAddr()
	require.NoError(t, err)
	return stack.ProcessConfig{
		Argv: []string{os.Args[0], "-test.run=^$"},
		// GORACE: a -race binary otherwise sleeps 1s on exit.
		Env:            append([]string{sutModeEnv + "=" + o.mode, "GORACE=atexit_sleep_ms=0"}, o.env...),
		Addr:           addr,
		HealthPath:     "/health",
		HealthInterval: 20 * time.Millisecond,
		StartTimeout:   o.startTimeout,
		StopTimeout:    o.stopTimeout,
		LogDir:         t.TempDir(),
		Clock:          record.NewClock(nil),
	}
}

func startSUT(t *testing.T, o sutOpts) *stack.Process {
	t.Helper()
	began := time.Now()
	p, err := stack.StartProcess(context.Background(), sutConfig(t, o))
	require.NoError(t, err)
	t.Logf("SUT healthy %s after start", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		require.NoError(t, p.Stop(context.Background()))
		requireGone(t, p.PID())
	})
	return p
}

// requireGone waits until pid no longer exists (or is a zombie of someone
// else's, which no longer runs).
func requireGone(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool { return gone(pid) }, 5*time.Second, 10*time.Millisecond, "pid %d still exists", pid)
}

func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	return procState(pid) == "Z"
}

// procState is the one-letter state from /proc/PID/stat ("" if gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

func kinds(evs []record.SUTEvent) []record.SUTEventKind {
	out := make([]record.SUTEventKind, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func healthy(addr string) error {
	resp, err := client(300 * time.Millisecond).Get("http://" + addr + "/health")
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func requireNoUnexpected(t *testing.T, p *stack.Process) {
	t.Helper()
	select {
	case ev := <-p.Unexpected():
		t.Fatalf("unexpected exit reported: %+v", ev)
	default:
	}
}

func TestProcessStartsHealthyAndStops(t *testing.T) {
	cfg := sutConfig(t, sutOpts{mode: "serve"})
	p, err := stack.StartProcess(context.Background(), cfg)
	require.NoError(t, err)
	pid := p.PID()
	require.Positive(t, pid)
	require.True(t, p.Alive())
	require.NoError(t, healthy(cfg.Addr), "the SUT got SHAKEDOWN_SUT_ADDR")
	require.Equal(t, []record.SUTEventKind{record.SUTStarted, record.SUTHealthy}, kinds(p.Events()))

	pgid, err := syscall.Getpgid(pid)
	require.NoError(t, err)
	require.Equal(t, pid, pgid, "the SUT leads its own process group")

	require.NoError(t, p.Stop(context.Background()))
	require.False(t, p.Alive())
	requireGone(t, pid)
	evs := p.Events()
	require.Equal(t, []record.SUTEventKind{record.SUTStarted, record.SUTHealthy, record.SUTExited, record.SUTStopped}, kinds(evs))
	require.True(t, evs[2].Expected)
	require.Zero(t, evs[2].ExitCode, "it handled SIGTERM")
	require.Contains(t, evs[3].Detail, "exited after SIGTERM")
	require.NoError(t, p.Stop(context.Background()), "Stop is idempotent")
	require.Len(t, p.Events(), 4)
	requireNoUnexpected(t, p)

	require.Contains(t, p.LastLines(10), "got SIGTERM, bye")
	out, err := os.ReadFile(filepath.Join(cfg.LogDir, "sut.stdout.log"))
	require.NoError(t, err)
	require.Contains(t, string(out), "hello from the fake SUT")
	errLog, err := os.ReadFile(filepath.Join(cfg.LogDir, "sut.stderr.log"))
	require.NoError(t, err)
	require.Contains(t, string(errLog), "listening on "+cfg.Addr)

	for name, op := range map[string]func(context.Context) error{"kill": p.Kill, "pause": p.Pause, "restart": p.Restart} {
		require.Error(t, op(context.Background()), "%s after Stop", name)
	}
}

func TestProcessStartFailures(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(stack.ProcessConfig) stack.ProcessConfig
		mode     string
		exited   bool
		code     int
		contains []string
	}{
		{
			name:     "exits before healthy",
			mode:     "fail",
			exited:   true,
			code:     3,
			contains: []string{"exited before becoming healthy", "exit status 3", "fatal: cannot read config pilot.yaml", "loading step 30"},
		},
		{
			name:     "never healthy",
			mode:     "never",
			cfg:      func(c stack.ProcessConfig) stack.ProcessConfig { c.StartTimeout = 300 * time.Millisecond; return c },
			contains: []string{"did not become healthy", "within 300ms", "but never listening", "shakedown killed it"},
		},
		{
			name:     "binary missing",
			mode:     "serve",
			cfg:      func(c stack.ProcessConfig) stack.ProcessConfig { c.Argv = []string{"/nonexistent/sut"}; return c },
			contains: []string{"could not be started", "/nonexistent/sut"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sutConfig(t, sutOpts{mode: tt.mode})
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			p, err := stack.StartProcess(context.Background(), cfg)
			require.Nil(t, p)
			var se *stack.StartError
			require.ErrorAs(t, err, &se)
			t.Log(err)
			require.Equal(t, tt.exited, se.Exited)
			require.Equal(t, tt.code, se.ExitCode)
			require.LessOrEqual(t, len(se.LastLines), 20)
			require.LessOrEqual(t, len(se.Stdout), 20)
			if tt.exited {
				require.Equal(t, []string{"fatal: cannot read config pilot.yaml"}, se.Stderr, "the stderr tail survives a noisy stdout")
			}
			for _, c := range tt.contains {
				require.Contains(t, err.Error(), c)
			}
		})
	}
}

func TestProcessStartTimeoutKillsTheSUT(t *testing.T) {
	cfg := sutConfig(t, sutOpts{mode: "never"})
	cfg.StartTimeout = 200 * time.Millisecond
	_, err := stack.StartProcess(context.Background(), cfg)
	var se *stack.StartError
	require.ErrorAs(t, err, &se)
	require.False(t, se.Exited)
	var pid int
	for _, l := range se.LastLines {
		if _, err := fmt.Sscanf(l, "starting as pid %d", &pid); err == nil {
			break
		}
	}
	require.Positive(t, pid, "the fake SUT printed its pid: %q", se.LastLines)
	requireGone(t, pid)
}

func TestProcessConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  stack.ProcessConfig
		want string
	}{
		{name: "no command", cfg: stack.ProcessConfig{Addr: "127.0.0.1:1"}, want: "no command given"},
		{name: "addr not loopback", cfg: stack.ProcessConfig{Argv: []string{"x"}, Addr: "10.1.2.3:80"}, want: "outside 127.0.0.0/8"},
		{name: "addr missing", cfg: stack.ProcessConfig{Argv: []string{"x"}}, want: "SHAKEDOWN_SUT_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stack.StartProcess(context.Background(), tt.cfg)
			require.ErrorContains(t, err, tt.want)
			var se *stack.StartError
			require.False(t, errors.As(err, &se), "a configuration error is not a StartError")
		})
	}
}

func TestProcessKillIsExpectedAndRestartComesBack(t *testing.T) {
	p := startSUT(t, sutOpts{mode: "serve"})
	first := p.PID()

	require.NoError(t, p.Kill(context.Background()))
	require.False(t, p.Alive())
	requireGone(t, first)
	evs := p.Events()
	require.Equal(t, []record.SUTEventKind{record.SUTStarted, record.SUTHealthy, record.SUTKilled, record.SUTExited}, kinds(evs))
	require.True(t, evs[2].Expected)
	require.True(t, evs[3].Expected)
	require.Equal(t, -1, evs[3].ExitCode)
	require.Contains(t, evs[3].Detail, "killed by signal")
	requireNoUnexpected(t, p)
	require.ErrorContains(t, p.Kill(context.Background()), "not running")

	require.NoError(t, p.Restart(context.Background()))
	require.True(t, p.Alive())
	require.NotEqual(t, first, p.PID())
	require.Equal(t, record.SUTHealthy, p.Events()[len(p.Events())-1].Kind)
}

func TestProcessRestartWhileRunning(t *testing.T) {
	p := startSUT(t, sutOpts{mode: "serve"})
	first := p.PID()
	require.NoError(t, p.Restart(context.Background()))
	requireGone(t, first)
	require.NotEqual(t, first, p.PID())
	requireNoUnexpected(t, p)
	require.Equal(t, []record.SUTEventKind{
		record.SUTStarted, record.SUTHealthy, record.SUTKilled, record.SUTExited, record.SUTStarted, record.SUTHealthy,
	}, kinds(p.Events()))
}

func TestProcessUnexpectedExit(t *testing.T) {
	cfg := sutConfig(t, sutOpts{mode: "serve"})
	p, err := stack.StartProcess(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Stop(context.Background())) })

	resp, err := client(2 * time.Second).Get("http://" + cfg.Addr + "/exit?code=7")
	require.NoError(t, err)
	_ = resp.Body.Close()

	select {
	case ev := <-p.Unexpected():
		require.Equal(t, record.SUTExited, ev.Kind)
		require.False(t, ev.Expected)
		require.Equal(t, 7, ev.ExitCode)
		require.Equal(t, p.PID(), ev.PID)
	case <-time.After(5 * time.Second):
		t.Fatal("the unexpected exit was not reported")
	}
	require.False(t, p.Alive())
	require.Contains(t, p.LastLines(5), "exiting with 7")
}

func TestProcessPauseResume(t *testing.T) {
	cfg := sutConfig(t, sutOpts{mode: "serve"})
	p, err := stack.StartProcess(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Stop(context.Background())) })
	ctx := context.Background()

	require.NoError(t, p.Pause(ctx))
	require.NoError(t, p.Pause(ctx), "pausing twice is harmless")
	require.Eventually(t, func() bool { return procState(p.PID()) == "T" }, 5*time.Second, 5*time.Millisecond, "stopped by SIGSTOP")
	require.Error(t, healthy(cfg.Addr), "a frozen SUT answers nothing")
	require.True(t, p.Alive())

	require.NoError(t, p.Resume(ctx))
	require.NoError(t, p.Resume(ctx), "resuming a running SUT is harmless")
	require.Eventually(t, func() bool { return healthy(cfg.Addr) == nil }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, []record.SUTEventKind{record.SUTStarted, record.SUTHealthy, record.SUTPaused, record.SUTResumed}, kinds(p.Events()))
}

func TestProcessStopWhilePaused(t *testing.T) {
	p := startSUT(t, sutOpts{mode: "serve"})
	pid := p.PID()
	require.NoError(t, p.Pause(context.Background()))
	began := time.Now()
	require.NoError(t, p.Stop(context.Background()))
	require.Less(t, time.Since(began), 2*time.Second, "SIGCONT then SIGTERM: no need to wait for SIGKILL")
	requireGone(t, pid)
	requireNoUnexpected(t, p)
}

func TestProcessStopKillsStubbornSUTAndItsChildren(t *testing.T) {
	p := startSUT(t, sutOpts{
		mode:        "serve",
		env:         []string{"STACK_TEST_IGNORE_TERM=1", "STACK_TEST_CHILD=1"},
		stopTimeout: 300 * time.Millisecond,
	})
	pid := p.PID()
	var child int
	for _, l := range p.LastLines(50) {
		if n, ok := strings.CutPrefix(l, "child pid "); ok {
			child, _ = strconv.Atoi(n)
		}
	}
	require.Positive(t, child, "the fake SUT reports its child")
	require.False(t, gone(child))

	began := time.Now()
	require.NoError(t, p.Stop(context.Background()))
	took := time.Since(began)
	require.GreaterOrEqual(t, took, 300*time.Millisecond, "SIGTERM was ignored, so SIGKILL came after the grace")
	requireGone(t, pid)
	requireGone(t, child)
	evs := p.Events()
	last := evs[len(evs)-1]
	require.Equal(t, record.SUTStopped, last.Kind)
	require.Contains(t, last.Detail, "killed: still running 300ms after SIGTERM")
	t.Logf("stop of a SUT ignoring SIGTERM took %s", took.Round(time.Millisecond))
}

func TestProcessLogsAppendAcrossRestarts(t *testing.T) {
	cfg := sutConfig(t, sutOpts{mode: "serve"})
	p, err := stack.StartProcess(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Stop(context.Background())) })
	require.NoError(t, p.Kill(context.Background()))
	require.NoError(t, p.Restart(context.Background()))
	out, err := os.ReadFile(filepath.Join(cfg.LogDir, "sut.stdout.log"))
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(out), "hello from the fake SUT"))
	require.Contains(t, string(out), "# shakedown: SUT start 2")
}

func TestProcessStartInterrupted(t *testing.T) {
	cfg := sutConfig(t, sutOpts{mode: "never"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := stack.StartProcess(ctx, cfg)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var se *stack.StartError
	require.False(t, errors.As(err, &se))
}

func TestProcessTargetIsFaultProcess(t *testing.T) {
	p := startSUT(t, sutOpts{mode: "serve"})
	got, err := stack.Target{Process: p}.SUT()
	require.NoError(t, err)
	require.Same(t, p, got)
}

// An MLLP SUT serves health apart from its main port: the probe must go to
// HealthAddr, not Addr.
func TestProcessHealthAddr(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		wantErr string
	}{
		{name: "healthy on the separate address", status: http.StatusOK},
		{name: "the main port being healthy is not enough", status: http.StatusServiceUnavailable, wantErr: "did not become healthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) }))
			t.Cleanup(health.Close)
			cfg := sutConfig(t, sutOpts{mode: "serve", startTimeout: 500 * time.Millisecond})
			cfg.HealthAddr = strings.TrimPrefix(health.URL, "http://")
			p, err := stack.StartProcess(context.Background(), cfg)
			if p != nil {
				t.Cleanup(func() { _ = p.Stop(context.Background()) })
			}
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, cfg.HealthAddr)
				return
			}
			require.NoError(t, err)
		})
	}
}
