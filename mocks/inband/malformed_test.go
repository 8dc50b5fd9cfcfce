package inband_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

func TestSpecValidateMalformedAndTenants(t *testing.T) {
	tests := []struct {
		name    string
		spec    inband.Spec
		wantErr []string // substrings; empty means valid
	}{
		{name: "invalid json", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformInvalidJSON}},
		{name: "wrong types", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes}},
		{name: "oversized default bytes", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized}},
		{name: "oversized with bytes", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized, Bytes: 1 << 20}},
		{name: "malformed without malform", spec: inband.Spec{Kind: inband.Malformed}, wantErr: []string{`malform set to one of`, `got ""`}},
		{name: "unknown malform", spec: inband.Spec{Kind: inband.Malformed, Malform: "gibberish"}, wantErr: []string{`got "gibberish"`, "invalid-json", "wrong-types", "oversized"}},
		{name: "malform on another kind", spec: inband.Spec{Kind: inband.Status, Status: 500, Malform: inband.MalformInvalidJSON}, wantErr: []string{`only applies to kind "malformed"`}},
		{name: "negative bytes", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized, Bytes: -1}, wantErr: []string{"bytes must not be negative"}},
		{name: "bytes without oversized", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes, Bytes: 10}, wantErr: []string{"bytes only applies"}},
		{name: "tenants", spec: inband.Spec{Kind: inband.Status, Status: 503, Tenants: []string{"Y12345", "Y54321"}}},
		{name: "empty tenant", spec: inband.Spec{Kind: inband.Status, Status: 503, Tenants: []string{"Y12345", " "}}, wantErr: []string{"tenants[1] is empty"}},
		{name: "status with delay", spec: inband.Spec{Kind: inband.Status, Status: 504, Delay: time.Second}},
		{name: "status with negative delay", spec: inband.Spec{Kind: inband.Status, Status: 504, Delay: -time.Second}, wantErr: []string{"must not be negative"}},
		{name: "unknown kind lists malformed", spec: inband.Spec{Kind: "explode"}, wantErr: []string{"malformed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tc.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

// jsonHandler answers a fixed JSON body with a custom header and status 201,
// counting commits.
type jsonHandler struct {
	body    string
	commits int
}

func (h *jsonHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.commits++
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("ETag", `W/"3"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(h.body)))
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, h.body)
}

const sampleBody = `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"1","name":[{"family":"TESTPATIENT","given":["Alex"]}]}},{"resource":{"resourceType":"List","code":{"coding":[{"system":"http://snomed.info/sct","code":"886921000000105","display":"Allergies and adverse reaction"}]}}}]}`

func TestMiddlewareMalformed(t *testing.T) {
	tests := []struct {
		name  string
		spec  inband.Spec
		check func(t *testing.T, body []byte)
	}{
		{
			name: "invalid json truncates mid-way",
			spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformInvalidJSON},
			check: func(t *testing.T, body []byte) {
				require.Len(t, body, len(sampleBody)/2)
				require.Equal(t, sampleBody[:len(sampleBody)/2], string(body))
				require.False(t, json.Valid(body))
			},
		},
		{
			name: "wrong types keeps valid json with retyped strings",
			spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes, Seed: 5},
			check: func(t *testing.T, body []byte) {
				require.True(t, json.Valid(body), "body: %s", body)
				var want, got any
				require.NoError(t, json.Unmarshal([]byte(sampleBody), &want))
				require.NoError(t, json.Unmarshal(body, &got))
				require.NotEqual(t, want, got)
				require.Positive(t, retyped(want, got), "some string value must have changed type: %s", body)
			},
		},
		{
			name: "oversized exceeds bytes and stays valid",
			spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized, Bytes: 64 << 10},
			check: func(t *testing.T, body []byte) {
				require.Greater(t, len(body), 64<<10)
				var got map[string]any
				require.NoError(t, json.Unmarshal(body, &got))
				require.Equal(t, "Bundle", got["resourceType"])
				require.Contains(t, got, inband.OversizedField)
			},
		},
		{
			name: "oversized default is 8 MiB",
			spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized},
			check: func(t *testing.T, body []byte) {
				require.Greater(t, len(body), inband.DefaultOversizedBytes)
				require.True(t, json.Valid(body))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			_, err := c.Add(tc.spec)
			require.NoError(t, err)
			next := &jsonHandler{body: sampleBody}
			srv := httptest.NewServer(c.Middleware(next, pathClassifier, statusResponder, nil))
			defer srv.Close()

			resp, err := http.Post(srv.URL+"/create", "application/json", strings.NewReader("{}"))
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err, "the HTTP framing must stay valid")
			require.Equal(t, 1, next.commits, "the real handler runs and commits")
			require.Equal(t, http.StatusCreated, resp.StatusCode, "status is kept")
			require.Equal(t, `W/"3"`, resp.Header.Get("ETag"), "headers are kept")
			require.Equal(t, "application/fhir+json", resp.Header.Get("Content-Type"))
			require.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))
			tc.check(t, body)
		})
	}
}

// retyped counts string values in want that became non-strings in got.
func retyped(want, got any) int {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return 0
		}
		n := 0
		for k, wv := range w {
			if _, isStr := wv.(string); isStr {
				if _, still := g[k].(string); !still {
					n++
				}
				continue
			}
			n += retyped(wv, g[k])
		}
		return n
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return 0
		}
		n := 0
		for i := range w {
			n += retyped(w[i], g[i])
		}
		return n
	}
	return 0
}

func TestMalformedWrongTypesIsSeeded(t *testing.T) {
	run := func(seed uint64) []byte {
		c := inband.NewController()
		_, err := c.Add(inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes, Seed: seed})
		require.NoError(t, err)
		h := c.Middleware(&jsonHandler{body: sampleBody}, pathClassifier, statusResponder, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/read", nil))
		return rec.Body.Bytes()
	}
	require.Equal(t, run(11), run(11), "the same seed corrupts the same keys")
	differs := false
	for s := uint64(12); s < 20 && !differs; s++ {
		differs = !bytes.Equal(run(11), run(s))
	}
	require.True(t, differs, "other seeds corrupt other keys")
}

func TestMalformedEdgeBodies(t *testing.T) {
	tests := []struct {
		name    string
		malform string
		body    string
		want    func(t *testing.T, got []byte)
	}{
		{name: "invalid json of empty body", malform: inband.MalformInvalidJSON, body: "", want: func(t *testing.T, got []byte) { require.Equal(t, "{", string(got)) }},
		{name: "wrong types of non-json passes through", malform: inband.MalformWrongTypes, body: "plain text", want: func(t *testing.T, got []byte) { require.Equal(t, "plain text", string(got)) }},
		{name: "wrong types without strings passes through", malform: inband.MalformWrongTypes, body: `{"a":1}`, want: func(t *testing.T, got []byte) { require.Equal(t, `{"a":1}`, string(got)) }},
		{name: "oversized empty object", malform: inband.MalformOversized, body: `{}`, want: func(t *testing.T, got []byte) {
			require.True(t, json.Valid(got))
			require.Greater(t, len(got), 1024)
		}},
		{name: "oversized array padded", malform: inband.MalformOversized, body: `[1]`, want: func(t *testing.T, got []byte) {
			require.True(t, json.Valid(got))
			require.Greater(t, len(got), 1024)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			spec := inband.Spec{Kind: inband.Malformed, Malform: tc.malform}
			if tc.malform == inband.MalformOversized {
				spec.Bytes = 1024
			}
			_, err := c.Add(spec)
			require.NoError(t, err)
			h := c.Middleware(&jsonHandler{body: tc.body}, pathClassifier, statusResponder, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/read", nil))
			require.Equal(t, http.StatusCreated, rec.Code)
			tc.want(t, rec.Body.Bytes())
		})
	}
}

func TestControllerTenantsFilter(t *testing.T) {
	tenantHeader := func(r *http.Request) string { return r.Header.Get("X-Tenant") }
	tests := []struct {
		name        string
		tenants     []string
		tenantFunc  func(*http.Request) string
		tenant      string
		wantFaulted bool
	}{
		{name: "no filter hits any tenant", tenantFunc: tenantHeader, tenant: "Y00001", wantFaulted: true},
		{name: "listed tenant", tenants: []string{"Y00001"}, tenantFunc: tenantHeader, tenant: "Y00001", wantFaulted: true},
		{name: "one of several", tenants: []string{"Y00001", "Y00002"}, tenantFunc: tenantHeader, tenant: "Y00002", wantFaulted: true},
		{name: "unlisted tenant", tenants: []string{"Y00001"}, tenantFunc: tenantHeader, tenant: "Y00003", wantFaulted: false},
		{name: "request without tenant", tenants: []string{"Y00001"}, tenantFunc: tenantHeader, tenant: "", wantFaulted: false},
		{name: "no tenant func means no tenant", tenants: []string{"Y00001"}, tenant: "Y00001", wantFaulted: false},
		{name: "no tenant func, no filter", tenant: "Y00001", wantFaulted: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := inband.NewController()
			c.SetTenantFunc(tc.tenantFunc)
			id, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Tenants: tc.tenants})
			require.NoError(t, err)
			h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)
			req := httptest.NewRequest(http.MethodGet, "/read", nil)
			req.Header.Set("X-Tenant", tc.tenant)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			n, _ := c.Counts(id)
			if tc.wantFaulted {
				require.Equal(t, http.StatusServiceUnavailable, rec.Code)
				require.Equal(t, inband.Counts{Seen: 1, Faulted: 1}, n)
				return
			}
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, inband.Counts{}, n, "requests of other tenants are not even seen")
		})
	}
}

func TestControllerTenantsAreNotAliased(t *testing.T) {
	c := inband.NewController()
	tenants := []string{"Y00001"}
	id, err := c.Add(inband.Spec{Kind: inband.Status, Status: 503, Tenants: tenants})
	require.NoError(t, err)
	tenants[0] = "Y99999"
	c.Active()[id].Tenants[0] = "Y99999"
	require.Equal(t, []string{"Y00001"}, c.Active()[id].Tenants)
}

func TestStatusFaultWithDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := inband.NewController()
		_, err := c.Add(inband.Spec{Kind: inband.Status, Status: 504, Delay: 30 * time.Second})
		require.NoError(t, err)
		h := c.Middleware(okHandler, pathClassifier, statusResponder, nil)
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/read", nil))
		require.Equal(t, http.StatusGatewayTimeout, rec.Code)
		require.Equal(t, 30*time.Second, time.Since(start), "a gateway timeout answers after its timeout")
	})
}

func TestMalformedField(t *testing.T) {
	body := []byte(`{"entry":[{"code":{"text":"Low back pain","coding":[{"display":"x"}]}},{"code":{"text":"Headache"}},{"title":"Problems"}]}`)
	tests := []struct {
		name  string
		spec  inband.Spec
		check func(t *testing.T, got []byte)
	}{
		{name: "wrong-types hits every value of the field and nothing else", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes, Field: "text", Seed: 3},
			check: func(t *testing.T, got []byte) {
				var doc struct {
					Entry []struct {
						Code  map[string]any `json:"code"`
						Title any            `json:"title"`
					} `json:"entry"`
				}
				require.NoError(t, json.Unmarshal(got, &doc))
				for _, e := range doc.Entry[:2] {
					_, isString := e.Code["text"].(string)
					require.False(t, isString, "text must no longer be a string: %v", e.Code["text"])
				}
				require.Equal(t, "Problems", doc.Entry[2].Title)
				require.Contains(t, string(got), `"display":"x"`)
			}},
		{name: "oversized spreads the bytes over every value of the field", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformOversized, Field: "text", Bytes: 1 << 20},
			check: func(t *testing.T, got []byte) {
				require.Greater(t, len(got), 1<<20)
				var doc struct {
					Entry []struct {
						Code struct{ Text string } `json:"code"`
					} `json:"entry"`
				}
				require.NoError(t, json.Unmarshal(got, &doc))
				require.True(t, strings.HasPrefix(doc.Entry[0].Code.Text, "Low back pain "))
				require.Greater(t, len(doc.Entry[0].Code.Text), 400_000)
				require.Greater(t, len(doc.Entry[1].Code.Text), 400_000)
			}},
		{name: "field absent: wrong-types leaves the body alone", spec: inband.Spec{Kind: inband.Malformed, Malform: inband.MalformWrongTypes, Field: "nope"},
			check: func(t *testing.T, got []byte) { require.JSONEq(t, string(body), string(got)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := inband.NewController()
			_, err := c.Add(tt.spec)
			require.NoError(t, err)
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }), nil, nil, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			tt.check(t, rec.Body.Bytes())
		})
	}
	_, err := inband.NewController().Add(inband.Spec{Kind: inband.Malformed, Malform: inband.MalformInvalidJSON, Field: "text"})
	require.ErrorContains(t, err, "field")
}
