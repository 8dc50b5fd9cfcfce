package stack_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
)

// echoSUT is a line-echo server standing in for the SUT's MLLP listener.
func echoSUT(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(c, msg+"\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSuffix(line, "\n")
}

func TestAddInbound(t *testing.T) {
	st := startStack(t, "ers")
	sut := echoSUT(t)
	ctx := context.Background()

	ep, err := st.AddInbound(ctx, "sut", sut)
	require.NoError(t, err)
	require.Equal(t, "sut", ep.Service)
	require.Equal(t, sut, ep.Direct)
	require.NotEqual(t, sut, ep.Addr, "the workload connects through the proxy")
	require.NoError(t, stack.CheckLoopback(ep.Addr))
	got, ok := st.Inbound("sut")
	require.True(t, ok)
	require.Equal(t, ep, got)
	require.NotContains(t, st.Endpoints(), "sut", "an inbound proxy is not a service the SUT is given")
	require.NotContains(t, st.Env(), "SHAKEDOWN_SUT_URL")

	require.Equal(t, "hello", roundTrip(t, ep.Addr, "hello"))
	require.Eventually(t, func() bool {
		c := st.Counters("sut")
		return c.Connections == 1 && c.BytesIn == 6 && c.BytesOut == 6
	}, 2*time.Second, 10*time.Millisecond, "counters: %+v", st.Counters("sut"))
	require.Zero(t, st.Counters("sut").Requests)

	p, err := st.Proxy("sut")
	require.NoError(t, err)

	// down: connections are refused.
	require.NoError(t, p.Disable(ctx))
	_, err = net.DialTimeout("tcp", ep.Addr, time.Second)
	require.Error(t, err)
	require.NoError(t, p.Enable(ctx))
	require.Equal(t, "again", roundTrip(t, ep.Addr, "again"))

	// a latency toxic on the answers.
	require.NoError(t, p.AddToxic(ctx, fault.Toxic{Name: "lat", Type: "latency", Attributes: map[string]any{"latency": 300}}))
	start := time.Now()
	require.Equal(t, "slow", roundTrip(t, ep.Addr, "slow"))
	require.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond)

	// Reset clears it.
	require.NoError(t, st.Reset(ctx))
	require.ErrorIs(t, p.RemoveToxic(ctx, "lat"), fault.ErrGone)

	// Target reaches it too.
	_, err = stack.Target{Stack: st}.Proxy("sut")
	require.NoError(t, err)
}

func TestAddInboundSUTDown(t *testing.T) {
	st := startStack(t, "ers")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there

	ep, err := st.AddInbound(context.Background(), "sut", addr)
	require.NoError(t, err, "the SUT may not listen yet")
	c, err := net.DialTimeout("tcp", ep.Addr, time.Second)
	require.NoError(t, err, "Toxiproxy accepts")
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err, "then closes: the SUT is not there")
	_ = c.Close()
}

func TestAddInboundRefused(t *testing.T) {
	st := startStack(t, "ers")
	sut := echoSUT(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, upstream, want string }{
		{"", sut, "the name is empty"},
		{"sut", "10.0.0.5:2575", "outside 127.0.0.0/8"},
		{"sut", "localhost:2575", "not host names"},
		{"ers", sut, "already runs a service called ers"},
	} {
		_, err := st.AddInbound(ctx, tc.name, tc.upstream)
		require.ErrorContains(t, err, tc.want)
	}
	_, err := st.AddInbound(ctx, "sut", sut)
	require.NoError(t, err)
	_, err = st.AddInbound(ctx, "sut", sut)
	require.ErrorContains(t, err, "already exists")

	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, st.Close(cctx))
	_, err = st.AddInbound(ctx, "sut2", sut)
	require.ErrorContains(t, err, "closed")
	require.Zero(t, st.Counters("nope"))
}

func TestMESHFactory(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{
		Services:  []string{"mesh"},
		Factories: stack.DefaultFactories(),
		Seed:      11,
		Options:   map[string]map[string]string{"mesh": {"delivery_delay": "1.5s"}},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, st.Close(ctx))
	})
	env := st.Env()
	require.Equal(t, stack.MESHMailboxSUT, env["SHAKEDOWN_MESH_MAILBOX"])
	require.Equal(t, stack.MESHMailboxPractice, env["SHAKEDOWN_MESH_TO"])
	require.NotEmpty(t, env["SHAKEDOWN_MESH_PASSWORD"])
	require.NotEmpty(t, env["SHAKEDOWN_MESH_SHARED_KEY"])
	require.True(t, strings.HasSuffix(env["SHAKEDOWN_MESH_URL"], "/messageexchange"), env["SHAKEDOWN_MESH_URL"])
	require.Equal(t, "http://"+env["SHAKEDOWN_MESH_ADDR"]+"/messageexchange", env["SHAKEDOWN_MESH_URL"])

	svc, ok := st.Service("mesh")
	require.True(t, ok)
	m, ok := svc.(*mesh.Mock)
	require.True(t, ok, "got %T", svc)
	require.Equal(t, 1500*time.Millisecond, m.DeliveryDelay(), "service_options.mesh.delivery_delay reached the mock")
	require.Equal(t, env["SHAKEDOWN_MESH_SHARED_KEY"], m.SharedKey())
	var ids []string
	for _, mb := range m.Mailboxes() {
		ids = append(ids, mb.ID)
		if mb.ID == stack.MESHMailboxSUT {
			require.Equal(t, env["SHAKEDOWN_MESH_PASSWORD"], mb.Password)
		}
	}
	require.Contains(t, ids, stack.MESHMailboxSUT)
	require.Contains(t, ids, stack.MESHMailboxPractice)

	// The SUT's credentials open its mailbox through the proxy.
	req, err := http.NewRequest(http.MethodPost, env["SHAKEDOWN_MESH_URL"]+"/"+stack.MESHMailboxSUT, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", mesh.Token(env["SHAKEDOWN_MESH_SHARED_KEY"], stack.MESHMailboxSUT,
		env["SHAKEDOWN_MESH_PASSWORD"], "nonce-1", 1, time.Now()))
	req.Header.Set("Accept", "application/vnd.mesh.v2+json")
	req.Header.Set("mex-ClientVersion", "shakedown-test")
	req.Header.Set("mex-OSName", "Linux")
	req.Header.Set("mex-OSVersion", "6")
	resp, err := client(5 * time.Second).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "handshake with the SUT's credentials")
	require.Positive(t, st.Counters("mesh").Requests)
}

func TestMESHFactorySeeded(t *testing.T) {
	build := func(seed uint64) map[string]string {
		_, env, err := stack.DefaultFactories()["mesh"](stack.ServiceConfig{Seed: seed, Now: time.Now})
		require.NoError(t, err)
		return env
	}
	require.Equal(t, build(3), build(3))
	require.NotEqual(t, build(3)["SHAKEDOWN_MESH_PASSWORD"], build(4)["SHAKEDOWN_MESH_PASSWORD"])
	_, _, err := stack.DefaultFactories()["mesh"](stack.ServiceConfig{Now: time.Now, Options: map[string]string{"delivery_delay": "soon"}})
	require.ErrorContains(t, err, "want a duration")
}
