package mesh

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func npmDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "testdata", "npm")
}

// TestNHSMeshClient drives the mock with nhs-mesh-client 1.0.9
// (testdata/npm/conformance.mjs): handshake, send, list the recipient's
// inbox, download and acknowledge, over plain http.
func TestNHSMeshClient(t *testing.T) {
	dir := npmDir(t)
	const hint = "run: npm ci --prefix mocks/mesh/testdata/npm"
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "nhs-mesh-client")); err != nil {
		if os.Getenv("SHAKEDOWN_REQUIRE_NPM") == "1" {
			t.Fatalf("nhs-mesh-client is not installed (%v); %s", err, hint)
		}
		t.Skip(hint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SHAKEDOWN_REQUIRE_NPM") == "1" {
			t.Fatalf("node is not on PATH: %v", err)
		}
		t.Skip("node is not on PATH; install Node.js, then " + hint)
	}

	// The real clock: the client stamps its tokens with the wall clock.
	m := New(WithSeed(5), WithMailbox("X26ABC1", "pw-one"), WithMailbox("X26ABC2", "pw-two"), WithSharedKey("TestKey"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Start(l)
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "conformance.mjs", m.URL(), "X26ABC1", "pw-one", "X26ABC2", "pw-two", m.SharedKey(), "PATH_BS_R4")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "conformance.mjs failed\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())

	var got struct {
		OK        bool   `json:"ok"`
		MessageID string `json:"messageId"`
		Listed    bool   `json:"listed"`
		Count     int    `json:"count"`
		Body      string `json:"body"`
		From      string `json:"from"`
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), "stdout: %s", stdout.String())
	require.True(t, got.OK)
	require.True(t, got.Listed)
	require.Equal(t, 1, got.Count)
	require.Equal(t, "X26ABC1", got.From)
	require.True(t, strings.HasPrefix(got.Body, "MSH|"))
	k := kinds(m)
	require.Equal(t, 1, k["message.sent"])
	require.Equal(t, 1, k["message.acknowledged"])
}
