package main

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gatewayProcess is the real binary, started the way the harness starts a
// SUT: environment variables, a listen address of its choosing, signals.
type gatewayProcess struct {
	cmd    *exec.Cmd
	addr   string
	done   chan struct{} // closed when the process has exited
	err    error         // from Wait, valid after done
	mu     sync.Mutex
	stderr strings.Builder
}

var readyAddr = regexp.MustCompile(`msg=ready .*addr=(\S+)`)

// startProcess runs bin and, unless wantReady is false, waits for its
// "ready" log line.
func startProcess(t *testing.T, bin string, env map[string]string, wantReady bool, args ...string) *gatewayProcess {
	t.Helper()
	p := &gatewayProcess{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	pipe, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := readyAddr.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("gateway stderr:\n%s", p.log())
		}
	})
	if !wantReady {
		return p
	}
	select {
	case p.addr = <-ready:
	case <-p.done:
		require.FailNow(t, "gateway exited before it was ready", "err %v\n%s", p.err, p.log())
	case <-time.After(15 * time.Second):
		require.FailNow(t, "gateway not ready within 15s", p.log())
	}
	return p
}

func (p *gatewayProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *gatewayProcess) url() string { return "http://" + p.addr }

// wait waits for the process to exit and returns its exit code.
func (p *gatewayProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		require.FailNow(t, "gateway did not exit within 15s", p.log())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	require.NoError(t, p.err)
	return 0
}

func TestBinaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "referral-gateway")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	envFor := func(ers *fakeERS, stateDir string) map[string]string {
		env := map[string]string{
			envListen:           "127.0.0.1:0",
			envERSURL:           ers.base,
			envToken:            testToken,
			envODSCode:          testODS,
			envBusinessFunction: testBF,
		}
		if stateDir != "" {
			env[envStateDir] = stateDir
		}
		return env
	}

	t.Run("configuration error exits 2 and says what is missing", func(t *testing.T) {
		p := startProcess(t, bin, map[string]string{}, false, "--mode", "resilient")
		require.Equal(t, 2, p.wait(t))
		for _, want := range []string{"--listen or $SHAKEDOWN_SUT_ADDR", "--ers-url or $SHAKEDOWN_ERS_URL",
			"--state-dir or $SHAKEDOWN_SUT_STATE_DIR", "$SHAKEDOWN_ERS_ODS_CODE"} {
			require.Contains(t, p.log(), want)
		}
	})

	t.Run("naive answers 201 and stops on SIGTERM", func(t *testing.T) {
		ers := newFakeERS(t)
		p := startProcess(t, bin, envFor(ers, ""), true, "--mode", "naive")
		require.Equal(t, http.StatusOK, doJSON(t, http.MethodGet, p.url()+"/health", nil).Status)
		nhs := patients(900, 1)[0]
		resp := doJSON(t, http.MethodPost, p.url()+"/referrals", referralFor("e2e-1", nhs))
		require.Equal(t, http.StatusCreated, resp.Status, "body %v", resp.Body)
		require.Equal(t, ers.referralsFor(nhs)[0].UBRN, resp.str("ubrn"))
		require.Empty(t, ers.problems(), "headers and credentials from the environment")

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		require.Equal(t, 0, p.wait(t))
		require.Contains(t, p.log(), "msg=stopped")
	})

	t.Run("resilient queues, sends, and stops on SIGTERM", func(t *testing.T) {
		ers := newFakeERS(t)
		p := startProcess(t, bin, envFor(ers, t.TempDir()), true, "--mode", "resilient")
		nhs := patients(901, 1)[0]
		resp := doJSON(t, http.MethodPost, p.url()+"/referrals", referralFor("e2e-1", nhs))
		require.Equal(t, http.StatusAccepted, resp.Status, "body %v", resp.Body)
		require.Equal(t, "queued", resp.str("state"))
		st := waitState(t, p.url(), "e2e-1", stateCreated, 10*time.Second)
		require.Equal(t, ers.referralsFor(nhs)[0].UBRN, st.str("ubrn"))

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		require.Equal(t, 0, p.wait(t))
	})

	t.Run("resilient killed mid-send reconciles after restart: one UBRN", func(t *testing.T) {
		ers := newFakeERS(t)
		hold := make(chan struct{})
		ers.then(fault{commit: true, hold: hold}) // e-RS commits, then the answer never comes
		stateDir := t.TempDir()
		env := envFor(ers, stateDir)
		nhs := patients(902, 1)[0]

		first := startProcess(t, bin, env, true, "--mode", "resilient", "--attempt-timeout", "60s")
		resp := doJSON(t, http.MethodPost, first.url()+"/referrals", referralFor("e2e-crash", nhs))
		require.Equal(t, http.StatusAccepted, resp.Status)
		select {
		case <-ers.received:
		case <-time.After(10 * time.Second):
			require.FailNow(t, "the gateway never sent the referral")
		}
		require.NoError(t, first.cmd.Process.Kill()) // SIGKILL: no chance to record anything
		require.Equal(t, -int(syscall.SIGKILL), first.wait(t))
		close(hold)

		rec, err := readRecord(filepath.Join(stateDir, "outbox", fileName("e2e-crash")))
		require.NoError(t, err)
		require.Equal(t, stateSending, rec.State, "on disk, the send was in flight when the process died")

		second := startProcess(t, bin, env, true, "--mode", "resilient")
		st := waitState(t, second.url(), "e2e-crash", stateCreated, 15*time.Second)
		inERS := ers.referralsFor(nhs)
		require.Len(t, inERS, 1, "exactly one referral in e-RS")
		require.Equal(t, inERS[0].UBRN, st.str("ubrn"))
		require.Len(t, ers.createCalls(), 1, "reconciled from the worklist, never re-sent")
		require.Contains(t, second.log(), "reconciled")
	})
}
