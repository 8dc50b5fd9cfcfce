package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
)

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := execute(context.Background(), args, &out, &out)
	return code, out.String()
}

func TestCLIExitCodes(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("name: x\nservices: [nope]\n"), 0o644))
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "version", args: []string{"version"}, wantCode: 0, wantOut: []string{"shakedown", "toxiproxy"}},
		{name: "unknown command is usage", args: []string{"frobnicate"}, wantCode: 2, wantOut: []string{"unknown command"}},
		{name: "run without a scenario is usage", args: []string{"run"}, wantCode: 2, wantOut: []string{"requires at least 1 arg"}},
		{name: "validate a good library file", args: []string{"validate", "../../scenarios/ers-outage-referrals.yaml"}, wantCode: 0, wantOut: []string{"ok (ers-outage-referrals"}},
		{name: "validate a broken file lists problems", args: []string{"validate", broken}, wantCode: 2, wantOut: []string{broken + ":2:", "nope"}},
		{name: "validate a missing file", args: []string{"validate", "no/such.yaml"}, wantCode: 2, wantOut: []string{"no/such.yaml"}},
		{name: "run a broken file is invalid, nothing starts", args: []string{"run", broken}, wantCode: 2, wantOut: []string{"invalid scenario"}},
		{name: "containers mode is not available yet", args: []string{"run", "--mode", "containers", "--out", t.TempDir(), "../../scenarios/ers-outage-referrals.yaml"}, wantCode: 2, wantOut: []string{"containers mode", "--mode embedded"}},
		{name: "bad --sut-cmd quoting", args: []string{"run", "--sut-cmd", "'oops", "../../scenarios/ers-outage-referrals.yaml"}, wantCode: 2, wantOut: []string{"--sut-cmd", "unterminated"}},
		{name: "list the library", args: []string{"list", "../../scenarios"}, wantCode: 0, wantOut: []string{"ers-outage-referrals", "e-RS goes down"}},
		{name: "mocks refuse a non-loopback address", args: []string{"mocks", "serve", "ers", "--addr", "0.0.0.0:9000"}, wantCode: 2, wantOut: []string{"--addr", "outside 127.0.0.0/8"}},
		{name: "mocks refuse an unknown service", args: []string{"mocks", "serve", "pas"}, wantCode: 2, wantOut: []string{"unknown service", "ers, gpconnect, mesh, pathology"}},
		{name: "mesh refuses a mailbox without a colon", args: []string{"mocks", "serve", "mesh", "--mailbox", "X26ABC1"}, wantCode: 2, wantOut: []string{`--mailbox "X26ABC1"`, "ID:PASSWORD"}},
		{name: "mesh refuses a mailbox with no id", args: []string{"mocks", "serve", "mesh", "--mailbox", ":secret"}, wantCode: 2, wantOut: []string{"mailbox id before the colon is empty"}},
		{name: "mesh refuses a mailbox with no password", args: []string{"mocks", "serve", "mesh", "--mailbox", "X26ABC1:"}, wantCode: 2, wantOut: []string{"password after the colon is empty"}},
		{name: "mesh refuses a mailbox given twice", args: []string{"mocks", "serve", "mesh", "--mailbox", "X26ABC1:a", "--mailbox", "x26abc1:b"}, wantCode: 2, wantOut: []string{"given twice"}},
		{name: "mesh refuses an empty shared key", args: []string{"mocks", "serve", "mesh", "--shared-key", ""}, wantCode: 2, wantOut: []string{"--shared-key must not be empty"}},
		{name: "mesh refuses a negative delivery delay", args: []string{"mocks", "serve", "mesh", "--delivery-delay", "-1s"}, wantCode: 2, wantOut: []string{"--delivery-delay", "negative"}},
		{name: "mesh refuses a non-loopback address", args: []string{"mocks", "serve", "mesh", "--addr", "0.0.0.0:9000", "--mailbox", "X26ABC1:a"}, wantCode: 2, wantOut: []string{"--addr", "outside 127.0.0.0/8"}},
		{name: "mesh refuses a non-loopback control address", args: []string{"mocks", "serve", "mesh", "--control-addr", "192.0.2.1:9001"}, wantCode: 2, wantOut: []string{"--control-addr", "outside 127.0.0.0/8"}},
		{name: "mesh flags do not apply to ers", args: []string{"mocks", "serve", "ers", "--mailbox", "X26ABC1:a"}, wantCode: 2, wantOut: []string{"--mailbox applies only to the mesh mock"}},
		{name: "pathology refuses a non-loopback address", args: []string{"mocks", "serve", "pathology", "--addr", "10.0.0.1:2575"}, wantCode: 2, wantOut: []string{"--addr", "outside 127.0.0.0/8"}},
		{name: "pathology has no control API", args: []string{"mocks", "serve", "pathology", "--control-addr", "127.0.0.1:0"}, wantCode: 2, wantOut: []string{"--control-addr", "no HTTP fault control API"}},
		{name: "report on a directory that is not a run", args: []string{"report", "text", t.TempDir()}, wantCode: 2, wantOut: []string{"shakedown run directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCLI(t, tt.args...)
			require.Equal(t, tt.wantCode, code, out)
			for _, w := range tt.wantOut {
				require.Contains(t, out, w)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer that the command writes to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveInProcess runs `shakedown mocks serve ARGS...` through execute with
// a cancellable context, waits (bounded) for the "press Ctrl-C" line and
// returns what it printed so far plus a stop function that cancels it and
// returns its exit code. Stop runs at cleanup too.
func serveInProcess(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan int, 1)
	go func() { done <- execute(ctx, append([]string{"mocks", "serve"}, args...), &out, &out) }()
	var once sync.Once
	code := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("mocks serve %v did not stop within 10s of cancel", args)
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	deadline := time.After(10 * time.Second)
	for !strings.Contains(out.String(), "press Ctrl-C to stop") {
		select {
		case c := <-done:
			t.Fatalf("mocks serve %v exited with %d before serving:\n%s", args, c, out.String())
		case <-deadline:
			t.Fatalf("mocks serve %v printed no ready line within 10s:\n%s", args, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return out.String(), stop
}

func TestMocksServeMesh(t *testing.T) {
	printed, stop := serveInProcess(t, "mesh", "--addr", "127.0.0.1:0", "--mailbox", "X26ABC1:pw-one", "--mailbox", "x26abc2:pw:two", "--shared-key", "SecretKey", "--delivery-delay", "1s")
	match := regexp.MustCompile(`mesh mock serving at (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(printed)
	require.NotNil(t, match, printed)
	url := match[1]
	for _, want := range []string{
		"X26ABC1: pw-one", "X26ABC2: pw:two", mesh.DeliverFrom + ": ", "shared key: SecretKey",
		"TEST_WORKFLOW, PATH_BS_R4, PATH_BS_R4_ACK", "delivery delay: 1s",
		"base URL: " + url + "/messageexchange/{mailbox}", "Authorization: NHSMESH X26ABC1:",
	} {
		require.Contains(t, printed, want)
	}

	handshake := func(mbx, pw, key string) int {
		req, err := http.NewRequest(http.MethodPost, url+mesh.BasePath+"/"+mbx, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", mesh.Token(key, mbx, pw, fmt.Sprintf("cli-test-%d", time.Now().UnixNano()), 0, time.Now()))
		req.Header.Set("Accept", "application/vnd.mesh.v2+json")
		req.Header.Set("mex-ClientVersion", "shakedown-cli-test")
		req.Header.Set("mex-OSName", "Linux")
		req.Header.Set("mex-OSVersion", "6")
		res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		require.NoError(t, res.Body.Close())
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, handshake("X26ABC2", "pw:two", "SecretKey"))
	require.Equal(t, http.StatusForbidden, handshake("X26ABC1", "pw-one", mesh.DefaultSharedKey), "a token keyed with another shared key")
	require.Equal(t, 0, stop())
}

func TestMocksServePathology(t *testing.T) {
	printed, stop := serveInProcess(t, "pathology", "--addr", "127.0.0.1:0")
	match := regexp.MustCompile(`pathology mock serving at mllp://(127\.0\.0\.1:\d+)`).FindStringSubmatch(printed)
	require.NotNil(t, match, printed)
	require.Contains(t, printed, "ORU^R01")
	require.Contains(t, printed, "printf '\\x0bMSH|")

	c, err := net.DialTimeout("tcp", match[1], 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	msg := examplePathologyORU(time.Now().UTC())
	require.NoError(t, hl7.NewWriter(c).WriteFrame(msg.Bytes()))
	frame, err := hl7.NewReader(c, 0).ReadFrame()
	require.NoError(t, err)
	ack, err := hl7.Parse(frame)
	require.NoError(t, err)
	require.Equal(t, "AA", ack.Get("MSA-1"), string(frame))
	require.Equal(t, msg.ControlID(), ack.Get("MSA-2"))
	require.NoError(t, c.Close())
	require.Equal(t, 0, stop())
}
