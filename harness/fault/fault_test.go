package fault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/fault"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/harness/stack/stacktest"
	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// env is a running stack with one Echo service, "ers".
type env struct {
	st  *stack.Stack
	tg  fault.Target
	url string // proxied base URL
	adr string // proxy host:port
}

func newEnv(t *testing.T) env {
	t.Helper()
	st, err := stack.Start(context.Background(), stack.Config{
		Services:  []string{"ers"},
		Factories: map[string]stack.ServiceFactory{"ers": stacktest.Factory("ers", nil)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close(context.Background())) })
	ep := st.Endpoints()["ers"]
	return env{st: st, tg: stack.Target{Stack: st}, url: ep.URL, adr: ep.Addr}
}

func inject(t *testing.T, e env, f fault.Fault) fault.Revert {
	t.Helper()
	rev, err := f.Inject(context.Background(), e.tg)
	require.NoError(t, err, f.Name())
	require.NotNil(t, rev)
	return rev
}

func httpClient() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// timedGet fetches url on a fresh connection and returns the body and how
// long it took.
func timedGet(t *testing.T, url string) ([]byte, time.Duration) {
	t.Helper()
	began := time.Now()
	resp, err := httpClient().Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return b, time.Since(began)
}

// rawGet sends a GET on a raw connection through the proxy and reads until
// the connection ends, returning what arrived, the read error, when the
// first byte came and when the connection ended.
func rawGet(t *testing.T, addr, path string) (data []byte, err error, first, end time.Duration) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	began := time.Now()
	_, err = io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: ers\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := conn.Read(buf)
		if n > 0 && first == 0 {
			first = time.Since(began)
		}
		data = append(data, buf[:n]...)
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				rerr = nil
			}
			return data, rerr, first, time.Since(began)
		}
	}
}

func TestLatency(t *testing.T) {
	const lat = 300 * time.Millisecond
	for _, stream := range []string{fault.Downstream, fault.Upstream} {
		t.Run(stream, func(t *testing.T) {
			e := newEnv(t)
			_, base := timedGet(t, e.url+"/ping")
			f := fault.Latency{Service: "ers", Stream: stream, Latency: lat, ToxicName: "sd-1-latency"}
			rev := inject(t, e, f)
			body, took := timedGet(t, e.url+"/ping")
			require.Equal(t, "pong", string(body))
			require.GreaterOrEqual(t, took, lat, "latency must delay the answer")
			require.NoError(t, rev(context.Background()))
			_, after := timedGet(t, e.url+"/ping")
			require.Less(t, after, lat, "latency must be gone after revert")
			t.Logf("baseline %s, with latency %s, after revert %s", base, took, after)
		})
	}
}

func TestDown(t *testing.T) {
	e := newEnv(t)
	rev := inject(t, e, fault.Down{Service: "ers"})
	_, err := net.DialTimeout("tcp", e.adr, time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	_, err = httpClient().Get(e.url + "/ping")
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, rev(context.Background()))
	body, _ := timedGet(t, e.url+"/ping")
	require.Equal(t, "pong", string(body))
}

func TestTimeoutZeroIsABlackholeUntilRevert(t *testing.T) {
	tests := []struct {
		name      string
		stream    string
		keepAlive bool
	}{
		// Upstream: the request never reaches the mock.
		{name: "upstream", stream: fault.Upstream},
		// Downstream: the answer is dropped. The toxic passes the mock's
		// close on, so this only hangs a client that keeps the connection
		// alive (the HTTP/1.1 default); a "Connection: close" client gets EOF.
		{name: "downstream keep-alive", stream: fault.Downstream, keepAlive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rev := inject(t, e, fault.Timeout{Service: "ers", Stream: tt.stream, Timeout: 0, ToxicName: "sd-1-timeout"})
			cl := httpClient()
			cl.Transport.(*http.Transport).DisableKeepAlives = !tt.keepAlive
			done := make(chan error, 1)
			go func() {
				resp, err := cl.Get(e.url + "/ping")
				if err == nil {
					_ = resp.Body.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("a blackholed request returned: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			require.NoError(t, rev(context.Background()))
			select {
			case err := <-done:
				require.Error(t, err, "removing the blackhole closes its connections")
			case <-time.After(5 * time.Second):
				t.Fatal("the blackholed request still hangs after revert")
			}
			body, _ := timedGet(t, e.url+"/ping")
			require.Equal(t, "pong", string(body))
		})
	}
}

func TestTimeoutClosesAfterTimeout(t *testing.T) {
	e := newEnv(t)
	rev := inject(t, e, fault.Timeout{Service: "ers", Timeout: 200 * time.Millisecond, Stream: fault.Upstream})
	defer func() { require.NoError(t, rev(context.Background())) }()
	data, err, _, end := rawGet(t, e.adr, "/echo/ping")
	require.Empty(t, data, "no data crosses a timeout toxic")
	_ = err // EOF or reset, depending on timing
	require.GreaterOrEqual(t, end, 200*time.Millisecond)
	require.Less(t, end, 5*time.Second)
}

func TestResetPeer(t *testing.T) {
	for _, stream := range []string{fault.Upstream, fault.Downstream} {
		t.Run(stream, func(t *testing.T) {
			e := newEnv(t)
			rev := inject(t, e, fault.ResetPeer{Service: "ers", Stream: stream})
			data, err, _, _ := rawGet(t, e.adr, "/echo/ping")
			require.Empty(t, data)
			require.ErrorIs(t, err, syscall.ECONNRESET)
			require.NoError(t, rev(context.Background()))
			body, _ := timedGet(t, e.url+"/ping")
			require.Equal(t, "pong", string(body))
		})
	}
}

func TestLimitDataTruncates(t *testing.T) {
	e := newEnv(t)
	rev := inject(t, e, fault.LimitData{Service: "ers", Bytes: 100})
	data, _, _, _ := rawGet(t, e.adr, "/echo/blob?n=10000")
	require.NotEmpty(t, data)
	require.LessOrEqual(t, len(data), 100)
	require.True(t, bytes.HasPrefix(data, []byte("HTTP/1.1 200")))
	require.NoError(t, rev(context.Background()))
	body, _ := timedGet(t, e.url+"/blob?n=10000")
	require.Equal(t, stacktest.Blob(10000), body)
}

func TestBandwidthSlowsALargeBody(t *testing.T) {
	e := newEnv(t)
	const n = 60_000 // at 100 KB/s (Toxiproxy's KB is 1000 bytes): ~600ms
	_, base := timedGet(t, e.url+"/blob?n=60000")
	rev := inject(t, e, fault.Bandwidth{Service: "ers", RateKBps: 100})
	body, took := timedGet(t, e.url+"/blob?n=60000")
	require.Equal(t, stacktest.Blob(n), body)
	require.GreaterOrEqual(t, took, 400*time.Millisecond)
	require.NoError(t, rev(context.Background()))
	_, after := timedGet(t, e.url+"/blob?n=60000")
	require.Less(t, after, 400*time.Millisecond)
	t.Logf("60 kB: baseline %s, at 100 KB/s %s, after revert %s", base, took, after)
}

func TestSlicerDeliversIntactData(t *testing.T) {
	e := newEnv(t)
	rev := inject(t, e, fault.Slicer{Service: "ers", AverageSize: 64, SizeVariation: 32, Delay: 20 * time.Microsecond})
	defer func() { require.NoError(t, rev(context.Background())) }()
	body, _ := timedGet(t, e.url+"/blob?n=50000")
	require.Equal(t, stacktest.Blob(50000), body)
}

func TestSlowCloseDelaysTheClose(t *testing.T) {
	e := newEnv(t)
	const delay = 400 * time.Millisecond
	rev := inject(t, e, fault.SlowClose{Service: "ers", Delay: delay})
	data, err, first, end := rawGet(t, e.adr, "/echo/ping")
	require.NoError(t, err)
	require.True(t, bytes.HasSuffix(data, []byte("pong")), "the answer arrives in full")
	require.Less(t, first, delay, "data is not delayed")
	require.GreaterOrEqual(t, end, delay, "the close is")
	require.NoError(t, rev(context.Background()))
	_, _, _, end = rawGet(t, e.adr, "/echo/ping")
	require.Less(t, end, delay)
}

func TestStatus(t *testing.T) {
	e := newEnv(t)
	f := fault.Status{Service: "ers", Status: 503, Code: "SYSTEM_UNAVAILABLE", RetryAfter: 1500 * time.Millisecond, Operations: []string{stacktest.OpCreate}, Seed: 1}
	rev := inject(t, e, f)

	resp, err := httpClient().Post(e.url+"/items", "application/json", nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get("Retry-After"))
	require.Contains(t, string(b), "SYSTEM_UNAVAILABLE")
	require.Zero(t, e.st.Journals()[0].Count("item.created"), "a refused request is not acted on")

	body, _ := timedGet(t, e.url+"/ping") // not a createItem: untouched
	require.Equal(t, "pong", string(body))
	require.Equal(t, int64(1), e.st.Counters("ers").Faulted)

	require.NoError(t, rev(context.Background()))
	resp, err = httpClient().Post(e.url+"/items", "application/json", nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

func TestStatusFractionIsSeeded(t *testing.T) {
	hits := func(seed uint64) []int {
		e := newEnv(t)
		rev := inject(t, e, fault.Status{Service: "ers", Status: 429, Fraction: 0.5, Seed: seed})
		defer func() { require.NoError(t, rev(context.Background())) }()
		var out []int
		for i := range 40 {
			resp, err := httpClient().Get(e.url + "/ping")
			require.NoError(t, err)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				out = append(out, i)
			}
		}
		return out
	}
	a, b := hits(42), hits(42)
	require.Equal(t, a, b, "the same seed hits the same requests")
	require.NotEmpty(t, a)
	require.Less(t, len(a), 40)
}

func TestLostResponse(t *testing.T) {
	e := newEnv(t)
	rev := inject(t, e, fault.LostResponse{Service: "ers", Operations: []string{stacktest.OpCreate}})
	resp, err := httpClient().Post(e.url+"/items", "application/json", nil)
	if err == nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err, "the caller gets no answer")
	require.Equal(t, 1, e.st.Journals()[0].Count("item.created"), "but the write committed")
	require.Equal(t, int64(1), e.st.Counters("ers").Faulted)
	require.NoError(t, rev(context.Background()))
	resp, err = httpClient().Post(e.url+"/items", "application/json", nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

func TestDelay(t *testing.T) {
	e := newEnv(t)
	const delay = 300 * time.Millisecond
	rev := inject(t, e, fault.Delay{Service: "ers", Delay: delay, Operations: []string{stacktest.OpPing}, Seed: 1})

	body, took := timedGet(t, e.url+"/ping")
	require.Equal(t, "pong", string(body), "a delayed request is still answered in full")
	require.GreaterOrEqual(t, took, delay)
	_, other := timedGet(t, e.url+"/blob?n=10") // not a ping: untouched
	require.Less(t, other, delay)
	require.Equal(t, int64(1), e.st.Counters("ers").Faulted)

	require.NoError(t, rev(context.Background()))
	_, after := timedGet(t, e.url+"/ping")
	require.Less(t, after, delay, "the delay is gone after revert")
}

func TestMalformed(t *testing.T) {
	post := func(t *testing.T, e env) []byte {
		t.Helper()
		resp, err := httpClient().Post(e.url+"/items", "application/json", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode, "the status is kept; only the body is broken")
		return b
	}
	tests := []struct {
		name  string
		fault fault.Malformed
		check func(t *testing.T, body []byte)
	}{
		{
			name:  "invalid JSON",
			fault: fault.Malformed{Service: "ers", Malform: "invalid-json"},
			check: func(t *testing.T, body []byte) { require.False(t, json.Valid(body), "%q", body) },
		},
		{
			name:  "wrong types",
			fault: fault.Malformed{Service: "ers", Malform: "wrong-types", Seed: 3},
			check: func(t *testing.T, body []byte) {
				var v map[string]any
				require.NoError(t, json.Unmarshal(body, &v), "still JSON")
				_, isString := v["id"].(string)
				require.False(t, isString, "id is no longer a string: %s", body)
			},
		},
		{
			name:  "oversized",
			fault: fault.Malformed{Service: "ers", Malform: "oversized", Bytes: 100_000},
			check: func(t *testing.T, body []byte) {
				require.True(t, json.Valid(body))
				require.Greater(t, len(body), 100_000)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			f := tt.fault
			f.Operations = []string{stacktest.OpCreate}
			rev := inject(t, e, f)
			tt.check(t, post(t, e))
			require.Equal(t, 1, e.st.Journals()[0].Count("item.created"), "the work was done before the answer broke")
			require.Equal(t, int64(1), e.st.Counters("ers").Faulted)
			require.NoError(t, rev(context.Background()))
			var ok map[string]string
			require.NoError(t, json.Unmarshal(post(t, e), &ok), "answers are whole again after revert")
			require.Equal(t, "item-2", ok["id"])
		})
	}
}

// Every in-band fault can be aimed at tenants: only requests for the listed
// ODS codes are hit.
func TestInBandTenants(t *testing.T) {
	faults := []fault.Fault{
		fault.Status{Service: "ers", Status: 503, ODS: []string{"Y12345"}},
		fault.Delay{Service: "ers", Delay: 400 * time.Millisecond, ODS: []string{"Y12345"}},
		fault.Malformed{Service: "ers", Malform: "invalid-json", ODS: []string{"Y12345"}},
		fault.LostResponse{Service: "ers", ODS: []string{"Y12345"}},
	}
	for _, f := range faults {
		t.Run(f.Name(), func(t *testing.T) {
			e := newEnv(t)
			svc, ok := e.st.Service("ers")
			require.True(t, ok)
			svc.Faults().SetTenantFunc(func(r *http.Request) string { return r.Header.Get("X-ODS") })
			rev := inject(t, e, f)
			defer func() { require.NoError(t, rev(context.Background())) }()

			get := func(ods string) (int, []byte, time.Duration, error) {
				req, err := http.NewRequest(http.MethodPost, e.url+"/items", nil)
				require.NoError(t, err)
				if ods != "" {
					req.Header.Set("X-ODS", ods)
				}
				began := time.Now()
				resp, err := httpClient().Do(req)
				if err != nil {
					return 0, nil, time.Since(began), err
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b, time.Since(began), nil
			}
			for _, other := range []string{"A81001", ""} {
				status, body, took, err := get(other)
				require.NoError(t, err, "tenant %q is not hit", other)
				require.Equal(t, http.StatusCreated, status)
				require.True(t, json.Valid(body))
				require.Less(t, took, 400*time.Millisecond)
			}
			require.Zero(t, e.st.Counters("ers").Faulted)
			status, body, took, err := get("Y12345")
			hit := err != nil || status != http.StatusCreated || !json.Valid(body) || took >= 400*time.Millisecond
			require.True(t, hit, "tenant Y12345 is hit")
			require.Equal(t, int64(1), e.st.Counters("ers").Faulted)
		})
	}
}

// specTarget records the in-band specs faults add.
type specTarget struct {
	fault.Target
	specs []inband.Spec
}

func (t *specTarget) InBand(string) (fault.InBand, error) { return t, nil }
func (t *specTarget) AddFault(_ context.Context, s inband.Spec) (string, error) {
	t.specs = append(t.specs, s)
	return "f1", nil
}
func (t *specTarget) RemoveFault(context.Context, string) (inband.Counts, error) {
	return inband.Counts{}, nil
}

func TestInBandSpecs(t *testing.T) {
	ods := []string{"Y12345", "A81001"}
	ops := []string{"getStructuredRecord"}
	tests := []struct {
		name  string
		fault fault.Fault
		want  inband.Spec
	}{
		{"status", fault.Status{Service: "gpconnect", Status: 503, Code: "X", RetryAfter: time.Second, Fraction: 0.5, Operations: ops, ODS: ods, Seed: 7},
			inband.Spec{Kind: inband.Status, Status: 503, Code: "X", RetryAfter: time.Second, Fraction: 0.5, Operations: ops, Tenants: ods, Seed: 7}},
		{"lost response", fault.LostResponse{Service: "gpconnect", ODS: ods, Seed: 7},
			inband.Spec{Kind: inband.LostResponse, Tenants: ods, Seed: 7}},
		{"delay", fault.Delay{Service: "gpconnect", Delay: 8 * time.Second, Fraction: 0.3, Operations: ops, ODS: ods, Seed: 7},
			inband.Spec{Kind: inband.Delay, Delay: 8 * time.Second, Fraction: 0.3, Operations: ops, Tenants: ods, Seed: 7}},
		{"malformed", fault.Malformed{Service: "gpconnect", Malform: "oversized", Bytes: 5_000_000, Operations: ops, ODS: ods, Seed: 7},
			inband.Spec{Kind: inband.Malformed, Malform: "oversized", Bytes: 5_000_000, Operations: ops, Tenants: ods, Seed: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &specTarget{}
			rev, err := tt.fault.Inject(context.Background(), tg)
			require.NoError(t, err)
			require.Equal(t, []inband.Spec{tt.want}, tg.specs)
			require.NoError(t, tt.want.Validate(), "the spec is one the mock accepts")
			require.NoError(t, rev(context.Background()))
		})
	}
}

func TestRevertIsSafe(t *testing.T) {
	e := newEnv(t)
	rev := inject(t, e, fault.Latency{Service: "ers", Latency: time.Second})
	require.NoError(t, rev(nil)) //nolint:staticcheck // a nil context must work
	require.NoError(t, rev(context.Background()), "a second call is harmless")

	// A revert after the stack was reset (the toxic is gone) succeeds.
	rev = inject(t, e, fault.Latency{Service: "ers", Latency: time.Second})
	require.NoError(t, e.st.Reset(context.Background()))
	require.NoError(t, rev(context.Background()))

	// In-band: a revert after the controller was cleared succeeds too.
	rev = inject(t, e, fault.LostResponse{Service: "ers"})
	require.NoError(t, e.st.Reset(context.Background()))
	require.NoError(t, rev(context.Background()))

	// A revert that outlives a cancelled injecting context still works.
	ctx, cancel := context.WithCancel(context.Background())
	rev, err := fault.Down{Service: "ers"}.Inject(ctx, e.tg)
	require.NoError(t, err)
	cancel()
	require.NoError(t, rev(context.Background()))
	body, _ := timedGet(t, e.url+"/ping")
	require.Equal(t, "pong", string(body))
}

func TestInjectErrorsSayWhatAndWhatToDo(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		fault fault.Fault
		want  []string
	}{
		{
			name:  "toxic on an unknown service",
			fault: fault.Latency{Service: "pathology", Latency: time.Second},
			want:  []string{"inject latency 1s on pathology (downstream)", `"pathology" is not part of this stack`, "listed in the scenario's services"},
		},
		{
			name:  "down on an unknown service",
			fault: fault.Down{Service: "mesh"},
			want:  []string{"inject mesh down", "listed in the scenario's services"},
		},
		{
			name:  "in-band on an unknown service",
			fault: fault.Status{Service: "mesh", Status: 503},
			want:  []string{"inject HTTP 503 on mesh", "listed in the scenario's services"},
		},
		{
			name:  "invalid in-band spec",
			fault: fault.Status{Service: "ers", Status: 200},
			want:  []string{"inject HTTP 200 on ers", "between 400 and 599"},
		},
		{
			name:  "no service",
			fault: fault.Bandwidth{RateKBps: 1},
			want:  []string{"no service given"},
		},
		{
			name:  "crash without a SUT process",
			fault: fault.Crash{},
			want:  []string{"inject crash SUT (SIGKILL), not restarted", "sut.command"},
		},
		{
			name:  "hang without a SUT process",
			fault: fault.Hang{},
			want:  []string{"inject hang SUT", "given by URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev, err := tt.fault.Inject(context.Background(), e.tg)
			require.Nil(t, rev)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}

	t.Run("same toxic twice", func(t *testing.T) {
		f := fault.Latency{Service: "ers", Latency: time.Millisecond, ToxicName: "sd-9-latency"}
		rev := inject(t, e, f)
		defer func() { require.NoError(t, rev(context.Background())) }()
		_, err := f.Inject(context.Background(), e.tg)
		require.ErrorContains(t, err, "toxic already exists")
		require.ErrorContains(t, err, "reset the stack")
	})
}

// fakeProcess records what a SUT fault asked of it.
type fakeProcess struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (p *fakeProcess) do(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, name)
	return p.fail
}

func (p *fakeProcess) Kill(context.Context) error    { return p.do("kill") }
func (p *fakeProcess) Restart(context.Context) error { return p.do("restart") }
func (p *fakeProcess) Pause(context.Context) error   { return p.do("pause") }
func (p *fakeProcess) Resume(context.Context) error  { return p.do("resume") }

type sutTarget struct {
	fault.Target
	p fault.Process
}

func (t sutTarget) SUT() (fault.Process, error) { return t.p, nil }

func TestSUTFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       fault.Fault
		afterInject []string
		afterRevert []string
	}{
		{name: "crash with restart", fault: fault.Crash{RestartAfter: 5 * time.Second}, afterInject: []string{"kill"}, afterRevert: []string{"kill", "restart"}},
		{name: "crash without restart", fault: fault.Crash{}, afterInject: []string{"kill"}, afterRevert: []string{"kill"}},
		{name: "hang", fault: fault.Hang{}, afterInject: []string{"pause"}, afterRevert: []string{"pause", "resume"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakeProcess{}
			rev, err := tt.fault.Inject(context.Background(), sutTarget{p: p})
			require.NoError(t, err)
			require.Equal(t, tt.afterInject, p.calls)
			require.NoError(t, rev(context.Background()))
			require.Equal(t, tt.afterRevert, p.calls)
		})
	}

	t.Run("restart failure is a revert error", func(t *testing.T) {
		p := &fakeProcess{}
		f := fault.Crash{RestartAfter: time.Second}
		rev, err := f.Inject(context.Background(), sutTarget{p: p})
		require.NoError(t, err)
		p.fail = errors.New("start SUT: exited before becoming healthy")
		err = rev(context.Background())
		require.ErrorContains(t, err, "revert crash SUT (SIGKILL), restart after 1s: restart: start SUT: exited")
	})
}

func TestFromStep(t *testing.T) {
	const seed = 99
	tests := []struct {
		name string
		step scenario.Step
		want fault.Fault
		desc string
	}{
		{
			name: "latency with jitter",
			step: scenario.Step{Fault: "latency", Service: "ers", Latency: 8 * time.Second, Jitter: time.Second},
			want: fault.Latency{Service: "ers", Stream: "downstream", Latency: 8 * time.Second, Jitter: time.Second, ToxicName: "sd-3-latency"},
			desc: "latency 8s ±1s on ers (downstream)",
		},
		{
			name: "bandwidth upstream",
			step: scenario.Step{Fault: "bandwidth", Service: "ers", Stream: "upstream", RateKBps: 10},
			want: fault.Bandwidth{Service: "ers", Stream: "upstream", RateKBps: 10, ToxicName: "sd-3-bandwidth"},
			desc: "bandwidth 10 KB/s on ers (upstream)",
		},
		{
			name: "slow close",
			step: scenario.Step{Fault: "slow_close", Service: "ers", Delay: 2 * time.Second},
			want: fault.SlowClose{Service: "ers", Stream: "downstream", Delay: 2 * time.Second, ToxicName: "sd-3-slow_close"},
			desc: "slow close 2s on ers (downstream)",
		},
		{
			name: "blackhole",
			step: scenario.Step{Fault: "timeout", Service: "ers"},
			want: fault.Timeout{Service: "ers", Stream: "downstream", ToxicName: "sd-3-timeout"},
			desc: "blackhole (timeout 0: data dropped, connection held open) on ers (downstream)",
		},
		{
			name: "reset peer",
			step: scenario.Step{Fault: "reset_peer", Service: "ers", Timeout: 100 * time.Millisecond},
			want: fault.ResetPeer{Service: "ers", Stream: "downstream", Timeout: 100 * time.Millisecond, ToxicName: "sd-3-reset_peer"},
			desc: "reset peer (TCP RST 100ms after first data) on ers (downstream)",
		},
		{
			name: "slicer",
			step: scenario.Step{Fault: "slicer", Service: "ers", AverageSize: 64, SizeVariation: 16, Delay: 10 * time.Microsecond},
			want: fault.Slicer{Service: "ers", Stream: "downstream", AverageSize: 64, SizeVariation: 16, Delay: 10 * time.Microsecond, ToxicName: "sd-3-slicer"},
			desc: "slicer 64±16 B every 10µs on ers (downstream)",
		},
		{
			name: "limit data",
			step: scenario.Step{Fault: "limit_data", Service: "ers", Bytes: 1024},
			want: fault.LimitData{Service: "ers", Stream: "downstream", Bytes: 1024, ToxicName: "sd-3-limit_data"},
			desc: "limit data to 1024 B per connection on ers (downstream)",
		},
		{
			name: "down",
			step: scenario.Step{Fault: "down", Service: "ers"},
			want: fault.Down{Service: "ers"},
			desc: "ers down (proxy disabled: connections refused)",
		},
		{
			name: "crash with restart",
			step: scenario.Step{Fault: "crash", Target: "sut", RestartAfter: 5 * time.Second},
			want: fault.Crash{RestartAfter: 5 * time.Second},
			desc: "crash SUT (SIGKILL), restart after 5s",
		},
		{
			name: "hang",
			step: scenario.Step{Fault: "hang", Target: "sut"},
			want: fault.Hang{},
			desc: "hang SUT (SIGSTOP until the window ends)",
		},
		{
			name: "status",
			step: scenario.Step{Fault: "status", Service: "ers", Status: 429, RetryAfter: 30 * time.Second, Fraction: 0.25, Operations: []string{"createReferral"}},
			want: fault.Status{Service: "ers", Status: 429, RetryAfter: 30 * time.Second, Fraction: 0.25, Operations: []string{"createReferral"}, Seed: fault.StepSeed(seed, 3)},
			desc: "HTTP 429 (Retry-After 30s) on ers, 25% of createReferral requests",
		},
		{
			name: "lost response",
			step: scenario.Step{Fault: "lost-response", Service: "ers"},
			want: fault.LostResponse{Service: "ers", Seed: fault.StepSeed(seed, 3)},
			desc: "lost response (committed, answer dropped) on ers, all requests",
		},
		{
			name: "lost response for one practice",
			step: scenario.Step{Fault: "lost-response", Service: "gpconnect", ODS: []string{"Y12345"}},
			want: fault.LostResponse{Service: "gpconnect", ODS: []string{"Y12345"}, Seed: fault.StepSeed(seed, 3)},
			desc: "lost response (committed, answer dropped) on gpconnect, all requests for ODS code Y12345",
		},
		{
			name: "status for two practices",
			step: scenario.Step{Fault: "status", Service: "gpconnect", Status: 503, ODS: []string{"Y12345", "A81001"}},
			want: fault.Status{Service: "gpconnect", Status: 503, ODS: []string{"Y12345", "A81001"}, Seed: fault.StepSeed(seed, 3)},
			desc: "HTTP 503 on gpconnect, all requests for ODS codes Y12345, A81001",
		},
		{
			name: "delay",
			step: scenario.Step{Fault: "delay", Service: "gpconnect", Delay: 8 * time.Second, Fraction: 0.3, Operations: []string{"getStructuredRecord"}},
			want: fault.Delay{Service: "gpconnect", Delay: 8 * time.Second, Fraction: 0.3, Operations: []string{"getStructuredRecord"}, Seed: fault.StepSeed(seed, 3)},
			desc: "delay 8s on gpconnect, 30% of getStructuredRecord requests",
		},
		{
			name: "malformed invalid JSON",
			step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "invalid-json", ODS: []string{"Y12345"}},
			want: fault.Malformed{Service: "gpconnect", Malform: "invalid-json", ODS: []string{"Y12345"}, Seed: fault.StepSeed(seed, 3)},
			desc: "malformed answers (invalid JSON) on gpconnect, all requests for ODS code Y12345",
		},
		{
			name: "malformed wrong types",
			step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "wrong-types"},
			want: fault.Malformed{Service: "gpconnect", Malform: "wrong-types", Seed: fault.StepSeed(seed, 3)},
			desc: "malformed answers (wrong types) on gpconnect, all requests",
		},
		{
			name: "malformed oversized",
			step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "oversized", Bytes: 5_000_000, Fraction: 0.5},
			want: fault.Malformed{Service: "gpconnect", Malform: "oversized", Bytes: 5_000_000, Fraction: 0.5, Seed: fault.StepSeed(seed, 3)},
			desc: "malformed answers (oversized, over 5000000 B) on gpconnect, 50% of requests",
		},
		{
			name: "malformed oversized by the mock's default",
			step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "oversized"},
			want: fault.Malformed{Service: "gpconnect", Malform: "oversized", Seed: fault.StepSeed(seed, 3)},
			desc: "malformed answers (oversized, over 8388608 B) on gpconnect, all requests",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := fault.FromStep(tt.step, 3, seed)
			require.NoError(t, err)
			require.Equal(t, tt.want, f)
			require.Equal(t, tt.desc, f.Name())
		})
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.step.Fault] = true
	}
	for _, k := range fault.Kinds {
		require.True(t, covered[k] || k == "", "kind %s has no FromStep row", k)
	}
}

func TestFromStepErrors(t *testing.T) {
	tests := []struct {
		name string
		step scenario.Step
		want []string
	}{
		{name: "unknown kind", step: scenario.Step{Fault: "flood"}, want: []string{`unknown fault "flood"`, "latency, bandwidth"}},
		{name: "no kind", step: scenario.Step{}, want: []string{"names no fault"}},
		{name: "toxic without service", step: scenario.Step{Fault: "latency", Latency: time.Second}, want: []string{"latency needs a service"}},
		{name: "bad stream", step: scenario.Step{Fault: "latency", Service: "ers", Latency: time.Second, Stream: "sideways"}, want: []string{`stream must be upstream or downstream, got "sideways"`}},
		{name: "zero latency", step: scenario.Step{Fault: "latency", Service: "ers"}, want: []string{"positive latency"}},
		{name: "every problem at once", step: scenario.Step{Fault: "latency", Jitter: -time.Second}, want: []string{"needs a service", "positive latency", "jitter must not be negative"}},
		{name: "zero bandwidth", step: scenario.Step{Fault: "bandwidth", Service: "ers"}, want: []string{"positive rate_kbps"}},
		{name: "slow close without delay", step: scenario.Step{Fault: "slow_close", Service: "ers"}, want: []string{"positive delay"}},
		{name: "negative timeout", step: scenario.Step{Fault: "timeout", Service: "ers", Timeout: -1}, want: []string{"timeout must not be negative"}},
		{name: "slicer variation too big", step: scenario.Step{Fault: "slicer", Service: "ers", AverageSize: 10, SizeVariation: 10}, want: []string{"below average_size"}},
		{name: "limit data zero", step: scenario.Step{Fault: "limit_data", Service: "ers"}, want: []string{"positive bytes"}},
		{name: "down with stream", step: scenario.Step{Fault: "down", Service: "ers", Stream: "upstream"}, want: []string{"does not take a stream"}},
		{name: "crash on a service", step: scenario.Step{Fault: "crash", Service: "ers"}, want: []string{"use target: sut"}},
		{name: "hang on another target", step: scenario.Step{Fault: "hang", Target: "db"}, want: []string{`acts on target sut, got "db"`}},
		{name: "status not an error", step: scenario.Step{Fault: "status", Service: "ers", Status: 302}, want: []string{"between 400 and 599, got 302"}},
		{name: "fraction above 1", step: scenario.Step{Fault: "lost-response", Service: "ers", Fraction: 1.5}, want: []string{"fraction must be within 0..1"}},
		{name: "delay without delay", step: scenario.Step{Fault: "delay", Service: "gpconnect"}, want: []string{"delay needs a positive delay, got 0s"}},
		{name: "delay without service", step: scenario.Step{Fault: "delay", Delay: time.Second}, want: []string{"delay needs a service"}},
		{name: "delay with stream", step: scenario.Step{Fault: "delay", Service: "gpconnect", Delay: time.Second, Stream: "upstream"}, want: []string{"does not take a stream"}},
		{name: "malformed without malform", step: scenario.Step{Fault: "malformed", Service: "gpconnect"},
			want: []string{`malformed needs malform set to one of invalid-json, wrong-types, oversized, got ""`}},
		{name: "malformed with an unknown malform", step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "garbled", Fraction: -0.1},
			want: []string{`got "garbled"`, "fraction must be within 0..1"}},
		{name: "bytes on invalid JSON", step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "invalid-json", Bytes: 10},
			want: []string{`bytes only applies to malform oversized, not "invalid-json"`}},
		{name: "negative bytes", step: scenario.Step{Fault: "malformed", Service: "gpconnect", Malform: "oversized", Bytes: -1},
			want: []string{"bytes must not be negative"}},
		{name: "ods on a toxic", step: scenario.Step{Fault: "latency", Service: "gpconnect", Latency: time.Second, ODS: []string{"Y12345"}},
			want: []string{"latency does not take ods: only in-band faults"}},
		{name: "empty ods code", step: scenario.Step{Fault: "delay", Service: "gpconnect", Delay: time.Second, ODS: []string{" "}},
			want: []string{"ods lists an empty ODS code"}},
		{name: "malform on status", step: scenario.Step{Fault: "status", Service: "gpconnect", Status: 503, Malform: "invalid-json"},
			want: []string{"status does not take malform"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := fault.FromStep(tt.step, 2, 1)
			require.Nil(t, f)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// The fault kinds FromStep builds are exactly the scenario catalog's, and
// the malforms it accepts exactly what the scenario allows and the mocks do.
func TestKindsMatchTheCatalog(t *testing.T) {
	var catalog []string
	for _, k := range scenario.Faults() {
		catalog = append(catalog, k.Name)
	}
	require.Equal(t, catalog, fault.Kinds)
	require.Equal(t, scenario.MalformKinds(), inband.Malforms)
}

func TestToxicAttributesAreMilliseconds(t *testing.T) {
	// A sub-millisecond timeout must not become 0, which means "never".
	e := newEnv(t)
	rev := inject(t, e, fault.Timeout{Service: "ers", Timeout: 500 * time.Microsecond, ToxicName: "tiny"})
	defer func() { require.NoError(t, rev(context.Background())) }()
	_, _, _, end := rawGet(t, e.adr, "/echo/ping")
	require.Less(t, end, 5*time.Second, "a 0.5ms timeout closes, it does not blackhole")
}

func TestStepSeed(t *testing.T) {
	require.Equal(t, fault.StepSeed(1, 1), fault.StepSeed(1, 1))
	seen := map[uint64]bool{}
	for seed := range uint64(4) {
		for i := range 50 {
			s := fault.StepSeed(seed, i)
			require.False(t, seen[s], "seed %d step %d collides", seed, i)
			seen[s] = true
		}
	}
}

func TestNamesAreReadable(t *testing.T) {
	for _, f := range []fault.Fault{
		fault.Latency{Service: "ers", Latency: 200 * time.Millisecond},
		fault.Status{Service: "ers", Status: 503, Code: "SYSTEM_UNAVAILABLE", Fraction: 0.5},
	} {
		require.NotContains(t, f.Name(), "%!", f.Name())
		require.False(t, strings.HasSuffix(f.Name(), " "))
	}
	require.Equal(t, "HTTP 503 SYSTEM_UNAVAILABLE on ers, 50% of requests", fault.Status{Service: "ers", Status: 503, Code: "SYSTEM_UNAVAILABLE", Fraction: 0.5}.Name())
}
