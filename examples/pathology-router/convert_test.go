package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
)

var update = flag.Bool("update", false, "rewrite the golden bundles in testdata")

func oru(id, status string, obs ...hl7.OBX) *hl7.Message {
	at := time.Date(2025, 1, 1, 9, 30, 0, 0, time.UTC)
	return hl7.BuildORU(hl7.ORU{
		Header: hl7.Header{SendingApp: "LIMS", SendingFacility: "RXX01", ReceivingApp: "GPSYS", ReceivingFacility: "A12345",
			Time: at, ControlID: id, AcceptAck: "AL", AppAck: "NE"},
		PatientIDs: []hl7.CX{{ID: "9434765919", Authority: "NHS", Type: "NH"}, {ID: "12345", Authority: "RXX", Type: "MR"}},
		Family:     "SMITH", Given: "JANE", BirthDate: "19800101", Sex: "F",
		Placer: "PL123", Filler: "FL456", Service: hl7.CE{Code: "UE", Text: "Urea and electrolytes", System: "LOCAL"},
		Observed: at.Add(-time.Hour), Reported: at.Add(-time.Minute), Requester: "G1234567^DR^GP", Status: status,
		Observations: obs,
	})
}

func TestConvertGolden(t *testing.T) {
	na := hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "NA", Text: "Sodium", System: "LOCAL"}, Value: "150", Units: "mmol/L", Range: "133-146", Flag: "H"}
	k := hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "K", Text: "Potassium", System: "LOCAL"}, Value: "2.9", Units: "mmol/L", Range: "3.5-5.3", Flag: "LL"}
	tests := []struct {
		name, status, wantStatus string
		obs                      []hl7.OBX
	}{
		{"final-abnormal", "F", "final", []hl7.OBX{with(na, "F"), with(k, "F")}},
		{"preliminary", "P", "preliminary", []hl7.OBX{with(na, "P")}},
		{"corrected", "C", "corrected", []hl7.OBX{with(k, "C")}},
		{"cancelled", "X", "cancelled", []hl7.OBX{{ValueType: "NM", Code: na.Code, Status: "X"}}},
		{"escapes", "F", "final", []hl7.OBX{{ValueType: "ST", Code: hl7.CE{Code: "CMT", Text: "Comment & note", System: "LOCAL"},
			Value: `haemolysed | repeat ^ advised ~ see \ lab`, Status: "F", Range: "<5"}}},
		{"repeating-obx", "F", "final", []hl7.OBX{with(na, "F"), with(k, "F"), with(hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "UREA", Text: "Urea", System: "LOCAL"}, Value: "5.0", Units: "mmol/L", Range: "2.5-7.8"}, "F")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through the wire format, so escaping is exercised.
			m, err := hl7.Parse(oru("CTRL-"+tt.name, tt.status, tt.obs...).Bytes())
			require.NoError(t, err)
			res, err := convert(m)
			require.NoError(t, err)
			again, err := convert(m)
			require.NoError(t, err)
			require.Equal(t, string(res.Bundle), string(again.Bundle), "conversion is deterministic")
			require.Equal(t, uuid5("CTRL-"+tt.name), res.BundleID)
			require.Contains(t, string(res.Bundle), `"status": "`+tt.wantStatus+`"`)

			golden := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, res.Bundle, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestConvertGolden -update")
			require.Equal(t, string(want), string(res.Bundle))
		})
	}
}

func with(o hl7.OBX, status string) hl7.OBX { o.Status = status; return o }

func TestConvertUnusable(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(m *hl7.Message)
		field int
	}{
		{"no NHS number", func(m *hl7.Message) { require.NoError(t, m.Set("PID-3", "12345")) }, 3},
		{"bad check digit", func(m *hl7.Message) {
			require.NoError(t, m.Set("PID-3", "9434765918"))
			require.NoError(t, m.Set("PID-3.5", "NH"))
		}, 3},
		{"unknown status", func(m *hl7.Message) { require.NoError(t, m.Set("OBR-25", "Q")) }, 25},
		{"non-numeric NM", func(m *hl7.Message) { require.NoError(t, m.Set("OBX-5", "lots")) }, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := oru("CTRL1", "F", hl7.OBX{ValueType: "NM", Code: hl7.CE{Code: "NA"}, Value: "140", Status: "F"})
			tt.edit(m)
			_, err := convert(m)
			var ce *contentError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.field, ce.ack.Field)
		})
	}
}
