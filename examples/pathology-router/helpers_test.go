package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
)

const (
	labMailbox  = "X26LAB01"
	gpMailbox   = "X26GP001"
	labPassword = "lab-secret"
	sharedKey   = "TestKey"
)

// meshServer is the MESH mock served in-process behind a wrapper that
// tests use to inject one-shot faults and to see each send.
type meshServer struct {
	mock *mesh.Mock
	url  string

	mu      sync.Mutex // serialises outbox POSTs so one-shot faults stay one-shot
	onSend  func(n int) (inband.Spec, bool)
	hold    chan struct{} // when set, the first send is stored and then held
	held    chan struct{} // closed once a send is held
	sends   atomic.Int64
	sendsAt []time.Time
}

func startMesh(t *testing.T) *meshServer {
	t.Helper()
	m := mesh.New(mesh.WithMailbox(labMailbox, labPassword), mesh.WithMailbox(gpMailbox, "gp-secret"), mesh.WithSharedKey(sharedKey))
	s := &meshServer{mock: m}
	inner := m.Handler()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !isOutbox(r.URL.Path) {
			inner.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		n := int(s.sends.Add(1))
		s.sendsAt = append(s.sendsAt, time.Now())
		if s.onSend != nil {
			if spec, ok := s.onSend(n); ok {
				id, err := m.Faults().Add(spec)
				require.NoError(t, err)
				defer func() { _, _ = m.Faults().Remove(id) }()
			}
		}
		inner.ServeHTTP(w, r)
		if s.hold != nil && n == 1 {
			close(s.held)
			<-s.hold
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.url = "http://" + ln.Addr().String()
	return s
}

func isOutbox(p string) bool { return p == "/messageexchange/"+labMailbox+"/outbox" }

// sent counts MESH messages with this local id (MSH-10); "" counts all.
func (s *meshServer) sent(localID string) int {
	n := 0
	for _, e := range s.mock.Journal().Entries() {
		if e.Kind == "message.sent" && (localID == "" || e.Keys["local_id"] == localID) {
			n++
		}
	}
	return n
}

func (s *meshServer) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.sendsAt...)
}

// testConfig is a config for an in-process router against s.
func testConfig(t *testing.T, modeName string, s *meshServer) config {
	return config{
		mode: modeName, listen: "127.0.0.1:0", stateDir: t.TempDir(),
		meshURL: s.url, meshTo: gpMailbox, mailbox: labMailbox, password: labPassword, sharedKey: sharedKey,
		maxFrame: 1 << 20, attemptTimeout: 2 * time.Second, backoffBase: 10 * time.Millisecond,
		backoffCap: 200 * time.Millisecond, naiveAttempts: 5, shutdownGrace: 5 * time.Second,
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// router is serve running in-process.
type router struct {
	addr string
	stop context.CancelFunc
	done chan int
}

func startRouter(t *testing.T, cfg config) *router {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &router{stop: cancel, done: make(chan int, 1)}
	ready := make(chan string, 1)
	go func() {
		r.done <- serve(ctx, cancel, cfg, testLogger(t), func(addr, _ string) { ready <- addr })
	}()
	select {
	case r.addr = <-ready:
	case code := <-r.done:
		require.FailNow(t, "router exited", "status %d", code)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "router not ready")
	}
	t.Cleanup(r.close)
	return r
}

func (r *router) close() {
	r.stop()
	select {
	case <-r.done:
		r.done <- 0 // let close be called again
	case <-time.After(10 * time.Second):
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// exchange sends one raw frame to addr and returns the parsed ACK.
func exchange(t *testing.T, addr string, msg []byte) *hl7.Message {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, hl7.NewWriter(c).WriteFrame(msg))
	frame, err := hl7.NewReader(c, 1<<20).ReadFrame()
	require.NoError(t, err)
	ack, err := hl7.Parse(frame)
	require.NoError(t, err)
	return ack
}

// ackDropper is an MLLP proxy that swallows the first n ACKs coming back
// from the router, so the lab times out and resends the same MSH-10.
type ackDropper struct {
	addr string
	drop atomic.Int64
}

func startACKDropper(t *testing.T, target string, n int) *ackDropper {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &ackDropper{addr: ln.Addr().String()}
	p.drop.Store(int64(n))
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() {
				defer wg.Done()
				defer in.Close()
				r, w := hl7.NewReader(out, 1<<20), hl7.NewWriter(in)
				for {
					f, err := r.ReadFrame()
					if err != nil {
						return
					}
					if p.drop.Add(-1) >= 0 {
						continue
					}
					if w.WriteFrame(f) != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}
