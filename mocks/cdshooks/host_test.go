package cdshooks_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

var (
	ctMRI    = cdshooks.Coding{System: "http://snomed.info/sct", Code: "241615005", Display: "MRI of lumbar spine"}
	backPain = cdshooks.Coding{System: "http://snomed.info/sct", Code: "279039007", Display: "Low back pain"}
)

func imagingRequest(hook string) cdshooks.Request {
	return cdshooks.Request{Hook: hook, ServiceID: "pama-imaging",
		Context: cdshooks.DraftImagingOrder(hook, "9990001234", "G8123456", "sr-1", ctMRI, backPain)}
}

func entriesOf(j *journal.Journal, kind string) []journal.Entry {
	var out []journal.Entry
	for _, e := range j.Entries() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestInvokeSendsASignedSpecRequest checks the wire request a service sees.
func TestInvokeSendsASignedSpecRequest(t *testing.T) {
	svc := newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
		writeJSON(w, 200, []byte(`{"cards":[`+goodCard+`]}`))
	})
	h, signer, j := hostFor(t, svc.base(), nil)

	call := h.Invoke(t.Context(), imagingRequest(cdshooks.HookOrderSelect))
	require.NoError(t, call.Err)
	require.Equal(t, cdshooks.OutcomeCards, call.Outcome)
	require.Equal(t, 200, call.Status)
	require.False(t, call.Freeze)
	require.Len(t, call.Response.Cards, 1)

	reqs := svc.rec.all()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, http.MethodPost, got.Method)
	require.Equal(t, "/cds-services/pama-imaging", got.Path)
	require.Equal(t, "application/json", got.ContentType)

	token, ok := strings.CutPrefix(got.Auth, "Bearer ")
	require.True(t, ok, "Authorization: %q", got.Auth)
	claims, err := cdshooks.VerifyToken(token, signer.JWKS(), svc.base()+"/pama-imaging", time.Now())
	require.NoError(t, err)
	require.Equal(t, "https://gp-system.shakedown.invalid", claims.Issuer)
	require.Equal(t, "http://127.0.0.1:9/.well-known/jwks.json", claims.JKU)

	body := decodeMap(t, got.Body)
	require.Equal(t, "order-select", body["hook"])
	require.Equal(t, call.HookInstance, body["hookInstance"])
	require.Regexp(t, `^[0-9a-f-]{36}$`, body["hookInstance"])
	require.Equal(t, "http://127.0.0.1:9/gpconnect/fhir", body["fhirServer"])
	require.NotContains(t, body, "prefetch", "no prefetch was given")
	ctx := body["context"].(map[string]any)
	require.Equal(t, "9990001234", ctx["patientId"])
	require.Equal(t, "Practitioner/G8123456", ctx["userId"])
	require.Equal(t, []any{"ServiceRequest/sr-1"}, ctx["selections"])

	inv := entriesOf(j, cdshooks.KindInvoked)
	require.Len(t, inv, 1)
	require.Equal(t, "gpconnect", inv[0].Service)
	require.Equal(t, call.HookInstance, inv[0].Keys["hook_instance"])
	require.Equal(t, "9990001234", inv[0].Keys["patient_id"])
	for k, v := range map[string]string{"hook": "order-select", "service": "pama-imaging", "status": "200", "outcome": "cards", "freeze": "false", "cards": "1"} {
		require.Equal(t, v, inv[0].Attrs[k], "attr %s", k)
	}
	require.Contains(t, inv[0].Attrs, "blocked_ms")

	// A second invocation is a new hook instance.
	call2 := h.Invoke(t.Context(), imagingRequest(cdshooks.HookOrderSign))
	require.NoError(t, call2.Err)
	require.NotEqual(t, call.HookInstance, call2.HookInstance)
	body2 := decodeMap(t, svc.rec.all()[1].Body)
	require.NotContains(t, body2["context"], "selections", "order-sign has no selections")
}

func TestInvokeOutcomes(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return "http://" + addr + "/cds-services"
	}()

	tests := []struct {
		name        string
		status      int
		body        string
		base        string // overrides the test service
		maxBytes    int64
		wantOutcome string
		wantStatus  int
		wantUnsafe  string
		wantKinds   []string // journal kinds after the call
	}{
		{name: "cards", status: 200, body: `{"cards":[` + goodCard + `]}`, wantOutcome: "cards", wantStatus: 200, wantKinds: []string{"cds.invoked"}},
		{name: "no cards", status: 200, body: `{"cards":[]}`, wantOutcome: "no-cards", wantStatus: 200, wantKinds: []string{"cds.invoked"}},
		{name: "problems are journalled", status: 200, body: `{"cards":[{"summary":"s","indicator":"hard-stop","source":{"label":"l"}}]}`, wantOutcome: "cards", wantStatus: 200, wantKinds: []string{"cds.invoked", "cds.problems"}},
		{name: "412 cannot obtain FHIR data", status: 412, body: `{"resourceType":"OperationOutcome"}`, wantOutcome: "error", wantStatus: 412, wantKinds: []string{"cds.invoked"}},
		{name: "500", status: 500, body: `boom`, wantOutcome: "error", wantStatus: 500, wantKinds: []string{"cds.invoked"}},
		{name: "malformed JSON is unsafe", status: 200, body: `{"cards":[{"summary":`, wantOutcome: "unsafe", wantStatus: 200, wantUnsafe: "invalid-json", wantKinds: []string{"cds.invoked", "cds.unsafe"}},
		{name: "wrong types are unsafe", status: 200, body: `{"cards":{"summary":"s"}}`, wantOutcome: "unsafe", wantStatus: 200, wantUnsafe: "wrong-types", wantKinds: []string{"cds.invoked", "cds.unsafe"}},
		{name: "oversized is unsafe", status: 200, body: `{"cards":[` + strings.Repeat(goodCard+",", 20) + goodCard + `]}`, maxBytes: 256, wantOutcome: "unsafe", wantStatus: 200, wantUnsafe: "oversized", wantKinds: []string{"cds.invoked", "cds.unsafe"}},
		{name: "refused connection", base: refused, wantOutcome: "error", wantKinds: []string{"cds.invoked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if base == "" {
				svc := newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
					writeJSON(w, tt.status, []byte(tt.body))
				})
				base = svc.base()
			}
			h, _, j := hostFor(t, base, func(c *cdshooks.HostConfig) { c.MaxResponseBytes = tt.maxBytes })
			call := h.Invoke(t.Context(), imagingRequest(cdshooks.HookOrderSelect))
			require.Equal(t, tt.wantOutcome, call.Outcome, "err: %v", call.Err)
			require.Equal(t, tt.wantStatus, call.Status)
			require.Equal(t, tt.wantUnsafe, call.Unsafe)
			if tt.wantOutcome == "error" || tt.wantOutcome == "unsafe" {
				require.Error(t, call.Err)
			} else {
				require.NoError(t, call.Err)
			}
			var kinds []string
			for _, e := range j.Entries() {
				kinds = append(kinds, e.Kind)
			}
			require.Equal(t, tt.wantKinds, kinds)
			require.Equal(t, tt.wantOutcome, j.Entries()[0].Attrs["outcome"])
		})
	}
}

// TestInvokeTiming runs the host against an in-process service inside a
// synctest bubble, so delays are exact and cost no wall time.
func TestInvokeTiming(t *testing.T) {
	const never = time.Duration(-1)
	tests := []struct {
		name        string
		delay       time.Duration
		wantOutcome string
		wantBlocked time.Duration
		wantFreeze  bool
	}{
		{name: "fast answer, no freeze", delay: 150 * time.Millisecond, wantOutcome: "cards", wantBlocked: 150 * time.Millisecond},
		{name: "answer exactly at budget is not a freeze", delay: 2 * time.Second, wantOutcome: "cards", wantBlocked: 2 * time.Second},
		{name: "slower than budget freezes the screen", delay: 7 * time.Second, wantOutcome: "cards", wantBlocked: 7 * time.Second, wantFreeze: true},
		{name: "never answers: timeout at HardTimeout", delay: never, wantOutcome: "timeout", wantBlocked: 10 * time.Second, wantFreeze: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				svc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var wait <-chan time.Time // nil: wait for the host to give up
					if tt.delay != never {
						wait = time.After(tt.delay)
					}
					select {
					case <-wait:
						writeJSON(w, 200, []byte(`{"cards":[`+goodCard+`]}`))
					case <-r.Context().Done():
					}
				})
				h, _, j := hostFor(t, "http://cds.invalid/cds-services", func(c *cdshooks.HostConfig) {
					c.Client = &http.Client{Transport: handlerTransport{svc}}
				})
				call := h.Invoke(t.Context(), imagingRequest(cdshooks.HookOrderSelect))
				require.Equal(t, tt.wantOutcome, call.Outcome, "err: %v", call.Err)
				require.Equal(t, tt.wantBlocked, call.Blocked)
				require.Equal(t, tt.wantFreeze, call.Freeze)
				require.Equal(t, 2*time.Second, call.Budget)
				e := entriesOf(j, cdshooks.KindInvoked)[0]
				require.Equal(t, tt.wantOutcome, e.Attrs["outcome"])
				require.Equal(t, tt.wantBlocked.Milliseconds(), mustAtoi(t, e.Attrs["blocked_ms"]))
			})
		})
	}
}

// TestInvokeTimeoutOverRealNetwork: a service that accepts the connection
// and never answers, against a real socket and a small HardTimeout.
func TestInvokeTimeoutOverRealNetwork(t *testing.T) {
	release := make(chan struct{})
	svc := newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	h, _, _ := hostFor(t, svc.base(), func(c *cdshooks.HostConfig) {
		c.Budget = 20 * time.Millisecond
		c.HardTimeout = 150 * time.Millisecond
	})
	call := h.Invoke(t.Context(), imagingRequest(cdshooks.HookOrderSelect))
	require.Equal(t, "timeout", call.Outcome, "err: %v", call.Err)
	require.GreaterOrEqual(t, call.Blocked, 150*time.Millisecond)
	require.Less(t, call.Blocked, 5*time.Second, "the host stopped waiting")
	require.True(t, call.Freeze)
	require.Zero(t, call.Status)
}

// TestInvokeCallerCancelIsNotATimeout: the workload's own context ending is
// an error, not the service timing out.
func TestInvokeCallerCancelIsNotATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		h, _, _ := hostFor(t, "http://cds.invalid/cds-services", func(c *cdshooks.HostConfig) {
			c.Client = &http.Client{Transport: handlerTransport{svc}}
		})
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		call := h.Invoke(ctx, imagingRequest(cdshooks.HookOrderSelect))
		require.Equal(t, "error", call.Outcome)
		require.Equal(t, 3*time.Second, call.Blocked)
		require.ErrorIs(t, call.Err, context.DeadlineExceeded)
	})
}

func TestInvokeRequestErrors(t *testing.T) {
	h, _, j := hostFor(t, "http://127.0.0.1:9/cds-services", nil)
	tests := []struct {
		name    string
		req     cdshooks.Request
		wantErr string
	}{
		{name: "no service id", req: cdshooks.Request{Hook: "order-select"}, wantErr: "no service id"},
		{name: "no hook and not discovered", req: cdshooks.Request{ServiceID: "pama-imaging"}, wantErr: "not been discovered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := h.Invoke(t.Context(), tt.req)
			require.Equal(t, "error", call.Outcome)
			require.ErrorContains(t, call.Err, tt.wantErr)
			require.Zero(t, call.Blocked)
		})
	}
	require.Equal(t, 2, j.Count(cdshooks.KindInvoked))
}

func TestDiscover(t *testing.T) {
	svc := newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
		writeJSON(w, 200, []byte(`{"cards":[]}`))
	})
	h, signer, j := hostFor(t, svc.base(), nil)

	got, err := h.Discover(t.Context())
	require.NoError(t, err)
	require.Equal(t, pamaDiscovery.Services, got)
	again, err := h.Discover(t.Context())
	require.NoError(t, err)
	require.Equal(t, got, again)
	require.Len(t, svc.rec.all(), 1, "discovery is cached after the first success")
	require.Equal(t, 1, j.Count(cdshooks.KindDiscovered))

	token, _ := strings.CutPrefix(svc.rec.all()[0].Auth, "Bearer ")
	_, err = cdshooks.VerifyToken(token, signer.JWKS(), svc.base(), time.Now())
	require.NoError(t, err, "discovery is signed too, with aud = the discovery URL")

	// The discovered hook is used when the request names none.
	call := h.Invoke(t.Context(), cdshooks.Request{ServiceID: "pama-imaging-sign"})
	require.NoError(t, call.Err)
	require.Equal(t, "order-sign", call.Hook)
	require.Equal(t, "order-sign", decodeMap(t, svc.rec.all()[1].Body)["hook"])
}

func TestDiscoverErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "HTTP 503", status: 503, body: "down for maintenance", wantErr: "HTTP 503: down for maintenance"},
		{name: "not JSON", status: 200, body: "<html>", wantErr: "not valid JSON"},
		{name: "no services", status: 200, body: `{}`, wantErr: `no "services" array`},
		{name: "services not an array", status: 200, body: `{"services":{"id":"x"}}`, wantErr: "not an array"},
		{name: "entry without id or hook", status: 200, body: `{"services":[{"title":"t","description":"d"}]}`, wantErr: "services[0]: no id"},
		{name: "duplicate id", status: 200, body: `{"services":[{"id":"a","hook":"order-select"},{"id":"a","hook":"order-sign"}]}`, wantErr: `duplicate id "a"`},
		{name: "id of the wrong type", status: 200, body: `{"services":[{"id":7,"hook":"order-select"}]}`, wantErr: "services[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, []byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			h, _, _ := hostFor(t, srv.URL+"/cds-services", nil)
			_, err := h.Discover(t.Context())
			require.ErrorContains(t, err, tt.wantErr)
		})
	}

	t.Run("empty list is valid", func(t *testing.T) {
		svc := newService(t, cdshooks.Discovery{}, nil)
		h, _, _ := hostFor(t, svc.base(), nil)
		got, err := h.Discover(t.Context())
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

func TestNewHostRejectsBadConfig(t *testing.T) {
	signer := newSigner(t)
	tests := []struct {
		name    string
		cfg     cdshooks.HostConfig
		wantErr string
	}{
		{name: "relative base", cfg: cdshooks.HostConfig{ServiceBase: "/cds-services", Issuer: "i", Signer: signer}, wantErr: "ServiceBase"},
		{name: "no signer", cfg: cdshooks.HostConfig{ServiceBase: "http://127.0.0.1:1/cds-services", Issuer: "i"}, wantErr: "Signer"},
		{name: "no issuer", cfg: cdshooks.HostConfig{ServiceBase: "http://127.0.0.1:1/cds-services", Signer: signer}, wantErr: "Issuer"},
		{name: "negative budget", cfg: cdshooks.HostConfig{ServiceBase: "http://127.0.0.1:1/cds-services", Issuer: "i", Signer: signer, Budget: -1}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cdshooks.NewHost(tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}

	h, err := cdshooks.NewHost(cdshooks.HostConfig{ServiceBase: "http://127.0.0.1:1/cds-services/", Issuer: "i", Signer: signer})
	require.NoError(t, err)
	require.Equal(t, cdshooks.DefaultBudget, h.Budget())
	require.Equal(t, "http://127.0.0.1:1/cds-services/pama", h.ServiceURL("pama"), "a trailing slash on the base is dropped")
	require.NotNil(t, h.Journal())
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}
