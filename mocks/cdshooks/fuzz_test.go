package cdshooks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

// FuzzValidateResponse: ValidateResponse never panics; a body it calls safe
// decodes with encoding/json into the model, and what it returns
// re-marshals into a body that is still safe with the same cards and system
// actions. The kept corpus is in testdata/fuzz/FuzzValidateResponse.
func FuzzValidateResponse(f *testing.F) {
	const maxBytes = 1 << 20
	for _, s := range []string{
		`{"cards":[]}`,
		`{"cards":[` + goodCard + `]}`,
		`{"cards":{"summary":"s"}}`,
		`{"cards":[{"summary":7}]}`,
		`{"cards":[null]}`,
		`{"Cards":[{"SUMMARY":1}]}`,
		`{"cards":[],"extension":{"systemActions":[{"type":"update","resource":{"resourceType":"ServiceRequest","id":"x"}}]}}`,
		`null`, ``, `[`, `"cards"`,
	} {
		f.Add([]byte(s))
	}
	if dir, _ := findReferenceDir(); dir != "" {
		matches, _ := filepath.Glob(filepath.Join(dir, "pama-scenario-*-response.json"))
		for _, m := range matches {
			if b, err := os.ReadFile(m); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, problems, unsafe := cdshooks.ValidateResponse(body, maxBytes)
		switch unsafe {
		case "":
		case cdshooks.UnsafeInvalidJSON, cdshooks.UnsafeWrongTypes, cdshooks.UnsafeOversized:
			require.Len(t, problems, 1)
			require.Empty(t, resp.Cards)
			require.Empty(t, resp.SystemActions)
			return
		default:
			t.Fatalf("unknown unsafe class %q", unsafe)
		}
		for _, p := range problems {
			require.NotEmpty(t, p.Path)
			require.NotEmpty(t, p.Msg)
		}
		// Safe means a host decoding with encoding/json gets the model.
		var decoded struct {
			Cards         []cdshooks.Card   `json:"cards"`
			SystemActions []cdshooks.Action `json:"systemActions"`
		}
		require.NoError(t, json.Unmarshal(body, &decoded), "a safe body must decode into the model")

		again, err := json.Marshal(resp)
		require.NoError(t, err)
		resp2, _, unsafe2 := cdshooks.ValidateResponse(again, maxBytes+int64(len(again)))
		require.Empty(t, unsafe2, "re-marshalled response %s", again)
		require.Len(t, resp2.Cards, len(resp.Cards))
		require.Len(t, resp2.SystemActions, len(resp.SystemActions))
	})
}
