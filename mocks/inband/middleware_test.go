package inband_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// mock is a tiny service behind the middleware: POST /create commits a write
// (counted) and answers 201; anything else answers 200.
type mock struct {
	ctrl      *inband.Controller
	commits   atomic.Int64
	handled   atomic.Int64
	mu        sync.Mutex
	observed  []observation
	responded atomic.Int64
}

type observation struct {
	op   string
	kind inband.Kind
	path string
}

func newMock() *mock { return &mock{ctrl: inband.NewController()} }

func (m *mock) handler() http.Handler {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.handled.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/create" {
			m.commits.Add(1)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	respond := func(w http.ResponseWriter, _ *http.Request, spec inband.Spec) {
		m.responded.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(spec.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": spec.Code})
	}
	observe := func(r *http.Request, op string, spec inband.Spec) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.observed = append(m.observed, observation{op: op, kind: spec.Kind, path: r.URL.Path})
	}
	return m.ctrl.Middleware(next, pathClassifier, respond, observe)
}

func (m *mock) observations() []observation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]observation(nil), m.observed...)
}

// freshClient returns a client that never reuses connections, so the
// transport has no reason to retry a request on a dropped connection.
func freshClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func post(t *testing.T, c *http.Client, url, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	return c.Do(req)
}

func TestMiddlewareNoFaultPassesThrough(t *testing.T) {
	m := newMock()
	srv := httptest.NewServer(m.handler())
	defer srv.Close()

	resp, err := post(t, freshClient(t), srv.URL+"/create", "hello")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "hello", string(body))
	require.EqualValues(t, 1, m.commits.Load())
	require.Empty(t, m.observations())
	require.Zero(t, m.ctrl.Total())
}

func TestMiddlewareStatusFault(t *testing.T) {
	tests := []struct {
		name           string
		spec           inband.Spec
		wantRetryAfter string // "" means no header
	}{
		{name: "503 without retry-after", spec: inband.Spec{Kind: inband.Status, Status: 503, Code: "SYSTEM_UNAVAILABLE"}},
		{name: "429 retry-after whole second", spec: inband.Spec{Kind: inband.Status, Status: 429, RetryAfter: time.Second}, wantRetryAfter: "1"},
		{name: "429 retry-after 1500ms rounds up", spec: inband.Spec{Kind: inband.Status, Status: 429, RetryAfter: 1500 * time.Millisecond}, wantRetryAfter: "2"},
		{name: "retry-after 1ns rounds up to 1", spec: inband.Spec{Kind: inband.Status, Status: 429, RetryAfter: time.Nanosecond}, wantRetryAfter: "1"},
		{name: "retry-after just over 2s", spec: inband.Spec{Kind: inband.Status, Status: 429, RetryAfter: 2*time.Second + time.Millisecond}, wantRetryAfter: "3"},
		{name: "retry-after a minute", spec: inband.Spec{Kind: inband.Status, Status: 503, RetryAfter: time.Minute}, wantRetryAfter: "60"},
		{name: "negative retry-after ignored", spec: inband.Spec{Kind: inband.Status, Status: 500, RetryAfter: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock()
			_, err := m.ctrl.Add(tc.spec)
			require.NoError(t, err)
			srv := httptest.NewServer(m.handler())
			defer srv.Close()

			resp, err := post(t, freshClient(t), srv.URL+"/create", "payload")
			require.NoError(t, err)
			defer resp.Body.Close()

			require.Equal(t, tc.spec.Status, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var body map[string]string
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			require.Equal(t, map[string]string{"code": tc.spec.Code}, body, "the body comes from the Responder")
			if tc.wantRetryAfter == "" {
				require.NotContains(t, resp.Header, "Retry-After")
			} else {
				require.Equal(t, tc.wantRetryAfter, resp.Header.Get("Retry-After"))
			}

			require.EqualValues(t, 1, m.responded.Load())
			require.Zero(t, m.handled.Load(), "the real handler must not run")
			require.Zero(t, m.commits.Load())
			require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, m.ctrl.Total())
		})
	}
}

// isDroppedConnection reports whether err is what a client sees when the
// server closes the connection without answering.
func isDroppedConnection(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func TestMiddlewareLostResponse(t *testing.T) {
	m := newMock()
	id, err := m.ctrl.Add(inband.Spec{Kind: inband.LostResponse, Operations: []string{"create"}})
	require.NoError(t, err)
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	client := freshClient(t)

	resp, err := post(t, client, srv.URL+"/create", "referral")
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	require.Nil(t, resp, "the client must get no response at all")
	require.Truef(t, isDroppedConnection(err), "want EOF or connection reset, got %v", err)
	t.Logf("client error: %v", err)
	require.EqualValues(t, 1, m.commits.Load(), "the write must be committed before the connection drops")
	require.Zero(t, m.responded.Load(), "a lost response never calls the Responder")

	// The server survives: other operations and later requests are fine.
	resp, err = post(t, client, srv.URL+"/read", "")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	n, err := m.ctrl.Remove(id)
	require.NoError(t, err)
	require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, n)

	resp, err = post(t, client, srv.URL+"/create", "again")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.EqualValues(t, 2, m.commits.Load())
}

func TestMiddlewareLostResponseHTTP2(t *testing.T) {
	m := newMock()
	_, err := m.ctrl.Add(inband.Spec{Kind: inband.LostResponse})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(m.handler())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	resp, err := post(t, srv.Client(), srv.URL+"/create", "referral")
	if resp != nil {
		// HTTP/2 may deliver headers before the stream reset; it must not
		// deliver a complete body.
		_, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		err = rerr
	}
	require.Error(t, err, "the stream must be reset")
	require.EqualValues(t, 1, m.commits.Load())
}

func TestMiddlewareLostResponseWithoutHijackAborts(t *testing.T) {
	m := newMock()
	_, err := m.ctrl.Add(inband.Spec{Kind: inband.LostResponse})
	require.NoError(t, err)
	h := m.handler()

	rec := httptest.NewRecorder()
	require.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/create", strings.NewReader("x")))
	})
	require.EqualValues(t, 1, m.commits.Load())
	require.False(t, rec.Flushed)
	require.Empty(t, rec.Body.String(), "nothing of the real response may leak")
}

func TestMiddlewareDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = 3 * time.Second
		m := newMock()
		_, err := m.ctrl.Add(inband.Spec{Kind: inband.Delay, Delay: delay})
		require.NoError(t, err)
		h := m.handler()

		start := time.Now()
		var handledAt time.Time
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/create", strings.NewReader("x")))
			handledAt = time.Now()
		}()

		synctest.Wait()
		require.Zero(t, m.handled.Load(), "the handler must not run before the delay")
		require.Len(t, m.observations(), 1, "the observer hears about the request when it is held")

		<-time.After(delay - time.Nanosecond)
		synctest.Wait()
		require.Zero(t, m.handled.Load(), "the handler must not run a nanosecond early")

		<-time.After(time.Nanosecond)
		synctest.Wait()
		<-done
		require.EqualValues(t, 1, m.handled.Load())
		require.Equal(t, delay, handledAt.Sub(start))
		require.Equal(t, http.StatusCreated, rec.Code)
		require.Equal(t, "x", rec.Body.String())
	})
}

func TestMiddlewareDelayCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = time.Minute
		m := newMock()
		_, err := m.ctrl.Add(inband.Spec{Kind: inband.Delay, Delay: delay})
		require.NoError(t, err)
		h := m.handler()

		ctx, cancel := context.WithCancel(t.Context())
		req := httptest.NewRequest(http.MethodPost, "/create", nil).WithContext(ctx)
		start := time.Now()
		var returnedAt time.Time
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(httptest.NewRecorder(), req)
			returnedAt = time.Now()
		}()

		<-time.After(time.Second)
		synctest.Wait()
		require.Zero(t, m.handled.Load())
		cancel()
		<-done
		require.Equal(t, time.Second, returnedAt.Sub(start), "the middleware returns as soon as the request is cancelled")

		// Well past the delay, the handler has still not run.
		<-time.After(2 * delay)
		synctest.Wait()
		require.Zero(t, m.handled.Load())
		require.Zero(t, m.commits.Load())
		require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, m.ctrl.Total())
	})
}

func TestMiddlewareDelayOverRealServer(t *testing.T) {
	// A companion to the synctest tests above: over a real connection the
	// client's answer cannot arrive before the delay has elapsed.
	const delay = 50 * time.Millisecond
	m := newMock()
	_, err := m.ctrl.Add(inband.Spec{Kind: inband.Delay, Delay: delay})
	require.NoError(t, err)
	srv := httptest.NewServer(m.handler())
	defer srv.Close()

	start := time.Now()
	resp, err := post(t, freshClient(t), srv.URL+"/create", "x")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.GreaterOrEqual(t, time.Since(start), delay)
	require.EqualValues(t, 1, m.commits.Load())
}

func TestMiddlewareObserver(t *testing.T) {
	tests := []struct {
		name string
		spec inband.Spec
	}{
		{name: "status", spec: inband.Spec{Kind: inband.Status, Status: 503}},
		{name: "lost response", spec: inband.Spec{Kind: inband.LostResponse}},
		{name: "delay", spec: inband.Spec{Kind: inband.Delay, Delay: time.Nanosecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock()
			spec := tc.spec
			spec.Operations = []string{"create"}
			_, err := m.ctrl.Add(spec)
			require.NoError(t, err)
			srv := httptest.NewServer(m.handler())
			defer srv.Close()
			client := freshClient(t)

			for _, path := range []string{"/create", "/read", "/create", "/read", "/create"} {
				resp, err := post(t, client, srv.URL+path, "")
				if err == nil {
					resp.Body.Close()
				}
			}
			want := []observation{
				{op: "create", kind: tc.spec.Kind, path: "/create"},
				{op: "create", kind: tc.spec.Kind, path: "/create"},
				{op: "create", kind: tc.spec.Kind, path: "/create"},
			}
			require.Equal(t, want, m.observations())
			require.Equal(t, inband.Counts{Seen: 3, Faulted: 3}, m.ctrl.Total())
		})
	}
}

func TestMiddlewareNilClassifierAndObserver(t *testing.T) {
	tests := []struct {
		name       string
		operations []string
		wantCode   int
	}{
		{name: "unfiltered fault hits", wantCode: http.StatusServiceUnavailable},
		{name: "filtered fault misses the unnamed operation", operations: []string{"create"}, wantCode: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			_, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Operations: tc.operations})
			require.NoError(t, err)
			h := c.Middleware(okHandler, nil, statusResponder, nil)
			require.Equal(t, tc.wantCode, serve(t, h, "create"))
		})
	}
}

func TestMiddlewareConcurrentWithFaultChanges(t *testing.T) {
	m := newMock()
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	const workers, perWorker = 8, 60
	var ok, faulted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})

	// Keep adding, inspecting and removing faults while traffic flows.
	var ids sync.Map
	var ctlWG sync.WaitGroup
	ctlWG.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			spec := inband.Spec{Kind: inband.Status, Status: 503, Fraction: 0.5, Seed: uint64(i)}
			if i%3 == 0 {
				spec.Operations = []string{"create"}
			}
			id, err := m.ctrl.Add(spec)
			if err != nil {
				panic(err)
			}
			ids.Store(id, true)
			_ = m.ctrl.Active()
			_ = m.ctrl.Total()
			_, _ = m.ctrl.Counts(id)
			if i%2 == 0 {
				if _, err := m.ctrl.Remove(id); err != nil {
					panic(err)
				}
			}
			if i%7 == 0 {
				m.ctrl.Clear()
			}
			runtime.Gosched()
		}
	})

	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				path := "/create"
				if (w+i)%2 == 0 {
					path = "/read"
				}
				resp, err := client.Post(srv.URL+path, "text/plain", strings.NewReader(fmt.Sprint(i)))
				if err != nil {
					panic(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusServiceUnavailable:
					faulted.Add(1)
				case http.StatusOK, http.StatusCreated:
					ok.Add(1)
				default:
					panic(fmt.Sprintf("unexpected status %d", resp.StatusCode))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	ctlWG.Wait()
	m.ctrl.Clear()

	require.EqualValues(t, workers*perWorker, ok.Load()+faulted.Load())
	require.EqualValues(t, ok.Load(), m.handled.Load())
	total := m.ctrl.Total()
	require.Equal(t, faulted.Load(), total.Faulted)
	require.EqualValues(t, total.Faulted, len(m.observations()))

	// The per-fault counts add up to the total.
	var sum inband.Counts
	ids.Range(func(k, _ any) bool {
		n, found := m.ctrl.Counts(k.(string))
		require.True(t, found)
		sum.Seen += n.Seen
		sum.Faulted += n.Faulted
		return true
	})
	require.Equal(t, total, sum)
}
