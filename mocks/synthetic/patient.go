package synthetic

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// Patient is a synthetic patient. Names are obviously fictitious.
type Patient struct {
	NHSNumber string `json:"nhs_number"`
	Family    string `json:"family"`
	Given     string `json:"given"`
	// BirthDate is YYYY-MM-DD.
	BirthDate string `json:"birth_date"`
	// Gender is a FHIR administrative gender.
	Gender string `json:"gender"`
	// Practice is the ODS code of the registered GP practice.
	Practice string `json:"practice"`
}

var (
	families = []string{"TESTPATIENT", "SYNTHETIC", "EXAMPLE", "DUMMY", "FICTION", "SAMPLE"}
	givens   = []string{"Alex", "Sam", "Jo", "Robin", "Charlie", "Ash", "Jamie", "Kit"}
	genders  = []string{"female", "male", "other", "unknown"}
)

// Patients yields distinct synthetic patients in a seeded order. It is safe
// for concurrent use.
type Patients struct {
	mu       sync.Mutex
	rng      *rand.Rand
	nhs      *NHSNumbers
	practice string
}

// NewPatients returns a generator whose patients are registered at practice.
func NewPatients(seed uint64, practice string) *Patients {
	return &Patients{
		rng:      rand.New(rand.NewPCG(seed, 0x9a7)),
		nhs:      NewNHSNumbers(seed),
		practice: practice,
	}
}

// Next returns the next patient.
func (p *Patients) Next() Patient {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Patient{
		NHSNumber: p.nhs.Next(),
		Family:    families[p.rng.IntN(len(families))],
		Given:     givens[p.rng.IntN(len(givens))],
		BirthDate: fmt.Sprintf("%04d-%02d-%02d", 1930+p.rng.IntN(90), 1+p.rng.IntN(12), 1+p.rng.IntN(28)),
		Gender:    genders[p.rng.IntN(len(genders))],
		Practice:  p.practice,
	}
}

// PracticeODS returns a valid-looking GP practice ODS code (a letter and
// five digits) chosen by seed. Codes starting with Y are used by test and
// non-standard organisations, so that letter is used here.
func PracticeODS(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x0d5))
	return fmt.Sprintf("Y%05d", r.IntN(100000))
}
