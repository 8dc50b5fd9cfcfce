package cdshooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

func TestFeedback(t *testing.T) {
	when := time.Date(2025, 3, 1, 9, 30, 0, 0, time.FixedZone("BST", 3600))
	tests := []struct {
		name     string
		fb       cdshooks.Feedback
		status   int
		wantBody string // the spec-shaped body the service receives
		wantErr  string
	}{
		{
			name:     "accepted suggestion",
			fb:       cdshooks.Feedback{Card: "card-1", Outcome: "accepted", AcceptedSuggestions: []cdshooks.AcceptedSuggestion{{ID: "sugg-1"}}, OutcomeTimestamp: when},
			status:   200,
			wantBody: `{"feedback":[{"card":"card-1","outcome":"accepted","acceptedSuggestions":[{"id":"sugg-1"}],"outcomeTimestamp":"2025-03-01T08:30:00Z"}]}`,
		},
		{
			name: "overridden with a reason",
			fb: cdshooks.Feedback{Card: "card-2", Outcome: "overridden", OutcomeTimestamp: when,
				OverrideReason: &cdshooks.OverrideReason{Reason: &cdshooks.Coding{System: "http://example.org/override", Code: "clinical-judgement", Display: "Clinical judgement"}, UserComment: "Red flags present"}},
			status:   200,
			wantBody: `{"feedback":[{"card":"card-2","outcome":"overridden","overrideReason":{"reason":{"system":"http://example.org/override","code":"clinical-judgement","display":"Clinical judgement"},"userComment":"Red flags present"},"outcomeTimestamp":"2025-03-01T08:30:00Z"}]}`,
		},
		{
			name:     "zero timestamp is now",
			fb:       cdshooks.Feedback{Card: "card-3", Outcome: "overridden"},
			status:   200,
			wantBody: `{"feedback":[{"card":"card-3","outcome":"overridden","outcomeTimestamp":"2025-03-01T09:00:00Z"}]}`,
		},
		{name: "service error", fb: cdshooks.Feedback{Card: "card-4", Outcome: "overridden", OutcomeTimestamp: when}, status: 500, wantErr: "HTTP 500"},
		{name: "unknown outcome", fb: cdshooks.Feedback{Card: "card-5", Outcome: "ignored"}, wantErr: "not accepted|overridden"},
		{name: "accepted without suggestions", fb: cdshooks.Feedback{Card: "card-6", Outcome: "accepted"}, wantErr: "acceptedSuggestions"},
		{name: "no card", fb: cdshooks.Feedback{Outcome: "overridden"}, wantErr: "no card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
				writeJSON(w, tt.status, []byte(`{}`))
			})
			h, signer, j := hostFor(t, svc.base(), func(c *cdshooks.HostConfig) { c.Now = func() time.Time { return t0 } })
			err := h.Feedback(t.Context(), "pama-imaging", tt.fb)
			reqs := svc.rec.all()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				if tt.status == 0 {
					require.Empty(t, reqs, "an invalid feedback is never sent")
					require.Zero(t, j.Count(cdshooks.KindFeedback))
				} else {
					require.Equal(t, "500", entriesOf(j, cdshooks.KindFeedback)[0].Attrs["status"])
				}
				return
			}
			require.NoError(t, err)
			require.Len(t, reqs, 1)
			require.Equal(t, http.MethodPost, reqs[0].Method)
			require.Equal(t, "/cds-services/pama-imaging/feedback", reqs[0].Path)
			require.Equal(t, "application/json", reqs[0].ContentType)
			require.JSONEq(t, tt.wantBody, string(reqs[0].Body))
			token, _ := strings.CutPrefix(reqs[0].Auth, "Bearer ")
			_, err = cdshooks.VerifyToken(token, signer.JWKS(), svc.base()+"/pama-imaging/feedback", t0)
			require.NoError(t, err)
			e := entriesOf(j, cdshooks.KindFeedback)
			require.Len(t, e, 1)
			require.Equal(t, tt.fb.Outcome, e[0].Attrs["outcome"])
			require.Equal(t, tt.fb.Card, e[0].Attrs["card"])
		})
	}
}
