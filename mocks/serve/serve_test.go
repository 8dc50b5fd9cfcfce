package serve

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServerLifecycle(t *testing.T) {
	var s Server
	require.Empty(t, s.Addr())
	require.NoError(t, s.Close(), "closing a server never started is fine")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.True(t, s.Start(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), nil, "test mock"))
	require.Equal(t, l.Addr().String(), s.Addr())

	resp, err := http.Get("http://" + s.Addr() + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, "ok", string(body))

	extra, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.False(t, s.Start(extra, http.NotFoundHandler(), nil, "test mock"), "a second Start is refused")
	_, err = extra.Accept()
	require.Error(t, err, "the refused listener is closed")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = http.Get("http://" + l.Addr().String() + "/")
	require.Error(t, err, "nothing serves after Close")
}
