package synthetic

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// ObsValue is one observation of a result as far as its clinical content
// goes: the observation (analyte) code and its value.
type ObsValue struct{ Code, Value string }

// ResultContentHash is the identity of a result's clinical content — the
// patient's NHS number, the report (test) code and every observation's code
// and value — so that the same result re-sent under a new message id, or
// carried in another format (an HL7 v2 ORU^R01 here, a FHIR Bundle there),
// hashes the same and a re-minted id cannot hide a duplicate.
//
// It is the hex SHA-256 over the NHS number, the report code and the
// observations sorted by code (then by value), each field NUL-terminated.
// Codes and the NHS number are trimmed of surrounding spaces; each value is
// trimmed and, when it parses as a float, written in its shortest form
// (strconv.FormatFloat(v, 'g', -1, 64)), so "5.20", "5.2" and JSON's 5.2
// agree; any other value is taken as is. The order of obs does not matter.
func ResultContentHash(nhsNumber, reportCode string, obs []ObsValue) string {
	norm := make([]ObsValue, len(obs))
	for i, o := range obs {
		norm[i] = ObsValue{Code: strings.TrimSpace(o.Code), Value: NormaliseResultValue(o.Value)}
	}
	slices.SortFunc(norm, func(a, b ObsValue) int {
		return cmp.Or(strings.Compare(a.Code, b.Code), strings.Compare(a.Value, b.Value))
	})
	h := sha256.New()
	write := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	write(strings.TrimSpace(nhsNumber))
	write(strings.TrimSpace(reportCode))
	write(strconv.Itoa(len(norm)))
	for _, o := range norm {
		write(o.Code)
		write(o.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NormaliseResultValue is how ResultContentHash compares values: trimmed,
// and numbers in their shortest float form ("5.20" → "5.2", "150.0" →
// "150", "1e3" → "1000").
func NormaliseResultValue(v string) string {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return v
}
