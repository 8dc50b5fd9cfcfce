package cdshooks_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

func TestHostPrefetch(t *testing.T) {
	d := cdshooks.Discovery{Services: []cdshooks.Service{{
		Hook: "order-select", ID: "imaging", Title: "Imaging",
		Prefetch: map[string]string{
			"patient":      "Patient/{{context.patientId}}",
			"practitioner": "{{ context.userId }}",
			"encounter":    "Encounter/{{context.encounterId}}", // not in the context: left out
			"meds":         "MedicationRequest?patient={{context.patientId}}",
		},
	}}}
	svc := newService(t, d, func(w http.ResponseWriter, r *http.Request, c captured) {
		writeJSON(w, http.StatusOK, []byte(`{"cards":[]}`))
	})
	var asked []string
	host, _, _ := hostFor(t, svc.base(), func(c *cdshooks.HostConfig) {
		c.Prefetch = func(_ context.Context, q string) (any, error) {
			asked = append(asked, q)
			switch q {
			case "Patient/9990000018":
				return map[string]any{"resourceType": "Patient", "id": "9990000018"}, nil
			case "Practitioner/p1":
				return map[string]any{"resourceType": "Practitioner", "id": "p1"}, nil
			}
			return nil, errors.New("not supported")
		}
	})
	call := host.Invoke(t.Context(), cdshooks.Request{Hook: "order-select", ServiceID: "imaging",
		Context: map[string]any{"patientId": "9990000018", "userId": "Practitioner/p1"}})
	require.NoError(t, call.Err)
	require.ElementsMatch(t, []string{"Patient/9990000018", "Practitioner/p1", "MedicationRequest?patient=9990000018"}, asked,
		"the host discovers the service, fills its templates from the context, and skips templates it cannot fill")

	var posted map[string]any
	for _, c := range svc.rec.all() {
		if c.Method == http.MethodPost {
			posted = decodeMap(t, c.Body)
		}
	}
	require.NotNil(t, posted, "the hook was not posted")
	prefetch, ok := posted["prefetch"].(map[string]any)
	require.True(t, ok, "prefetch missing from %v", posted)
	require.Equal(t, "Patient", prefetch["patient"].(map[string]any)["resourceType"])
	require.Equal(t, "Practitioner", prefetch["practitioner"].(map[string]any)["resourceType"])
	require.NotContains(t, prefetch, "encounter")
	require.NotContains(t, prefetch, "meds", "a query the host cannot answer is left for the service to fetch")
}
