package stack_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/harness/stack/stacktest"
	"github.com/shakedown-harness/shakedown/mocks/inband"
)

func startStack(t *testing.T, services ...string) *stack.Stack {
	t.Helper()
	factories := map[string]stack.ServiceFactory{}
	for _, s := range services {
		factories[s] = stacktest.Factory(s, map[string]string{"SHAKEDOWN_" + strings.ToUpper(s) + "_SECRET": "s3cret-" + s})
	}
	st, err := stack.Start(context.Background(), stack.Config{Services: services, Factories: factories, Seed: 7})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, st.Close(ctx))
	})
	return st
}

// client returns an HTTP client with no keep-alive, so each request opens
// a fresh connection through the proxy.
func client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client(5 * time.Second).Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestStartServesThroughProxyAndCounts(t *testing.T) {
	began := time.Now()
	st := startStack(t, "ers", "mesh")
	t.Logf("stack with 2 services started in %s", time.Since(began))

	eps := st.Endpoints()
	require.Len(t, eps, 2)
	ers := eps["ers"]
	require.Equal(t, "ers", ers.Service)
	require.Equal(t, "http://"+ers.Addr+stacktest.BasePath, ers.URL)
	require.NotEqual(t, ers.Addr, ers.Direct, "the SUT must get the proxy, not the mock")
	require.True(t, strings.HasPrefix(ers.Addr, "127.0.0.1:"))
	require.True(t, strings.HasPrefix(ers.Direct, "127.0.0.1:"))

	before := st.Counters("ers")
	code, body := get(t, ers.URL+"/ping")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "pong", body)
	after := st.Counters("ers")
	require.Equal(t, int64(1), after.Connections-before.Connections)
	require.Equal(t, int64(1), after.Requests-before.Requests)
	require.Positive(t, after.BytesIn-before.BytesIn)
	// The mock counts a write once it returns, which may be after the
	// client has read it.
	require.Eventually(t, func() bool { return st.Counters("ers").BytesOut > before.BytesOut }, 5*time.Second, time.Millisecond)
	require.Zero(t, st.Counters("mesh").Requests, "traffic to ers must not count for mesh")
	require.Equal(t, stack.Counters{}, st.Counters("nope"))

	env := st.Env()
	require.Equal(t, ers.URL, env["SHAKEDOWN_ERS_URL"])
	require.Equal(t, ers.Addr, env["SHAKEDOWN_ERS_ADDR"])
	require.Equal(t, eps["mesh"].URL, env["SHAKEDOWN_MESH_URL"])
	require.Equal(t, "s3cret-ers", env["SHAKEDOWN_ERS_SECRET"])
	for k, v := range env {
		require.NotContains(t, v, ers.Direct, "env %s leaks the mock's direct address", k)
	}

	js := st.Journals()
	require.Len(t, js, 2)
	require.Equal(t, "ers", js[0].Service())
	require.Equal(t, []string{"ers", "mesh"}, st.Services())

	// The Toxiproxy HTTP API lists one proxy per service, loopback only.
	require.True(t, strings.HasPrefix(st.ToxiproxyURL(), "http://127.0.0.1:"))
	proxies, err := toxiclient.NewClient(st.ToxiproxyURL()).Proxies()
	require.NoError(t, err)
	require.Len(t, proxies, 2)
	require.Equal(t, ers.Addr, proxies["ers"].Listen)
	require.Equal(t, ers.Direct, proxies["ers"].Upstream)
	require.True(t, proxies["ers"].Enabled)
}

func TestCloseStopsEverythingAndIsIdempotent(t *testing.T) {
	before := listeningSockets(t)
	st, err := stack.Start(context.Background(), stack.Config{
		Services:  []string{"ers"},
		Factories: map[string]stack.ServiceFactory{"ers": stacktest.Factory("ers", nil)},
	})
	require.NoError(t, err)
	ep := st.Endpoints()["ers"]
	api := strings.TrimPrefix(st.ToxiproxyURL(), "http://")
	p, err := st.Proxy("ers")
	require.NoError(t, err)
	require.NoError(t, p.AddToxic(context.Background(), fault.Toxic{Name: "slow", Type: "latency", Attributes: map[string]any{"latency": 10}}))

	require.NoError(t, st.Close(context.Background()))
	require.Equal(t, before, listeningSockets(t), "Close must close every listener")
	for _, addr := range []string{ep.Addr, ep.Direct, api} {
		_, err := net.DialTimeout("tcp", addr, time.Second)
		require.ErrorIs(t, err, syscall.ECONNREFUSED, "%s still listening after Close", addr)
	}
	require.NoError(t, st.Close(context.Background()), "Close must be idempotent")

	// A revert that arrives after Close neither fails nor listens again.
	require.NoError(t, p.Enable(context.Background()))
	require.ErrorIs(t, p.RemoveToxic(context.Background(), "slow"), fault.ErrGone)
	require.Equal(t, before, listeningSockets(t))
	require.ErrorContains(t, p.AddToxic(context.Background(), fault.Toxic{Name: "x", Type: "latency"}), "the stack is closed")
	require.ErrorContains(t, p.Disable(context.Background()), "the stack is closed")
	require.ErrorContains(t, st.Reset(context.Background()), "closed")
}

func TestStartFailures(t *testing.T) {
	boom := func(stack.ServiceConfig) (stack.Service, map[string]string, error) {
		return nil, nil, errors.New("boom")
	}
	tests := []struct {
		name      string
		services  []string
		factories map[string]stack.ServiceFactory
		want      string
	}{
		{
			name:      "unknown service",
			services:  []string{"ers", "pathology"},
			factories: map[string]stack.ServiceFactory{"ers": stacktest.Factory("ers", nil)},
			want:      `no mock for service "pathology" (known: ers)`,
		},
		{
			name:      "listed twice",
			services:  []string{"ers", "ers"},
			factories: map[string]stack.ServiceFactory{"ers": stacktest.Factory("ers", nil)},
			want:      `service "ers" is listed twice`,
		},
		{
			name:      "factory fails after another service started",
			services:  []string{"ers", "mesh"},
			factories: map[string]stack.ServiceFactory{"ers": stacktest.Factory("ers", nil), "mesh": boom},
			want:      "start mock mesh: boom",
		},
		{
			name:     "two factories set the same variable",
			services: []string{"ers", "mesh"},
			factories: map[string]stack.ServiceFactory{
				"ers":  stacktest.Factory("ers", map[string]string{"SHARED": "a"}),
				"mesh": stacktest.Factory("mesh", map[string]string{"SHARED": "b"}),
			},
			want: "SHARED is already set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := stack.Start(context.Background(), stack.Config{Services: tt.services, Factories: tt.factories})
			require.Nil(t, st)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestPartialStartCleansUp(t *testing.T) {
	before := listeningSockets(t)
	startedErs := false
	factories := map[string]stack.ServiceFactory{
		"ers": func(cfg stack.ServiceConfig) (stack.Service, map[string]string, error) {
			startedErs = true
			return stacktest.NewEcho("ers", cfg), nil, nil
		},
		"mesh": func(stack.ServiceConfig) (stack.Service, map[string]string, error) {
			// By now the Toxiproxy API, the ers mock and its proxy listen.
			require.Greater(t, listeningSockets(t), before+2)
			return nil, nil, errors.New("mesh refused to start")
		},
	}
	st, err := stack.Start(context.Background(), stack.Config{Services: []string{"ers", "mesh"}, Factories: factories})
	require.ErrorContains(t, err, "mesh refused to start")
	require.Nil(t, st)
	require.True(t, startedErs)
	require.Equal(t, before, listeningSockets(t), "a failed start must close every listener it opened")
}

// listeningSockets counts this process's listening TCP sockets (Linux).
func listeningSockets(t *testing.T) int {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("needs /proc: %v", err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "0A" && inodes[f[9]] {
				n++
			}
		}
	}
	return n
}

func TestResetRemovesEveryFault(t *testing.T) {
	st := startStack(t, "ers")
	ctx := context.Background()
	p, err := st.Proxy("ers")
	require.NoError(t, err)
	ib, err := st.InBand("ers")
	require.NoError(t, err)

	require.NoError(t, p.AddToxic(ctx, fault.Toxic{Name: "lag", Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 5000}}))
	require.NoError(t, p.AddToxic(ctx, fault.Toxic{Name: "cut", Type: "limit_data", Attributes: map[string]any{"bytes": 1}}))
	_, err = ib.AddFault(ctx, inband.Spec{Kind: inband.Status, Status: 503})
	require.NoError(t, err)
	require.NoError(t, p.Disable(ctx))

	cl := toxiclient.NewClient(st.ToxiproxyURL())
	proxy, err := cl.Proxy("ers")
	require.NoError(t, err)
	require.False(t, proxy.Enabled)
	toxics, err := proxy.Toxics()
	require.NoError(t, err)
	require.Len(t, toxics, 2)

	require.NoError(t, st.Reset(ctx))

	proxy, err = cl.Proxy("ers")
	require.NoError(t, err)
	require.True(t, proxy.Enabled)
	require.Equal(t, st.Endpoints()["ers"].Addr, proxy.Listen, "Enable must reuse the address")
	toxics, err = proxy.Toxics()
	require.NoError(t, err)
	require.Empty(t, toxics)
	code, body := get(t, st.Endpoints()["ers"].URL+"/ping")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "pong", body)
}

func TestProxyAdapter(t *testing.T) {
	st := startStack(t, "ers")
	ctx := context.Background()
	p, err := st.Proxy("ers")
	require.NoError(t, err)
	cl := toxiclient.NewClient(st.ToxiproxyURL())

	// Toxicity is forced to 1.0 whatever the caller says.
	require.NoError(t, p.AddToxic(ctx, fault.Toxic{Name: "t0", Type: "latency", Toxicity: 0, Attributes: map[string]any{"latency": 1}}))
	proxy, err := cl.Proxy("ers")
	require.NoError(t, err)
	toxics, err := proxy.Toxics()
	require.NoError(t, err)
	require.Len(t, toxics, 1)
	require.Equal(t, float32(1), toxics[0].Toxicity)
	require.Equal(t, "downstream", toxics[0].Stream)

	err = p.AddToxic(ctx, fault.Toxic{Name: "t0", Type: "latency"})
	require.ErrorContains(t, err, `add latency toxic "t0" to proxy ers`)
	err = p.AddToxic(ctx, fault.Toxic{Name: "t1", Type: "no_such_toxic"})
	require.ErrorContains(t, err, "invalid toxic type")

	//nolint:staticcheck // a nil context must not panic (zerolog.Ctx).
	require.NoError(t, p.RemoveToxic(nil, "t0"))
	require.ErrorIs(t, p.RemoveToxic(ctx, "t0"), fault.ErrGone)

	// Disable refuses connections; Enable serves again on the same port.
	require.NoError(t, p.Disable(ctx))
	_, err = net.DialTimeout("tcp", st.Endpoints()["ers"].Addr, time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, p.Disable(ctx), "disabling twice is harmless")
	require.NoError(t, p.Enable(ctx))
	require.NoError(t, p.Enable(ctx), "enabling twice is harmless")
	code, _ := get(t, st.Endpoints()["ers"].URL+"/ping")
	require.Equal(t, http.StatusOK, code)

	_, err = st.Proxy("pathology")
	require.ErrorContains(t, err, `service "pathology" is not part of this stack (running: ers)`)
	_, err = st.InBand("pathology")
	require.Error(t, err)
}

// A lost response must end in a TCP reset even through the counting
// listener (it delegates SetLinger).
func TestLostResponseResetsThroughCountingListener(t *testing.T) {
	st := startStack(t, "ers")
	ib, err := st.InBand("ers")
	require.NoError(t, err)
	_, err = ib.AddFault(context.Background(), inband.Spec{Kind: inband.LostResponse})
	require.NoError(t, err)

	conn, err := net.DialTimeout("tcp", st.Endpoints()["ers"].Direct, time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(conn, "POST /echo/items HTTP/1.1\r\nHost: ers\r\nContent-Length: 0\r\n\r\n")
	require.NoError(t, err)
	n, err := io.ReadAll(conn)
	require.Empty(t, n)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	require.Equal(t, 1, st.Journals()[0].Count("item.created"), "the write committed")
	require.Equal(t, int64(1), st.Counters("ers").Faulted)
}

func TestTarget(t *testing.T) {
	st := startStack(t, "ers")
	tg := stack.Target{Stack: st}
	_, err := tg.SUT()
	require.ErrorIs(t, err, stack.ErrNoSUTProcess)
	require.EqualError(t, err, "crash and hang need a SUT started by shakedown (sut.command); this scenario's SUT is given by URL")
	_, err = tg.Proxy("ers")
	require.NoError(t, err)
	_, err = tg.InBand("ers")
	require.NoError(t, err)
	_, err = stack.Target{}.Proxy("ers")
	require.ErrorContains(t, err, "no stack is running")
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		name string
		addr string
		ok   bool
	}{
		{name: "127.0.0.1", addr: "127.0.0.1:80", ok: true},
		{name: "elsewhere in 127/8", addr: "127.3.2.1:80", ok: true},
		{name: "ipv6 loopback", addr: "[::1]:80", ok: true},
		{name: "v4-mapped loopback", addr: "[::ffff:127.0.0.1]:80", ok: true},
		{name: "private address", addr: "10.0.0.1:80"},
		{name: "public address", addr: "192.0.2.10:443"},
		{name: "any address", addr: "0.0.0.0:80"},
		{name: "host name", addr: "localhost:80"},
		{name: "nhs host name", addr: "api.service.nhs.uk:443"},
		{name: "no port", addr: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := stack.CheckLoopback(tt.addr)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestFreeLoopbackAddr(t *testing.T) {
	addr, err := stack.FreeLoopbackAddr()
	require.NoError(t, err)
	require.NoError(t, stack.CheckLoopback(addr))
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err, "the address must be free to bind")
	require.NoError(t, ln.Close())
}

func TestEnvName(t *testing.T) {
	require.Equal(t, "SHAKEDOWN_ERS", stack.EnvName("ers"))
	require.Equal(t, "SHAKEDOWN_GP_CONNECT", stack.EnvName("gp-connect"))
}
