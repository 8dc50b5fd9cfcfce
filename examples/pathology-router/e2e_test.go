package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/pathology"
)

var readyLine = regexp.MustCompile(`msg=ready .*addr=(\S+) health_addr=(\S+)`)

// TestEndToEnd builds the binary, starts it the way the harness does (env
// vars only) against an in-process MESH mock, and drives results with the
// pathology Lab.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pathology-router")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	s := startMesh(t)
	cmd := exec.Command(bin, "--mode", "resilient")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"),
		envListen + "=127.0.0.1:0", envHealthListen + "=127.0.0.1:0", envStateDir + "=" + t.TempDir(),
		envMeshURL + "=" + s.url, envMeshTo + "=" + gpMailbox,
		envMailbox + "=" + labMailbox, envPassword + "=" + labPassword, envSharedKey + "=" + sharedKey}
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	ready := make(chan []string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var addrs []string
	select {
	case addrs = <-ready:
	case err := <-exited:
		require.FailNow(t, "router exited", "%v", err)
	case <-time.After(30 * time.Second):
		require.FailNow(t, "router not ready")
	}

	resp, err := http.Get("http://" + addrs[2] + "/health")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	lab := pathology.NewLab(addrs[1], pathology.WithSeed(11), pathology.WithACKTimeout(5*time.Second))
	t.Cleanup(func() { _ = lab.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := lab.Send(ctx, 3)
	require.NoError(t, err)
	for _, r := range recs {
		require.Equal(t, pathology.OutcomeAccepted, r.Outcome, r.MSH10)
		eventually(t, 10*time.Second, "result "+r.MSH10+" in MESH", func() bool { return s.sent(r.MSH10) == 1 })
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		require.NoError(t, err, "clean exit on SIGINT")
	case <-time.After(15 * time.Second):
		require.FailNow(t, "no exit after SIGINT")
	}
	require.Equal(t, 3, s.sent(""))
}

func TestConfigErrorsListEverything(t *testing.T) {
	var buf testBuf
	code := run([]string{"--mode", "bogus"}, func(string) string { return "" }, &buf)
	require.Equal(t, 2, code)
	for _, want := range []string{"mode \"bogus\"", "MLLP listen address", "MESH URL", "recipient mailbox", "MESH mailbox is missing", "password", "shared key"} {
		require.Contains(t, buf.String(), want)
	}
}

type testBuf struct{ b []byte }

func (w *testBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *testBuf) String() string              { return string(w.b) }
