package fhir

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzNegotiate checks that any Accept / Content-Type header is either
// accepted or refused with the right sentinel error, without panicking.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "application/fhir+json", "application/fhir+json; fhirVersion=3.0", "*/*;q=0.1", `a/b; x="1,2"`, "text/html, application/json;q=0.5", ";;;", "application/fhir+json;q=abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got, err := Negotiate(header, "3.0.1")
		if err == nil && got != MediaTypeFHIRJSON && got != MediaTypeJSON {
			t.Fatalf("Negotiate(%q) = %q", header, got)
		}
		if err := CheckContentType(header, "3.0.1"); err != nil && !strings.Contains(err.Error(), ErrUnsupportedMediaType.Error()) {
			t.Fatalf("CheckContentType(%q) error without sentinel: %v", header, err)
		}
		_, _ = ParseAccept(header)
	})
}

// FuzzDecodeParameters checks that decoding never panics, that every failure
// is a *DecodeError, and that a success re-encodes and decodes to the same
// parameter names.
func FuzzDecodeParameters(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Parameters","parameter":[{"name":"listType","valueCodeableConcept":{"coding":[{"system":"s","code":"AWAITING_BOOKING"}]}}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"patient","valueIdentifier":{"system":"http://fhir.nhs.net/Id/nhs-number","value":"9912003888"}},{"name":"shortlist","resource":{"resourceType":"List"}}]}`,
		`{"resourceType":"Parameters"}`,
		`{"resourceType":"Bundle"}`,
		`{`,
		``,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodeParameters(bytes.NewReader(body), 1<<16)
		if err != nil {
			if !IsDecodeError(err) {
				t.Fatalf("error is not a *DecodeError: %T %v", err, err)
			}
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		p2, err := DecodeParameters(bytes.NewReader(b), 1<<17)
		if err != nil {
			t.Fatalf("decode re-encoded %s: %v", b, err)
		}
		if len(p2.Parameter) != len(p.Parameter) {
			t.Fatalf("round trip changed parameter count %d -> %d", len(p.Parameter), len(p2.Parameter))
		}
	})
}
