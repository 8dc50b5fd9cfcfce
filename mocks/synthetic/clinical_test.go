package synthetic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewClinicalRecord(t *testing.T) {
	asOf := time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	patients := NewPatients(3, "Y12345")
	tests := []struct {
		name string
		opt  ClinicalOptions
	}{
		{name: "default"},
		{name: "grown", opt: ClinicalOptions{ExtraInvestigations: 40, ExtraIssues: 25}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 30 {
				p := patients.Next()
				r := NewClinicalRecord(9, p, asOf, tc.opt)
				require.Equal(t, r, NewClinicalRecord(9, p, asOf, tc.opt), "the same seed gives the same record")
				require.Equal(t, p.NHSNumber, r.NHSNumber)
				var active, resolved int
				for _, a := range r.Allergies {
					if a.Resolved() {
						resolved++
						require.True(t, a.Ended.After(a.Asserted))
					} else {
						active++
					}
				}
				require.Positive(t, active)
				require.Positive(t, resolved)
				require.NotEmpty(t, r.Medications)
				require.NotEmpty(t, r.Problems)
				require.GreaterOrEqual(t, len(r.Investigations), 1+tc.opt.ExtraInvestigations)
				require.NotEmpty(t, r.Referrals)
				ids := map[string]bool{}
				for _, inv := range r.Investigations {
					require.NotEmpty(t, inv.Results)
					require.True(t, inv.Issued.After(inv.Collected))
					require.False(t, inv.Collected.After(asOf), "nothing is recorded after asOf")
					require.False(t, ids[inv.ID], "ids are distinct")
					ids[inv.ID] = true
				}
				for _, m := range r.Medications {
					require.NotEmpty(t, m.Issues)
					if m.Type == "repeat" {
						require.GreaterOrEqual(t, len(m.Issues), 1+tc.opt.ExtraIssues)
					}
				}
			}
		})
	}
	p := NewPatients(3, "Y12345").Next()
	require.NotEqual(t, NewClinicalRecord(1, p, asOf, ClinicalOptions{}), NewClinicalRecord(2, p, asOf, ClinicalOptions{}), "another seed gives another record")
}
