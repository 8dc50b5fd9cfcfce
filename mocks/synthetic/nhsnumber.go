package synthetic

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// TestRangePrefix is the prefix of NHS numbers reserved for testing; numbers
// starting 999 are never issued to real patients.
const TestRangePrefix = "999"

// CheckDigit returns the modulus-11 check digit for the first nine digits of
// an NHS number, or ok=false when the nine digits cannot form a valid number
// (the remainder gives 10).
func CheckDigit(nine string) (digit int, ok bool) {
	if len(nine) != 9 {
		return 0, false
	}
	sum := 0
	for i, c := range nine {
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * (10 - i)
	}
	d := 11 - sum%11
	switch d {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return d, true
}

// ValidNHSNumber reports whether s is ten digits with a correct check digit.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	d, ok := CheckDigit(s[:9])
	return ok && s[9] == byte('0'+d)
}

// ValidateNHSNumber explains what is wrong with s, if anything.
func ValidateNHSNumber(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("NHS number %q must be exactly 10 digits, got %d characters", s, len(s))
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return fmt.Errorf("NHS number %q must contain digits only", s)
	}
	d, ok := CheckDigit(s[:9])
	if !ok {
		return fmt.Errorf("NHS number %q cannot be valid: its first nine digits give a check digit of 10", s)
	}
	if s[9] != byte('0'+d) {
		return fmt.Errorf("NHS number %q has check digit %c, want %d (modulus 11)", s, s[9], d)
	}
	return nil
}

// NHSNumbers yields distinct NHS numbers from the 999 test range in a seeded
// order. It is not safe for concurrent use; guard it or give each goroutine
// its own.
type NHSNumbers struct {
	rng  *rand.Rand
	used map[int]bool
}

// NewNHSNumbers returns a generator seeded with seed.
func NewNHSNumbers(seed uint64) *NHSNumbers {
	return &NHSNumbers{rng: rand.New(rand.NewPCG(seed, 0x999)), used: map[int]bool{}}
}

// Next returns the next distinct test-range NHS number. It panics only after
// the whole range (about 909,000 numbers) is exhausted.
func (g *NHSNumbers) Next() string {
	const space = 1_000_000
	for range 4 * space {
		n := g.rng.IntN(space)
		if g.used[n] {
			continue
		}
		nine := fmt.Sprintf("%s%06d", TestRangePrefix, n)
		d, ok := CheckDigit(nine)
		g.used[n] = true
		if !ok {
			continue
		}
		return nine + strconv.Itoa(d)
	}
	panic("synthetic: NHS test range exhausted")
}
