package synthetic

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		name  string
		nine  string
		digit int
		ok    bool
	}{
		{name: "sandbox patient 9912003888", nine: "991200388", digit: 8, ok: true},
		{name: "worklist patient 9462979626", nine: "946297962", digit: 6, ok: true},
		{name: "remainder 1 gives 10: invalid", nine: "999000000", ok: false},
		{name: "too short", nine: "99900000", ok: false},
		{name: "not digits", nine: "99900000x", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := CheckDigit(tt.nine)
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, tt.digit, d)
			}
		})
	}
}

func TestValidateNHSNumber(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "valid", in: "9912003888"},
		{name: "wrong check digit", in: "9912003889", wantErr: "check digit 9, want 8"},
		{name: "short", in: "991200388", wantErr: "exactly 10 digits"},
		{name: "letters", in: "99120038AB", wantErr: "digits only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateNHSNumber(tt.in)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.True(t, ValidNHSNumber(tt.in))
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.False(t, ValidNHSNumber(tt.in))
		})
	}
}

func TestNHSNumbersAreTestRangeValidDistinctAndSeeded(t *testing.T) {
	a, b, c := NewNHSNumbers(42), NewNHSNumbers(42), NewNHSNumbers(43)
	seen := map[string]bool{}
	same := 0
	for range 5000 {
		n := a.Next()
		require.True(t, strings.HasPrefix(n, TestRangePrefix), n)
		require.NoError(t, ValidateNHSNumber(n))
		require.False(t, seen[n], "duplicate %s", n)
		seen[n] = true
		require.Equal(t, n, b.Next(), "same seed must give the same sequence")
		if n == c.Next() {
			same++
		}
	}
	require.Less(t, same, 10, "a different seed must give a different sequence")
}

func TestPatientsDeterministic(t *testing.T) {
	p1, p2 := NewPatients(7, "Y12345"), NewPatients(7, "Y12345")
	for range 100 {
		a, b := p1.Next(), p2.Next()
		require.Equal(t, a, b)
		require.NoError(t, ValidateNHSNumber(a.NHSNumber))
		require.Equal(t, "Y12345", a.Practice)
	}
	require.Regexp(t, `^Y\d{5}$`, PracticeODS(1))
	require.Equal(t, PracticeODS(9), PracticeODS(9))
}

func FuzzValidateNHSNumber(f *testing.F) {
	for _, s := range []string{"9912003888", "9462979626", "", "abc", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateNHSNumber(s)
		require.Equal(t, err == nil, ValidNHSNumber(s))
	})
}
