package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNaive(t *testing.T) {
	tests := []struct {
		name    string
		faults  []fault
		always  *fault
		want    int // HTTP status from POST /referrals
		creates int // createReferral calls e-RS saw
		inERS   int // referrals e-RS holds for the patient afterwards
	}{
		{
			name: "healthy e-RS: one create, 201 with the UBRN",
			want: http.StatusCreated, creates: 1, inERS: 1,
		},
		{
			// The incident: e-RS commits, the response is lost, the naive
			// gateway sends the same referral again and gets a second UBRN.
			name:   "lost response after commit creates a duplicate UBRN",
			faults: []fault{{commit: true, drop: true}},
			want:   http.StatusCreated, creates: 2, inERS: 2,
		},
		{
			name:   "persistent 503 gives 502 after five attempts, Retry-After ignored",
			always: &fault{status: 503, retryAfter: "30"},
			want:   http.StatusBadGateway, creates: 5, inERS: 0,
		},
		{
			name:   "422 is not retried",
			faults: []fault{{status: 422}},
			want:   http.StatusBadGateway, creates: 1, inERS: 0,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ers := newFakeERS(t)
			ers.then(tc.faults...)
			ers.always(tc.always)
			g := startNaive(t, testConfig(modeNaive, ers.base, ""))
			nhs := patients(uint64(100+i), 1)[0]

			start := time.Now()
			resp := g.post(t, referralFor("req-1", nhs))
			elapsed := time.Since(start)

			require.Equal(t, tc.want, resp.Status, "body: %v", resp.Body)
			require.Equal(t, "req-1", resp.str("requestId"))
			calls := ers.createCalls()
			require.Len(t, calls, tc.creates)
			require.Len(t, ers.referralsFor(nhs), tc.inERS)
			require.Empty(t, ers.problems())

			ids := map[string]bool{}
			for _, c := range calls {
				ids[c.CorrelationID] = true
			}
			require.Len(t, ids, len(calls), "every attempt has a fresh X-Correlation-ID")

			st := g.status(t, "req-1")
			require.Equal(t, http.StatusOK, st.Status)
			switch tc.want {
			case http.StatusCreated:
				require.Equal(t, "created", resp.str("state"))
				inERS := ers.referralsFor(nhs)
				// The UBRN the clinician sees is the last one created.
				require.Equal(t, inERS[len(inERS)-1].UBRN, resp.str("ubrn"))
				require.Equal(t, resp.str("ubrn"), st.str("ubrn"))
			default:
				require.NotEmpty(t, resp.str("error"))
				require.Equal(t, "failed", st.str("state"))
			}
			if tc.always != nil {
				require.Less(t, elapsed, 5*time.Second, "naive must not have waited for Retry-After")
			}
		})
	}
}
