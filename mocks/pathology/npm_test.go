package pathology

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/npmtest"
)

// medplum returns the node binary and testdata/npm, skipping (or, with
// SHAKEDOWN_REQUIRE_NPM=1, failing) when @medplum/hl7 is not installed.
func medplum(t *testing.T) (node, dir string) {
	t.Helper()
	dir = npmtest.Dir(t)
	return npmtest.Require(t, dir, "@medplum/hl7"), dir
}

// TestMedplumClientToListener: @medplum/hl7's Hl7Client sends an ORU^R01
// to the Go Listener and gets AA with MSA-2 = its MSH-10.
func TestMedplumClientToListener(t *testing.T) {
	node, dir := medplum(t)
	const nhs = "9990000018"
	l := NewListener(WithSeed(12), WithKnownPatients(nhs))
	startListener(t, l)
	host, port, err := net.SplitHostPort(l.Addr())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "medplum.mjs", "send", host, port, nhs)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "medplum.mjs send failed\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	var got struct {
		OK                bool
		MSH10, MSA1, MSA2 string
	}
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &got), "stdout: %s", stdout.String())
	require.True(t, got.OK, "%+v", got)
	require.Equal(t, "AA", got.MSA1)
	require.Equal(t, got.MSH10, got.MSA2)

	acc := ofKind(l.Journal().Entries(), "result.accepted")
	require.Len(t, acc, 1)
	require.Equal(t, got.MSH10, acc[0].Keys[keyMSH10])
	require.Equal(t, nhs, acc[0].Keys[keyNHSNumber])
}

// TestLabToMedplumServer: the Go Lab sends to @medplum/hl7's Hl7Server,
// which ACKs each message with its own buildAck.
func TestLabToMedplumServer(t *testing.T) {
	node, dir := medplum(t)
	const n = 3
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "medplum.mjs", "serve", strconv.Itoa(n))
	cmd.Dir = dir
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan(), "no port from medplum.mjs serve; stderr: %s", stderr.String())
	var ready struct{ Port int }
	require.NoError(t, json.Unmarshal(lines.Bytes(), &ready), "line: %s", lines.Text())

	lab := NewLab(net.JoinHostPort("127.0.0.1", strconv.Itoa(ready.Port)), WithSeed(13), WithACKTimeout(10*time.Second), WithMaxAttempts(1))
	defer lab.Close()
	recs, err := lab.Send(ctx, n)
	require.NoError(t, err)
	var sent []string
	for _, r := range recs {
		require.Equal(t, OutcomeAccepted, r.Outcome, "%+v", r)
		require.NotNil(t, r.ACK)
		require.True(t, r.ACK.Matched)
		require.Equal(t, r.MSH10, r.ACK.MSA2)
		sent = append(sent, r.MSH10)
	}
	require.True(t, lines.Scan(), "no summary from medplum.mjs serve; stderr: %s", stderr.String())
	var summary struct{ Received []string }
	require.NoError(t, json.Unmarshal(lines.Bytes(), &summary), "line: %s", lines.Text())
	require.Equal(t, sent, summary.Received)
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes to it.
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
