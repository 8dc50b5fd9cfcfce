package cdshooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/npmtest"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

// requireNPM returns the node binary and validate.mjs, or skips (fails when
// SHAKEDOWN_REQUIRE_NPM=1) when node or cds-validator is missing.
func requireNPM(t *testing.T) (node, script string) {
	t.Helper()
	dir := npmtest.Dir(t)
	node = npmtest.Require(t, dir, "cds-validator")
	return node, filepath.Join(dir, "validate.mjs")
}

func runValidator(t *testing.T, node, script string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, append([]string{script}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("running %s: %v\n%s", script, err, out)
		return "", -1
	}
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// TestIndependentValidatorAcceptsHostTraffic captures what a real Host
// sends and serves, and what this package's model marshals, and has the npm
// package cds-validator check it.
func TestIndependentValidatorAcceptsHostTraffic(t *testing.T) {
	node, script := requireNPM(t)
	dir := t.TempDir()

	var served []byte
	svc := newService(t, pamaDiscovery, func(w http.ResponseWriter, r *http.Request, c captured) {
		writeJSON(w, 200, []byte(`{"cards":[]}`))
	})
	served = mustJSON(t, pamaDiscovery)
	h, _, _ := hostFor(t, svc.base(), nil)
	_, err := h.Discover(t.Context())
	require.NoError(t, err)

	req := imagingRequest(cdshooks.HookOrderSelect)
	req.Prefetch = map[string]any{"patient": map[string]any{"resourceType": "Patient", "id": "9990001234"}}
	call := h.Invoke(t.Context(), req)
	require.NoError(t, call.Err)
	reqs := svc.rec.all()
	require.Len(t, reqs, 2)
	request := reqs[1].Body

	// Cards as this package's model writes them: the PAMA answers after a
	// parse and re-marshal, and a card using every field.
	var cardFiles []string
	for _, name := range []string{"pama-scenario-01-rating-response.json", "pama-scenario-02-suggestion-response.json", "pama-scenario-03-app-launch-response.json"} {
		resp, _, unsafe := cdshooks.ValidateResponse(readVector(t, name), 0)
		require.Empty(t, unsafe)
		cardFiles = append(cardFiles, "cards:"+writeFile(t, dir, "model-"+name, mustJSON(t, resp)))
	}
	full := cdshooks.Response{Cards: []cdshooks.Card{{
		UUID: "3f1c7d0e-5d1b-4e8e-9a55-0d3a3f0e7a11", Summary: "MRI lumbar spine is not indicated for acute low back pain without red flags",
		Detail: "iRefer guideline **B02**: imaging is not routinely indicated.", Indicator: cdshooks.IndicatorWarning,
		Source:            cdshooks.Source{Label: "iRefer", URL: "https://irefer.example.invalid", Topic: &cdshooks.Coding{System: "http://example.org/topic", Code: "imaging"}},
		SelectionBehavior: "at-most-one",
		Suggestions: []cdshooks.Suggestion{{Label: "Cancel the MRI", UUID: "b7d4", IsRecommended: true,
			Actions: []cdshooks.Action{{Type: "delete", Description: "Remove the draft order", ResourceID: "ServiceRequest/sr-1"}}}},
		OverrideReasons: []cdshooks.Coding{{System: "http://example.org/override", Code: "red-flags", Display: "Red flags present"}},
		Links:           []cdshooks.Link{{Label: "iRefer guideline", URL: "https://irefer.example.invalid/B02", Type: "absolute"}},
	}}}
	cardFiles = append(cardFiles, "cards:"+writeFile(t, dir, "model-full.json", mustJSON(t, full)))

	args := append([]string{
		"request:" + writeFile(t, dir, "host-request.json", request),
		"discovery:" + writeFile(t, dir, "discovery.json", served),
	}, cardFiles...)
	out, code := runValidator(t, node, script, args...)
	t.Logf("cds-validator:\n%s", out)
	require.Equal(t, 0, code, "cds-validator rejected host traffic:\n%s", out)
	require.Equal(t, len(args), strings.Count(out, "OK "), out)
}

// TestIndependentValidatorRejectsBrokenBodies is the negative control: the
// npm check must fail bodies that are wrong under every CDS Hooks version.
func TestIndependentValidatorRejectsBrokenBodies(t *testing.T) {
	node, script := requireNPM(t)
	dir := t.TempDir()
	tests := []struct {
		name     string
		kind     string
		body     string
		wantLine string
	}{
		{name: "request without hookInstance", kind: "request", body: `{"hook":"order-select","fhirServer":"http://x","context":{}}`, wantLine: "instance.hookInstance is required"},
		{name: "request with a numeric hook", kind: "request", body: `{"hook":7,"hookInstance":"h","fhirServer":"http://x","context":{}}`, wantLine: "instance.hook is not of a type"},
		{name: "card summary as number", kind: "cards", body: `{"cards":[{"summary":42,"indicator":"info","source":{"label":"l"}}]}`, wantLine: "instance.cards[0].summary is not of a type"},
		{name: "card without source label", kind: "cards", body: `{"cards":[{"summary":"s","indicator":"info","source":{}}]}`, wantLine: "instance.cards[0].source.label is required"},
		{name: "cards as object", kind: "cards", body: `{"cards":{"summary":"s"}}`, wantLine: "instance.cards is not of a type"},
		{name: "discovery without services", kind: "discovery", body: `{}`, wantLine: "instance.services is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.True(t, json.Valid([]byte(tt.body)))
			f := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "-")+".json", []byte(tt.body))
			out, code := runValidator(t, node, script, tt.kind+":"+f)
			require.Equal(t, 1, code, out)
			require.Contains(t, out, "ERROR")
			require.Contains(t, out, tt.wantLine)
		})
	}
}
