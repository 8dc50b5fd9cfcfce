package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRules(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	days := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	lbp := func(onset time.Time) problem {
		return problem{codes: []string{"279039007"}, display: "Low back pain", active: true, onset: onset}
	}
	mri := order{id: "1", codes: []string{"72148"}, text: "MRI lumbar spine"}
	mriByText := order{id: "1", text: "Magnetic resonance imaging of lumbar spine"}
	mriWithReason := order{id: "1", text: "MRI lumbar spine", reasons: []string{"279039007"}}
	ctHead := order{id: "2", codes: []string{"70450"}, text: "CT head"}
	crp := func(v float64, when time.Time) observation {
		return observation{display: "Serum C-reactive protein level", value: v, hasValue: true, unit: "mg/L", when: when}
	}
	tests := []struct {
		name  string
		order order
		rec   record
		want  string
		rule  string
	}{
		{name: "MRI lumbar, back pain 2 weeks, no red flags", order: mri, rec: record{problems: []problem{lbp(days(14))}}, want: ratingNotAppropriate, rule: "lumbar-spine"},
		{name: "matched by text alone", order: mriByText, rec: record{problems: []problem{lbp(days(14))}}, want: ratingNotAppropriate, rule: "lumbar-spine"},
		{name: "MRI lumbar, back pain 2 weeks, history of cancer", order: mri,
			rec:  record{problems: []problem{lbp(days(14)), {display: "Malignant neoplasm of breast", active: true}}},
			want: ratingAppropriate},
		{name: "red flag by SNOMED code (cauda equina)", order: mri,
			rec:  record{problems: []problem{lbp(days(10)), {codes: []string{"192970008"}, display: "x", active: true}}},
			want: ratingAppropriate},
		{name: "resolved red flag does not count", order: mri,
			rec:  record{problems: []problem{lbp(days(10)), {display: "Fracture of vertebra", active: false}}},
			want: ratingNotAppropriate},
		{name: "raised CRP last month is a red flag", order: mri,
			rec: record{problems: []problem{lbp(days(14))}, observations: []observation{crp(48, days(30))}}, want: ratingAppropriate},
		{name: "raised CRP a year ago is not recent", order: mri,
			rec: record{problems: []problem{lbp(days(14))}, observations: []observation{crp(48, days(365))}}, want: ratingNotAppropriate},
		{name: "normal CRP", order: mri,
			rec: record{problems: []problem{lbp(days(14))}, observations: []observation{crp(3, days(5))}}, want: ratingNotAppropriate},
		{name: "back pain for 8 weeks", order: mri, rec: record{problems: []problem{lbp(days(56))}}, want: ratingAppropriate},
		{name: "earliest onset of the indication counts", order: mri, rec: record{problems: []problem{lbp(days(3)), lbp(days(70))}}, want: ratingAppropriate},
		{name: "indication only on the order, onset unknown", order: mriWithReason, rec: record{}, want: ratingNoGuidelines},
		{name: "no indication at all", order: mri, rec: record{problems: []problem{{display: "Asthma", active: true}}}, want: ratingNoGuidelines, rule: "lumbar-spine"},
		{name: "CT head for headache, no red flags", order: ctHead, rec: record{problems: []problem{{codes: []string{"25064002"}, display: "Headache", active: true, onset: days(2)}}}, want: ratingNotAppropriate, rule: "ct-head"},
		{name: "CT head for headache after head injury", order: ctHead,
			rec:  record{problems: []problem{{display: "Headache", active: true}, {display: "Head injury", active: true}}},
			want: ratingAppropriate},
		{name: "unknown procedure", order: order{id: "3", codes: []string{"73721"}, text: "MRI knee"}, rec: record{problems: []problem{lbp(days(14))}}, want: ratingNoGuidelines},
		{name: "'ct' inside another word does not match", order: order{id: "4", text: "Lumbar dissection study"}, want: ratingNoGuidelines},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rate(tc.order, tc.rec, now)
			require.Equal(t, tc.want, got.code, "reason: %s", got.reason)
			require.NotEmpty(t, got.reason)
			if tc.rule != "" {
				require.Equal(t, tc.rule, got.rule)
			}
		})
	}
}

func TestSanitise(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{name: "plain", in: "Low back pain", max: 140, want: "Low back pain"},
		{name: "control characters and newlines", in: "Low\x1b[31m back\r\n\tpain\x00", max: 140, want: "Low [31m back pain"},
		{name: "bidi override stripped", in: "abc\u202edef", max: 140, want: "abc def"},
		{name: "clamped with an ellipsis", in: "abcdefghij", max: 5, want: "abcd…"},
		{name: "invalid UTF-8 replaced", in: "a\xffb", max: 140, want: "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, sanitise(tc.in, tc.max))
		})
	}
}

func TestParseRecordTypes(t *testing.T) {
	onset := time.Now().Add(-24 * time.Hour)
	tests := []struct {
		name    string
		body    []byte
		wantErr bool
	}{
		{name: "good record", body: bundleOf(condition("279039007", "Low back pain", onset), observationOf("CRP", 4, "mg/L", onset))},
		{name: "display is a number", body: bundleOf(condition("279039007", 1, onset)), wantErr: true},
		{name: "code is a list", body: []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition","code":[]}}]}`), wantErr: true},
		{name: "observation value is a string", body: []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":"high"}}}]}`), wantErr: true},
		{name: "resourceType is a number", body: []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":7}}]}`), wantErr: true},
		{name: "unknown resources are ignored", body: []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Weird","code":7}}]}`)},
		{name: "not JSON", body: []byte(`<html>`), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseRecord(tc.body)
			if tc.wantErr {
				require.ErrorIs(t, err, errMalformedRecord)
			} else {
				require.NoError(t, err)
			}
		})
	}
}
