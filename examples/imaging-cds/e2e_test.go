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

// cdsProcess is the real binary, started the way the harness starts a SUT.
type cdsProcess struct {
	cmd    *exec.Cmd
	addr   string
	done   chan struct{}
	err    error
	mu     sync.Mutex
	stderr strings.Builder
}

var readyAddr = regexp.MustCompile(`msg=ready .*addr=(\S+)`)

func startProcess(t *testing.T, bin string, env map[string]string, wantReady bool, args ...string) *cdsProcess {
	t.Helper()
	p := &cdsProcess{cmd: exec.Command(bin, args...), done: make(chan struct{})}
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
			t.Logf("imaging-cds stderr:\n%s", p.log())
		}
	})
	if !wantReady {
		return p
	}
	select {
	case p.addr = <-ready:
	case <-p.done:
		require.FailNow(t, "imaging-cds exited before it was ready", "err %v\n%s", p.err, p.log())
	case <-time.After(15 * time.Second):
		require.FailNow(t, "imaging-cds not ready within 15s", p.log())
	}
	return p
}

func (p *cdsProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *cdsProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		require.FailNow(t, "imaging-cds did not exit within 15s", p.log())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, p.err)
	return 0
}

func TestBinaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "imaging-cds")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	t.Run("configuration error exits 2 and names every fix", func(t *testing.T) {
		p := startProcess(t, bin, map[string]string{}, false, "--mode", "resilient")
		require.Equal(t, 2, p.wait(t))
		for _, want := range []string{"--listen or $SHAKEDOWN_SUT_ADDR", "--gpconnect-url or $SHAKEDOWN_GPCONNECT_URL",
			"--jwks-url or $SHAKEDOWN_GPCONNECT_JWKS_URL", "$SHAKEDOWN_GPCONNECT_CONSUMER_ASID", "$SHAKEDOWN_GPCONNECT_PROVIDER_ASID"} {
			require.Contains(t, p.log(), want)
		}
	})

	for _, mode := range []string{modeNaive, modeResilient} {
		t.Run(mode+": one order-select through the binary, then SIGTERM", func(t *testing.T) {
			host := newFakeHost(t)
			gpc := newFakeGPC(t, acuteBackPain())
			p := startProcess(t, bin, map[string]string{
				envListen:       "127.0.0.1:0",
				envGPCURL:       gpc.base,
				envJWKSURL:      host.jwks.URL,
				envIssuer:       testIssuer,
				envConsumerASID: testConsumerASID,
				envProviderASID: testProviderASID,
				envConsumerODS:  testODS,
			}, true, "--mode", mode)
			base := "http://" + p.addr

			health, err := http.Get(base + "/health")
			require.NoError(t, err)
			health.Body.Close()
			require.Equal(t, http.StatusOK, health.StatusCode)

			endpoint := base + "/cds-services/" + serviceOrderSelect
			r := postHook(t, endpoint, host.token(t, time.Now(), endpoint, tokenOpts{}), hookBody("order-select", gpc.base, mriLumbar()))
			require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
			require.Equal(t, ratingNotAppropriate, r.rating())
			require.Len(t, r.cards(), 1)
			require.Equal(t, 1, gpc.callCount())
			require.Empty(t, gpc.lastCall().problems, "SSP headers and JWT from the environment")

			bad := postHook(t, endpoint, host.token(t, time.Now(), base+"/elsewhere", tokenOpts{}), hookBody("order-select", "", mriLumbar()))
			require.Equal(t, http.StatusUnauthorized, bad.status)

			require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
			require.Equal(t, 0, p.wait(t))
			require.Contains(t, p.log(), "msg=stopped")
		})
	}
}
