package synthetic

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Lab result statuses (HL7 OBR-25 / OBX-11).
const (
	LabFinal       = "F"
	LabPreliminary = "P"
	LabCorrected   = "C"
	LabCancelled   = "X"
)

// LabObservation is one analyte of a lab report, with synthetic local codes.
type LabObservation struct {
	Code, Display string
	ValueType     string // NM or ST
	Value         string // "" when the report is cancelled
	Units         string
	Range         string // "low-high" for NM
	// Flag is the HL7 abnormal flag: H, L, HH, LL, A or "" (normal).
	Flag   string
	Status string
}

// LabReport is one synthetic pathology report: what an ORU^R01 carries.
type LabReport struct {
	Patient Patient
	// ControlID is unique per report (the MSH-10 a sender would use).
	ControlID     string
	Placer        string // placer order number
	Filler        string // filler order number (the lab's accession)
	PanelCode     string // synthetic local code, e.g. FBC
	PanelDisplay  string
	Status        string // F, P, C or X
	Collected     time.Time
	Reported      time.Time
	Requester     string // GMC-style id^family^given of the requesting GP
	Observations  []LabObservation
	CodingSystem  string // the local coding system name
	PerformingLab string // ODS-style code of the lab
}

// LabCodingSystem names the synthetic local code system of LabReport codes.
const LabCodingSystem = "SHAKEDOWN-LOCAL"

type labAnalyte struct {
	code, display, units string
	lo, hi               float64
	decimals             int
}

var labPanels = []struct {
	code, display string
	analytes      []labAnalyte
}{
	{"FBC", "Full blood count", []labAnalyte{
		{"HB", "Haemoglobin", "g/L", 115, 165, 0},
		{"WBC", "White cell count", "10*9/L", 3.5, 11, 1},
		{"PLT", "Platelet count", "10*9/L", 150, 400, 0},
		{"MCV", "Mean cell volume", "fL", 80, 100, 0},
	}},
	{"UE", "Urea and electrolytes", []labAnalyte{
		{"NA", "Sodium", "mmol/L", 133, 146, 0},
		{"K", "Potassium", "mmol/L", 3.5, 5.3, 1},
		{"UREA", "Urea", "mmol/L", 2.5, 7.8, 1},
		{"CREA", "Creatinine", "umol/L", 49, 90, 0},
		{"EGFR", "eGFR", "mL/min/1.73m2", 60, 120, 0},
	}},
	{"HBA1C", "HbA1c", []labAnalyte{
		{"HBA1C", "HbA1c (IFCC)", "mmol/mol", 20, 41, 0},
	}},
	{"LFT", "Liver function tests", []labAnalyte{
		{"ALT", "Alanine transaminase", "U/L", 0, 40, 0},
		{"ALP", "Alkaline phosphatase", "U/L", 30, 130, 0},
		{"BILI", "Bilirubin", "umol/L", 0, 21, 0},
		{"ALB", "Albumin", "g/L", 35, 50, 0},
	}},
	{"TFT", "Thyroid function tests", []labAnalyte{
		{"TSH", "TSH", "mU/L", 0.27, 4.2, 2},
		{"FT4", "Free T4", "pmol/L", 12, 22, 1},
	}},
	{"LIPID", "Lipid profile", []labAnalyte{
		{"CHOL", "Total cholesterol", "mmol/L", 0, 5, 1},
		{"HDL", "HDL cholesterol", "mmol/L", 1, 3, 1},
		{"TRIG", "Triglycerides", "mmol/L", 0, 1.7, 1},
	}},
}

// LabReports yields synthetic lab reports in a seeded order: patients from
// the 999 test range registered at one practice, unique control ids and
// order numbers, statuses mostly final with some preliminary, corrected and
// cancelled, and values that fall outside their ranges often enough to carry
// every abnormal flag. It is safe for concurrent use.
type LabReports struct {
	mu       sync.Mutex
	rng      *rand.Rand
	patients *Patients
	pool     []Patient
	start    time.Time
	n        int
	lab      string
	prefix   string
}

// DefaultLabPatients is how many distinct patients LabReports draws from.
const DefaultLabPatients = 40

// NewLabReports returns a generator for results addressed to practice,
// reported from start onwards. Reports are spread over DefaultLabPatients
// patients (see Patients).
func NewLabReports(seed uint64, practice string, start time.Time) *LabReports {
	g := &LabReports{
		rng:      rand.New(rand.NewPCG(seed, 0x1ab)),
		patients: NewPatients(seed, practice),
		start:    start,
		lab:      fmt.Sprintf("YL%03d", rand.New(rand.NewPCG(seed, 0x1ab0)).IntN(1000)),
		prefix:   fmt.Sprintf("%04X", rand.New(rand.NewPCG(seed, 0x1ab1)).IntN(1<<16)),
	}
	for range DefaultLabPatients {
		g.pool = append(g.pool, g.patients.Next())
	}
	return g
}

// Patients returns the patients reports are drawn from.
func (g *LabReports) Patients() []Patient {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Patient(nil), g.pool...)
}

// Lab returns the performing lab's code.
func (g *LabReports) Lab() string { return g.lab }

// Next returns the next report.
func (g *LabReports) Next() LabReport {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	r := g.rng
	panel := labPanels[r.IntN(len(labPanels))]
	status := LabFinal
	switch x := r.IntN(100); {
	case x < 12:
		status = LabPreliminary
	case x < 20:
		status = LabCorrected
	case x < 25:
		status = LabCancelled
	}
	collected := g.start.Add(time.Duration(g.n)*time.Minute - time.Duration(2+r.IntN(20))*time.Hour).Truncate(time.Second)
	rep := LabReport{
		Patient:       g.pool[r.IntN(len(g.pool))],
		ControlID:     fmt.Sprintf("%s%08d", g.prefix, g.n),
		Placer:        fmt.Sprintf("PL%07d", r.IntN(10_000_000)),
		Filler:        fmt.Sprintf("%s-%s%06d", g.lab, g.prefix, g.n),
		PanelCode:     panel.code,
		PanelDisplay:  panel.display,
		Status:        status,
		Collected:     collected,
		Reported:      g.start.Add(time.Duration(g.n) * time.Minute).Truncate(time.Second),
		Requester:     fmt.Sprintf("G%07d^%s^%s", r.IntN(10_000_000), families[r.IntN(len(families))], givens[r.IntN(len(givens))]),
		CodingSystem:  LabCodingSystem,
		PerformingLab: g.lab,
	}
	for _, a := range panel.analytes {
		rep.Observations = append(rep.Observations, g.observation(a, status))
	}
	if status != LabCancelled && r.IntN(10) == 0 {
		// A qualitative result flagged abnormal.
		rep.Observations = append(rep.Observations, LabObservation{
			Code: "MORPH", Display: "Film comment", ValueType: "ST",
			Value: "Abnormal film: referred for review", Flag: "A", Status: status,
		})
	}
	return rep
}

func (g *LabReports) observation(a labAnalyte, status string) LabObservation {
	o := LabObservation{
		Code: a.code, Display: a.display, ValueType: "NM", Units: a.units, Status: status,
		Range: fmtNum(a.lo, a.decimals) + "-" + fmtNum(a.hi, a.decimals),
	}
	if status == LabCancelled {
		return o
	}
	span := a.hi - a.lo
	var v float64
	switch x := g.rng.IntN(100); {
	case x < 4:
		v, o.Flag = a.lo-span*(0.4+g.rng.Float64()*0.2), "LL"
	case x < 12:
		v, o.Flag = a.lo-span*(0.02+g.rng.Float64()*0.15), "L"
	case x < 20:
		v, o.Flag = a.hi+span*(0.02+g.rng.Float64()*0.2), "H"
	case x < 24:
		v, o.Flag = a.hi+span*(0.6+g.rng.Float64()*0.5), "HH"
	default:
		v = a.lo + span*(0.05+g.rng.Float64()*0.9)
	}
	if v < 0 {
		v, o.Flag = 0, "L"
		if a.lo == 0 {
			o.Flag = ""
		}
	}
	o.Value = fmtNum(v, a.decimals)
	return o
}

func fmtNum(v float64, decimals int) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
