package mesh

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a started mock with a clock and a client.
type env struct {
	t     *testing.T
	m     *Mock
	clock *fakeClock
	base  string
	nonce int
}

func start(t *testing.T, opts ...Option) *env {
	t.Helper()
	c := newClock()
	m := New(append([]Option{WithSeed(7), WithClock(c.Now)}, opts...)...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Start(l)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return &env{t: t, m: m, clock: c, base: m.URL()}
}

func (e *env) password(mbx string) string {
	for _, mb := range e.m.Mailboxes() {
		if mb.ID == mbx {
			return mb.Password
		}
	}
	return "password"
}

// token returns a fresh valid token for mbx.
func (e *env) token(mbx string) string {
	e.nonce++
	return Token(e.m.SharedKey(), mbx, e.password(mbx), fmt.Sprintf("nonce-%d", e.nonce), 0, e.clock.Now())
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

// do sends a request as mbx (auth added unless headers set Authorization;
// "-" removes it). Path is relative to BasePath.
func (e *env) do(method, mbx, path string, headers map[string]string, body []byte) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+BasePath+path, bytes.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Authorization", e.token(mbx))
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range headers {
		if v == "-" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

const v2 = "application/vnd.mesh.v2+json"

func (e *env) send(from, to, workflow, localID string, body []byte, extra map[string]string) string {
	e.t.Helper()
	h := map[string]string{"Accept": v2, "mex-To": to, "mex-WorkflowID": workflow, "mex-LocalID": localID}
	for k, v := range extra {
		h[k] = v
	}
	r := e.do(http.MethodPost, from, "/"+from+"/outbox", h, body)
	require.Equal(e.t, http.StatusAccepted, r.status, "body: %s", r.body)
	id, _ := r.json(e.t)["message_id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

func (e *env) inbox(mbx string) []string {
	e.t.Helper()
	r := e.do(http.MethodGet, mbx, "/"+mbx+"/inbox", map[string]string{"Accept": v2}, nil)
	require.Equal(e.t, http.StatusOK, r.status, "body: %s", r.body)
	var out struct {
		Messages []string `json:"messages"`
	}
	require.NoError(e.t, json.Unmarshal(r.body, &out))
	return out.Messages
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func kinds(m *Mock) map[string]int {
	out := map[string]int{}
	for _, e := range m.Journal().Entries() {
		out[e.Kind]++
	}
	return out
}
