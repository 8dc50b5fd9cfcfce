package synthetic

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLabReports(t *testing.T) {
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	a, b := NewLabReports(7, "Y12345", start), NewLabReports(7, "Y12345", start)
	statuses, flags, ids := map[string]int{}, map[string]int{}, map[string]bool{}
	for range 500 {
		r := a.Next()
		require.Equal(t, r, b.Next(), "the same seed gives the same reports")
		require.True(t, ValidNHSNumber(r.Patient.NHSNumber))
		require.True(t, strings.HasPrefix(r.Patient.NHSNumber, TestRangePrefix))
		require.False(t, ids[r.ControlID], "control id %s repeated", r.ControlID)
		ids[r.ControlID] = true
		require.NotEmpty(t, r.Observations)
		statuses[r.Status]++
		for _, o := range r.Observations {
			require.Equal(t, r.Status, o.Status)
			flags[o.Flag]++
			if r.Status == LabCancelled {
				require.Empty(t, o.Value)
				continue
			}
			if o.ValueType == "NM" {
				_, err := strconv.ParseFloat(o.Value, 64)
				require.NoError(t, err)
			}
		}
	}
	for _, s := range []string{LabFinal, LabPreliminary, LabCorrected, LabCancelled} {
		require.Positive(t, statuses[s], "status %s", s)
	}
	for _, f := range []string{"", "H", "L", "HH", "LL", "A"} {
		require.Positive(t, flags[f], "flag %q", f)
	}
	require.NotEqual(t, NewLabReports(8, "Y12345", start).Next(), NewLabReports(7, "Y12345", start).Next())
}
