package cdshooks_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

const goodCard = `{"uuid":"c1","summary":"Consider MRI instead","indicator":"warning","source":{"label":"iRefer"}}`

func TestValidateResponse(t *testing.T) {
	rating := string(readVector(t, "pama-scenario-01-rating-response.json"))
	suggestion := string(readVector(t, "pama-scenario-02-suggestion-response.json"))
	appLaunch := string(readVector(t, "pama-scenario-03-app-launch-response.json"))
	topLevelRating := `{"cards":[],"systemActions":[{"type":"update","description":"Record appropriateness rating","resource":{"resourceType":"ServiceRequest","id":"sr1","extension":[{"url":"http://fhir.org/argonaut/Extension/pama-rating","valueCodeableConcept":{"coding":[{"system":"http://fhir.org/argonaut/CodeSystem/pama-rating","code":"not-appropriate"}]}}]}}]}`

	tests := []struct {
		name         string
		body         string
		maxBytes     int64
		wantUnsafe   string
		wantProblems []string // problem paths, in order
		check        func(t *testing.T, r cdshooks.Response)
	}{
		{
			name: "PAMA rating response with extension.systemActions",
			body: rating,
			// The PAMA example omits action.description, which CDS Hooks requires.
			wantProblems: []string{"$.extension.systemActions[0].description"},
			check: func(t *testing.T, r cdshooks.Response) {
				require.Empty(t, r.Cards)
				require.Len(t, r.SystemActions, 1)
				require.Equal(t, 1, r.LegacySystemActions)
				require.Equal(t, map[string]string{"ServiceRequest/example-MRI-59879846": "appropriate"}, r.Ratings())
			},
		},
		{
			name: "rating response with top-level systemActions",
			body: topLevelRating,
			check: func(t *testing.T, r cdshooks.Response) {
				require.Len(t, r.SystemActions, 1)
				require.Zero(t, r.LegacySystemActions)
				require.Equal(t, map[string]string{"ServiceRequest/sr1": "not-appropriate"}, r.Ratings())
			},
		},
		{
			name: "system actions in both placements are merged, top-level first",
			body: `{"cards":[],"systemActions":[{"type":"delete","description":"d","resourceId":"ServiceRequest/a"}],"extension":{"systemActions":[{"type":"delete","description":"d","resourceId":"ServiceRequest/b"}]}}`,
			check: func(t *testing.T, r cdshooks.Response) {
				require.Len(t, r.SystemActions, 2)
				require.Equal(t, "ServiceRequest/a", r.SystemActions[0].ResourceID)
				require.Equal(t, "ServiceRequest/b", r.SystemActions[1].ResourceID)
				require.Equal(t, 1, r.LegacySystemActions)
			},
		},
		{
			name: "PAMA suggestion response",
			body: suggestion,
			// The example has suggestions but no selectionBehavior.
			wantProblems: []string{"$.cards[0].selectionBehavior"},
			check: func(t *testing.T, r cdshooks.Response) {
				require.Len(t, r.Cards, 1)
				require.Equal(t, "ACC recommends cardiac MRI", r.Cards[0].Summary)
				require.Len(t, r.Cards[0].Suggestions, 1)
				s := r.Cards[0].Suggestions[0]
				require.Equal(t, "Choose MRI", s.Label)
				require.Len(t, s.Actions, 1)
				require.Equal(t, "update", s.Actions[0].Type)
				rating, ok := s.Actions[0].PAMARating()
				require.True(t, ok)
				require.Equal(t, "appropriate", rating)
			},
		},
		{
			name: "PAMA app-launch response with a smart link",
			body: appLaunch,
			check: func(t *testing.T, r cdshooks.Response) {
				require.Len(t, r.Cards, 1)
				require.Equal(t, []cdshooks.Link{{Label: "Heart Dx Pro", Type: "smart", URL: "https://dxpro.example.org/smart/launch",
					AppContext: "internal-correlation-id-0a7a6d9f-e22c-4e4d-a75e-cff603eb6b40"}}, r.Cards[0].Links)
			},
		},
		{
			name:  "empty cards means no advice",
			body:  `{"cards":[]}`,
			check: func(t *testing.T, r cdshooks.Response) { require.Empty(t, r.Cards); require.Empty(t, r.SystemActions) },
		},
		{
			name:         "missing cards is a problem, not unsafe",
			body:         `{}`,
			wantProblems: []string{"$.cards"},
		},
		{
			name:         "missing summary",
			body:         `{"cards":[{"indicator":"info","source":{"label":"iRefer"}}]}`,
			wantProblems: []string{"$.cards[0].summary"},
		},
		{
			name:         "summary longer than 140 characters",
			body:         `{"cards":[{"summary":"` + strings.Repeat("x", 141) + `","indicator":"info","source":{"label":"iRefer"}}]}`,
			wantProblems: []string{"$.cards[0].summary"},
			check:        func(t *testing.T, r cdshooks.Response) { require.Len(t, r.Cards[0].Summary, 141) },
		},
		{
			name: "summary of exactly 140 multi-byte characters is fine",
			body: `{"cards":[{"summary":"` + strings.Repeat("é", 140) + `","indicator":"info","source":{"label":"iRefer"}}]}`,
		},
		{
			name:         "pre-1.0 indicator hard-stop",
			body:         `{"cards":[{"summary":"Stop","indicator":"hard-stop","source":{"label":"iRefer"}}]}`,
			wantProblems: []string{"$.cards[0].indicator"},
		},
		{
			name:         "missing source and indicator",
			body:         `{"cards":[{"summary":"s"}]}`,
			wantProblems: []string{"$.cards[0].indicator", "$.cards[0].source"},
		},
		{
			name:         "action type not create|update|delete",
			body:         `{"cards":[{"summary":"s","indicator":"info","source":{"label":"l"},"selectionBehavior":"any","suggestions":[{"label":"x","actions":[{"type":"replace","description":"d"}]}]}]}`,
			wantProblems: []string{"$.cards[0].suggestions[0].actions[0].type"},
		},
		{
			name:         "unknown PAMA rating code is tolerated and noted",
			body:         strings.Replace(topLevelRating, "not-appropriate", "no-guidelines-apply", 1),
			wantProblems: []string{"$.systemActions[0].resource.extension"},
			check: func(t *testing.T, r cdshooks.Response) {
				require.Equal(t, map[string]string{"ServiceRequest/sr1": "no-guidelines-apply"}, r.Ratings())
			},
		},
		{
			name:         "bad link type and selection behaviour",
			body:         `{"cards":[{"summary":"s","indicator":"info","source":{"label":"l"},"selectionBehavior":"all","links":[{"label":"a","url":"u","type":"relative"}]}]}`,
			wantProblems: []string{"$.cards[0].selectionBehavior", "$.cards[0].links[0].type"},
		},
		{
			name: "extra unknown fields are tolerated",
			body: `{"cards":[{"summary":"s","indicator":"info","source":{"label":"l","vendorRank":3},"x-irefer":{"score":7}}],"telemetry":[1,2,3],"extension":{"vendor":true}}`,
			check: func(t *testing.T, r cdshooks.Response) {
				require.Equal(t, "s", r.Cards[0].Summary)
			},
		},
		{
			name: "null members are treated as absent",
			body: `{"cards":[{"summary":"s","indicator":"info","source":{"label":"l"},"detail":null,"links":null}],"systemActions":null}`,
		},
		{name: "invalid JSON", body: `{"cards": [}`, wantUnsafe: cdshooks.UnsafeInvalidJSON},
		{name: "truncated JSON", body: rating[:len(rating)/2], wantUnsafe: cdshooks.UnsafeInvalidJSON},
		{name: "empty body", body: ``, wantUnsafe: cdshooks.UnsafeInvalidJSON},
		{name: "whitespace body", body: " \r\n\t", wantUnsafe: cdshooks.UnsafeInvalidJSON},
		{name: "null body", body: `null`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "body is an array", body: `[` + goodCard + `]`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "cards as object", body: `{"cards":` + goodCard + `}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "summary as number", body: `{"cards":[{"summary":42,"indicator":"info","source":{"label":"l"}}]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "indicator as object", body: `{"cards":[{"summary":"s","indicator":{"level":"info"},"source":{"label":"l"}}]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "suggestions not an array", body: `{"cards":[{"summary":"s","indicator":"info","source":{"label":"l"},"suggestions":{"label":"x"}}]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "card is null", body: `{"cards":[null]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "source as string", body: `{"cards":[{"summary":"s","indicator":"info","source":"iRefer"}]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "legacy systemActions not an array", body: `{"cards":[],"extension":{"systemActions":{"type":"update"}}}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "case-variant key with the wrong type", body: `{"cards":[{"summary":"s","Summary":7,"indicator":"info","source":{"label":"l"}}]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "duplicate key hiding a wrong type", body: `{"cards":[{"summary":7,"summary":"s","indicator":"info","source":{"label":"l"}}]}`, wantUnsafe: cdshooks.UnsafeWrongTypes},
		{name: "oversized", body: `{"cards":[` + goodCard + `]}`, maxBytes: 16, wantUnsafe: cdshooks.UnsafeOversized},
		{name: "exactly maxBytes is not oversized", body: `{"cards":[]}`, maxBytes: int64(len(`{"cards":[]}`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, problems, unsafe := cdshooks.ValidateResponse([]byte(tt.body), tt.maxBytes)
			require.Equal(t, tt.wantUnsafe, unsafe, "problems: %v", problems)
			if tt.wantUnsafe != "" {
				require.Len(t, problems, 1, "an unsafe body carries the one problem that made it unsafe")
				require.Empty(t, resp.Cards)
				return
			}
			var paths []string
			for _, p := range problems {
				paths = append(paths, p.Path)
			}
			require.Equal(t, tt.wantProblems, paths, "problems: %v", problems)
			if tt.check != nil {
				tt.check(t, resp)
			}
		})
	}
}

func TestResponseMarshalIsSpecShaped(t *testing.T) {
	tests := []struct {
		name string
		resp cdshooks.Response
		want string
	}{
		{name: "nil cards become an empty array", resp: cdshooks.Response{}, want: `{"cards":[]}`},
		{name: "legacy system actions are written top-level",
			resp: cdshooks.Response{SystemActions: []cdshooks.Action{{Type: "delete", Description: "d", ResourceID: "ServiceRequest/1"}}, LegacySystemActions: 1},
			want: `{"cards":[],"systemActions":[{"type":"delete","description":"d","resourceId":"ServiceRequest/1"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.JSONEq(t, tt.want, string(mustJSON(t, tt.resp)))
		})
	}
}
