package mesh

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/npmtest"
)

// TestNHSMeshClient drives the mock with nhs-mesh-client 1.0.9
// (testdata/npm/conformance.mjs): handshake, send, list the recipient's
// inbox, download and acknowledge, over plain http.
func TestNHSMeshClient(t *testing.T) {
	dir := npmtest.Dir(t)
	node := npmtest.Require(t, dir, "nhs-mesh-client")

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
