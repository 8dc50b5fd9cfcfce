package cdshooks_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

// pamaExample is the outbound request of a PAMA scenario.
type pamaExample struct {
	Hook         string         `json:"hook"`
	HookInstance string         `json:"hookInstance"`
	Context      map[string]any `json:"context"`
}

func loadExample(t *testing.T, name string) (pamaExample, json.RawMessage) {
	t.Helper()
	raw := readVector(t, name)
	var ex pamaExample
	require.NoError(t, json.Unmarshal(raw, &ex))
	var whole struct {
		Context json.RawMessage `json:"context"`
	}
	require.NoError(t, json.Unmarshal(raw, &whole))
	return ex, whole.Context
}

// TestPAMARoundTrip: for each Argonaut PAMA scenario, a test CDS service
// receives the host's Invoke built from the example's context, checks it the
// way a careful service would, and answers with the paired example response;
// the host must read the cards and system actions the example carries.
func TestPAMARoundTrip(t *testing.T) {
	dir := referenceDir(t)
	requests, err := filepath.Glob(filepath.Join(dir, "pama-scenario-*-outbound-request.json"))
	require.NoError(t, err)
	require.NotEmpty(t, requests)

	tests := []struct {
		name     string
		request  string // outbound request example
		response string // paired response example
		check    func(t *testing.T, call cdshooks.Call)
	}{
		{
			name: "scenario 1: rating appropriate", request: "pama-scenario-01-outbound-request.json", response: "pama-scenario-01-rating-response.json",
			check: func(t *testing.T, call cdshooks.Call) {
				require.Equal(t, cdshooks.OutcomeNoCards, call.Outcome)
				require.Empty(t, call.Response.Cards)
				require.Len(t, call.Response.SystemActions, 1)
				require.Equal(t, 1, call.Response.LegacySystemActions, "read from extension.systemActions")
				a := call.Response.SystemActions[0]
				require.Equal(t, "update", a.Type)
				require.Equal(t, "ServiceRequest/example-MRI-59879846", a.ResourceRef())
				require.Equal(t, map[string]string{"ServiceRequest/example-MRI-59879846": "appropriate"}, call.Response.Ratings())
			},
		},
		{
			name: "scenario 2: suggestion to change to cardiac MRI", request: "pama-scenario-02-outbound-request.json", response: "pama-scenario-02-suggestion-response.json",
			check: func(t *testing.T, call cdshooks.Call) {
				require.Equal(t, cdshooks.OutcomeCards, call.Outcome)
				require.Len(t, call.Response.Cards, 1)
				card := call.Response.Cards[0]
				require.Equal(t, "ACC recommends cardiac MRI", card.Summary)
				require.Equal(t, "info", card.Indicator)
				require.Equal(t, "Dx App Suite", card.Source.Label)
				require.Len(t, card.Suggestions, 1)
				require.Equal(t, "Choose MRI", card.Suggestions[0].Label)
				act := card.Suggestions[0].Actions[0]
				require.Equal(t, "update", act.Type)
				var sr struct {
					Code struct {
						Coding []cdshooks.Coding `json:"coding"`
					} `json:"code"`
				}
				require.NoError(t, json.Unmarshal(act.Resource, &sr))
				require.Equal(t, "75561", sr.Code.Coding[0].Code)
			},
		},
		{
			// The reference set has no scenario-03 request; the app launch
			// answers the congenital-heart-disease order of scenario 2.
			name: "scenario 3: SMART app link", request: "pama-scenario-02-outbound-request.json", response: "pama-scenario-03-app-launch-response.json",
			check: func(t *testing.T, call cdshooks.Call) {
				require.Equal(t, cdshooks.OutcomeCards, call.Outcome)
				require.Len(t, call.Response.Cards, 1)
				links := call.Response.Cards[0].Links
				require.Len(t, links, 1)
				require.Equal(t, "smart", links[0].Type)
				require.Equal(t, "https://dxpro.example.org/smart/launch", links[0].URL)
				require.NotEmpty(t, links[0].AppContext)
				require.Empty(t, call.Problems)
			},
		},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.request] = true
		t.Run(tt.name, func(t *testing.T) {
			ex, wantContext := loadExample(t, tt.request)
			answer := readVector(t, tt.response)
			var serviceErr error
			var svc *service
			var signer *cdshooks.Signer
			svc = newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
				// A careful service: authenticate, then check the request.
				token, _ := strings.CutPrefix(c.Auth, "Bearer ")
				if _, err := cdshooks.VerifyToken(token, signer.JWKS(), svc.base()+"/pama-imaging", time.Now()); err != nil {
					serviceErr = err
					writeJSON(w, 401, []byte(`{}`))
					return
				}
				writeJSON(w, 200, answer)
			})
			var h *cdshooks.Host
			h, signer, _ = hostFor(t, svc.base(), nil)

			call := h.Invoke(t.Context(), cdshooks.Request{Hook: ex.Hook, ServiceID: "pama-imaging", Context: ex.Context})
			require.NoError(t, serviceErr)
			require.Equal(t, 200, call.Status, "err: %v", call.Err)
			require.Empty(t, call.Unsafe)

			sent := svc.rec.all()
			require.Len(t, sent, 1)
			var body struct {
				Hook         string          `json:"hook"`
				HookInstance string          `json:"hookInstance"`
				FHIRServer   string          `json:"fhirServer"`
				Context      json.RawMessage `json:"context"`
			}
			require.NoError(t, json.Unmarshal(sent[0].Body, &body))
			require.Equal(t, ex.Hook, body.Hook)
			require.NotEqual(t, ex.HookInstance, body.HookInstance, "the host mints its own hookInstance")
			require.Equal(t, "http://127.0.0.1:9/gpconnect/fhir", body.FHIRServer)
			require.JSONEq(t, string(wantContext), string(body.Context), "the example's context arrives unchanged")

			tt.check(t, call)
		})
	}
	for _, r := range requests {
		require.True(t, covered[filepath.Base(r)], "reference request %s has no round-trip row", filepath.Base(r))
	}
}

// TestDraftImagingOrderMatchesPAMAShape builds the scenario 1 order with
// DraftImagingOrder and compares it with the example's context.
func TestDraftImagingOrderMatchesPAMAShape(t *testing.T) {
	ex, _ := loadExample(t, "pama-scenario-01-outbound-request.json")
	proc := cdshooks.Coding{System: "http://www.ama-assn.org/go/cpt", Code: "72133", Display: "Lumbar spine CT"}
	reason := cdshooks.Coding{System: "http://snomed.info/sct", Code: "279039007", Display: "Low back pain"}

	tests := []struct {
		name           string
		hook           string
		wantSelections bool
	}{
		{name: "order-select has selections", hook: cdshooks.HookOrderSelect, wantSelections: true},
		{name: "order-sign has none", hook: cdshooks.HookOrderSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cdshooks.DraftImagingOrder(tt.hook, "MRI-59879846", "123", "example-MRI-59879846", proc, reason)
			// Round-trip through JSON so both sides have the same Go types.
			var ctx map[string]any
			require.NoError(t, json.Unmarshal(mustJSON(t, got), &ctx))

			require.Equal(t, ex.Context["userId"], ctx["userId"])
			require.Equal(t, ex.Context["patientId"], ctx["patientId"])
			if tt.wantSelections {
				require.Equal(t, ex.Context["selections"], ctx["selections"])
			} else {
				require.NotContains(t, ctx, "selections")
			}
			wantSR := firstEntry(t, ex.Context)
			gotSR := firstEntry(t, ctx)
			for _, k := range []string{"resourceType", "id", "status", "intent", "subject", "reasonCode"} {
				require.Equal(t, wantSR[k], gotSR[k], "ServiceRequest.%s", k)
			}
			wantCode, gotCode := wantSR["code"].(map[string]any), gotSR["code"].(map[string]any)
			require.Equal(t, wantCode["text"], gotCode["text"])
			wc := wantCode["coding"].([]any)[0].(map[string]any)
			gc := gotCode["coding"].([]any)[0].(map[string]any)
			require.Equal(t, wc["system"], gc["system"])
			require.Equal(t, wc["code"], gc["code"])
			require.Equal(t, "Bundle", ctx["draftOrders"].(map[string]any)["resourceType"])
		})
	}
	require.Equal(t, "PractitionerRole/abc", cdshooks.DraftImagingOrder("order-sign", "p", "PractitionerRole/abc", "o", proc, reason)["userId"])
}

func firstEntry(t *testing.T, ctx map[string]any) map[string]any {
	t.Helper()
	d, ok := ctx["draftOrders"].(map[string]any)
	require.True(t, ok)
	entries, ok := d["entry"].([]any)
	require.True(t, ok)
	require.Len(t, entries, 1)
	res := entries[0].(map[string]any)["resource"].(map[string]any)
	require.Equal(t, "ServiceRequest", res["resourceType"])
	return res
}
