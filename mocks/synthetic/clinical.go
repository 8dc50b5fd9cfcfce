package synthetic

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// SNOMEDSystem is the code system of every coded item in the catalogue.
const SNOMEDSystem = "http://snomed.info/sct"

// Code is a coded clinical concept from the fixed synthetic catalogue.
type Code struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

// The synthetic catalogue. The codes are public SNOMED CT / dm+d concept
// identifiers chosen so that records look plausible to a client that
// displays them; combinations, values and dates are random, never taken from
// anyone's record. The catalogue is for testing software only.
var (
	allergenCatalogue = []struct {
		Code
		category, kind string
	}{
		{Code{"323509004", "Amoxicillin 250mg capsules"}, "medication", "allergy"},
		{Code{"319773006", "Aspirin 75mg dispersible tablets"}, "medication", "intolerance"},
		{Code{"256349002", "Peanut - dietary"}, "food", "allergy"},
		{Code{"256259004", "Pollen"}, "environment", "allergy"},
		{Code{"227493005", "Cashew nut"}, "food", "allergy"},
		{Code{"322236009", "Paracetamol 500mg tablets"}, "medication", "intolerance"},
	}
	reactionCatalogue = []Code{
		{"422400008", "Vomiting"},
		{"304386008", "O/E - itchy rash"},
		{"241933001", "Peanut-induced anaphylaxis"},
		{"271807003", "Eruption of skin"},
		{"267036007", "Dyspnoea"},
	}
	drugCatalogue = []struct {
		Code
		dose, form string
	}{
		{Code{"323509004", "Amoxicillin 250mg capsules"}, "One capsule three times a day", "capsule"},
		{Code{"319773006", "Aspirin 75mg dispersible tablets"}, "One tablet once daily", "tablet"},
		{Code{"322236009", "Paracetamol 500mg tablets"}, "One or two tablets up to four times a day", "tablet"},
		{Code{"318420003", "Atenolol 50mg tablets"}, "One tablet once daily", "tablet"},
		{Code{"325278007", "Metformin 500mg tablets"}, "One tablet twice a day with food", "tablet"},
		{Code{"320000009", "Simvastatin 40mg tablets"}, "One tablet at night", "tablet"},
		{Code{"318858008", "Ramipril 2.5mg capsules"}, "One capsule once daily", "capsule"},
		{Code{"317335000", "Omeprazole 20mg gastro-resistant capsules"}, "One capsule once daily", "capsule"},
	}
	problemCatalogue = []Code{
		{"38341003", "Hypertensive disorder"},
		{"44054006", "Diabetes mellitus type 2"},
		{"195967001", "Asthma"},
		{"35489007", "Depressive disorder"},
		{"449614009", "Swelling of lower limb"},
		{"69896004", "Rheumatoid arthritis"},
		{"13645005", "Chronic obstructive lung disease"},
	}
	panelCatalogue = []struct {
		Code
		results []analyte
	}{
		{Code{"26604007", "Full blood count"}, []analyte{
			{Code{"1022541000000102", "Total white cell count"}, "10*9/L", 3.5, 11},
			{Code{"1022451000000103", "Red blood cell count"}, "10*12/L", 3.8, 5.8},
			{Code{"1022431000000105", "Haemoglobin estimation"}, "g/L", 115, 165},
			{Code{"1022651000000100", "Platelet count"}, "10*9/L", 150, 400},
		}},
		{Code{"252167001", "Urea and electrolytes"}, []analyte{
			{Code{"1000661000000107", "Serum sodium level"}, "mmol/L", 133, 146},
			{Code{"1000651000000109", "Serum potassium level"}, "mmol/L", 3.5, 5.3},
			{Code{"1000731000000107", "Serum creatinine level"}, "umol/L", 49, 90},
		}},
		{Code{"1019431000000105", "HbA1c level"}, []analyte{
			{Code{"1019431000000105", "HbA1c level"}, "mmol/mol", 20, 42},
		}},
		{Code{"1030791000000100", "Prostate specific antigen level"}, []analyte{
			{Code{"1030791000000100", "Prostate specific antigen level"}, "ug/L", 0, 4},
		}},
		{Code{"1005671000000105", "Serum cholesterol level"}, []analyte{
			{Code{"1005671000000105", "Serum cholesterol level"}, "mmol/L", 0, 5},
		}},
	}
	specimenCatalogue = []Code{
		{"122555007", "Venous blood specimen"},
		{"119297000", "Blood specimen"},
	}
	referralCatalogue = []Code{
		{"308447003", "Referral to physiotherapist"},
		{"183519002", "Referral to cardiology service"},
		{"183524004", "Referral to psychiatry service"},
		{"183526002", "Referral to dermatology service"},
	}
)

type analyte struct {
	Code
	unit      string
	low, high float64
}

// Allergy is an allergy or adverse reaction.
type Allergy struct {
	ID          string    `json:"id"`
	Code        Code      `json:"code"`
	Category    string    `json:"category"`    // medication, food, environment
	Type        string    `json:"type"`        // allergy, intolerance
	Reaction    Code      `json:"reaction"`    // manifestation
	Severity    string    `json:"severity"`    // mild, moderate, severe
	Criticality string    `json:"criticality"` // low, high
	Asserted    time.Time `json:"asserted"`
	// Ended is set for resolved allergies.
	Ended time.Time `json:"ended,omitzero"`
	Note  string    `json:"note"`
}

// Resolved reports whether the allergy has ended.
func (a Allergy) Resolved() bool { return !a.Ended.IsZero() }

// MedicationIssue is one issue (prescription) of a medication.
type MedicationIssue struct {
	ID       string    `json:"id"`
	Issued   time.Time `json:"issued"`
	Quantity int       `json:"quantity"`
	Days     int       `json:"days"`
}

// Medication is a medication plan with its issues.
type Medication struct {
	// ID names the medication (the drug resource); StatementID and PlanID
	// name the statement and the authorising plan.
	ID, StatementID, PlanID string
	Drug                    Code      `json:"drug"`
	Dosage                  string    `json:"dosage"`
	Form                    string    `json:"form"`
	Type                    string    `json:"type"` // acute, repeat
	Started                 time.Time `json:"started"`
	// Ended is set when the plan has finished.
	Ended  time.Time         `json:"ended,omitzero"`
	Issues []MedicationIssue `json:"issues"`
}

// Active reports whether the plan is still running.
func (m Medication) Active() bool { return m.Ended.IsZero() }

// Problem is an entry in the problem list.
type Problem struct {
	ID           string    `json:"id"`
	Code         Code      `json:"code"`
	Onset        time.Time `json:"onset"`
	Asserted     time.Time `json:"asserted"`
	Status       string    `json:"status"`       // active, inactive
	Significance string    `json:"significance"` // major, minor
	Abated       time.Time `json:"abated,omitzero"`
}

// Result is one analyte of an investigation.
type Result struct {
	ID        string  `json:"id"`
	Code      Code    `json:"code"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
	Low, High float64
}

// Investigation is a pathology test request with its report and results.
type Investigation struct {
	// ID names the report; RequestID, SpecimenID and FilingID the test
	// request, the specimen and (for panels) the grouping observation.
	ID, RequestID, SpecimenID, FilingID string
	Test                                Code      `json:"test"`
	Specimen                            Code      `json:"specimen"`
	Collected                           time.Time `json:"collected"`
	Issued                              time.Time `json:"issued"`
	Results                             []Result  `json:"results"`
}

// Referral is an outbound referral.
type Referral struct {
	ID          string    `json:"id"`
	UBRN        string    `json:"ubrn"`
	Reason      Code      `json:"reason"`
	Priority    string    `json:"priority"` // routine, urgent
	Authored    time.Time `json:"authored"`
	Description string    `json:"description"`
}

// ClinicalRecord is a patient's synthetic GP record.
type ClinicalRecord struct {
	NHSNumber      string          `json:"nhs_number"`
	Allergies      []Allergy       `json:"allergies"`
	Medications    []Medication    `json:"medications"`
	Problems       []Problem       `json:"problems"`
	Investigations []Investigation `json:"investigations"`
	Referrals      []Referral      `json:"referrals"`
}

// ClinicalOptions grows a record with more plausible entries, for large
// record scenarios: extra investigations (each a report with its panel of
// results) and extra issues on every repeat medication.
type ClinicalOptions struct {
	ExtraInvestigations int
	ExtraIssues         int
}

// NewClinicalRecord builds the record of patient p as it stands at asOf,
// from seed. Every patient has at least one active and one resolved allergy,
// one medication, problem, investigation and referral, so every clinical
// area a client asks for has content. The same arguments always give the
// same record.
func NewClinicalRecord(seed uint64, p Patient, asOf time.Time, opt ClinicalOptions) ClinicalRecord {
	var nhs uint64
	for _, c := range p.NHSNumber {
		nhs = nhs*10 + uint64(c-'0')
	}
	g := &clinicalGen{rng: rand.New(rand.NewPCG(seed, nhs^0xc11c)), asOf: asOf.UTC().Truncate(24 * time.Hour)}
	r := ClinicalRecord{NHSNumber: p.NHSNumber}

	for i := range 2 + g.rng.IntN(3) {
		r.Allergies = append(r.Allergies, g.allergy(i == 1))
	}
	for range 1 + g.rng.IntN(4) {
		r.Medications = append(r.Medications, g.medication(opt.ExtraIssues))
	}
	for range 1 + g.rng.IntN(3) {
		r.Problems = append(r.Problems, g.problem())
	}
	for range 1 + g.rng.IntN(3) + opt.ExtraInvestigations {
		r.Investigations = append(r.Investigations, g.investigation())
	}
	for range 1 + g.rng.IntN(2) {
		r.Referrals = append(r.Referrals, g.referral())
	}
	return r
}

type clinicalGen struct {
	rng  *rand.Rand
	asOf time.Time
}

// id returns a seeded identifier in UUID form.
func (g *clinicalGen) id() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.rng.Uint32(), g.rng.Uint32()&0xffff,
		g.rng.Uint32()&0xfff, 0x8000|g.rng.Uint32()&0x3fff, g.rng.Uint64()&0xffffffffffff)
}

// daysAgo returns a date between lo and hi days before asOf, at a plausible
// surgery time.
func (g *clinicalGen) daysAgo(lo, hi int) time.Time {
	d := lo + g.rng.IntN(hi-lo+1)
	return g.asOf.AddDate(0, 0, -d).Add(time.Duration(8*60+g.rng.IntN(9*60)) * time.Minute)
}

func pick[T any](g *clinicalGen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *clinicalGen) allergy(resolved bool) Allergy {
	a := pick(g, allergenCatalogue)
	out := Allergy{
		ID: g.id(), Code: a.Code, Category: a.category, Type: a.kind,
		Reaction:    pick(g, reactionCatalogue),
		Severity:    pick(g, []string{"mild", "moderate", "severe"}),
		Criticality: pick(g, []string{"low", "high"}),
		Asserted:    g.daysAgo(400, 6000),
	}
	out.Note = fmt.Sprintf("Reaction: %s. Recorded as %s.", out.Reaction.Display, out.Type)
	if resolved {
		out.Ended = out.Asserted.AddDate(0, 0, 30+g.rng.IntN(300))
	}
	return out
}

func (g *clinicalGen) medication(extraIssues int) Medication {
	d := pick(g, drugCatalogue)
	m := Medication{ID: g.id(), StatementID: g.id(), PlanID: g.id(), Drug: d.Code, Dosage: d.dose, Form: d.form,
		Type: pick(g, []string{"acute", "repeat", "repeat"}), Started: g.daysAgo(30, 1500)}
	n := 1
	if m.Type == "repeat" {
		n = 1 + g.rng.IntN(6) + extraIssues
	} else if g.rng.IntN(2) == 0 {
		m.Ended = m.Started.AddDate(0, 0, 7+g.rng.IntN(21))
	}
	at := m.Started
	for range n {
		days := pick(g, []int{7, 28, 56})
		m.Issues = append(m.Issues, MedicationIssue{ID: g.id(), Issued: at, Quantity: days, Days: days})
		at = at.AddDate(0, 0, days)
	}
	return m
}

func (g *clinicalGen) problem() Problem {
	p := Problem{ID: g.id(), Code: pick(g, problemCatalogue), Onset: g.daysAgo(200, 7000),
		Status: pick(g, []string{"active", "active", "inactive"}), Significance: pick(g, []string{"major", "minor"})}
	p.Asserted = p.Onset.AddDate(0, 0, g.rng.IntN(30))
	if p.Status == "inactive" {
		p.Abated = p.Asserted.AddDate(0, 0, 30+g.rng.IntN(150))
	}
	return p
}

func (g *clinicalGen) investigation() Investigation {
	panel := pick(g, panelCatalogue)
	inv := Investigation{ID: g.id(), RequestID: g.id(), SpecimenID: g.id(), FilingID: g.id(),
		Test: panel.Code, Specimen: pick(g, specimenCatalogue), Collected: g.daysAgo(3, 1800)}
	inv.Issued = inv.Collected.Add(time.Duration(4+g.rng.IntN(44)) * time.Hour)
	for _, a := range panel.results {
		span := a.high - a.low
		v := a.low - span*0.1 + g.rng.Float64()*span*1.2
		inv.Results = append(inv.Results, Result{ID: g.id(), Code: a.Code, Value: float64(int(v*10)) / 10, Unit: a.unit, Low: a.low, High: a.high})
	}
	return inv
}

func (g *clinicalGen) referral() Referral {
	r := Referral{ID: g.id(), Reason: pick(g, referralCatalogue), Priority: pick(g, []string{"routine", "routine", "urgent"}), Authored: g.daysAgo(10, 1200)}
	r.UBRN = fmt.Sprintf("%012d", g.rng.Int64N(1_000_000_000_000))
	r.Description = r.Reason.Display + " (synthetic)"
	return r
}
