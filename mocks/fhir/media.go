package fhir

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// Media types a FHIR JSON server speaks.
const (
	// MediaTypeFHIRJSON is the FHIR JSON media type (STU3 onwards).
	MediaTypeFHIRJSON = "application/fhir+json"
	// MediaTypeJSON is plain JSON, which FHIR servers also accept.
	MediaTypeJSON = "application/json"
	// mediaTypeLegacyFHIRJSON is the DSTU2 spelling some STU3 clients still send.
	mediaTypeLegacyFHIRJSON = "application/json+fhir"
)

// ErrNotAcceptable means no media type in an Accept header can be served
// (HTTP 406).
var ErrNotAcceptable = errors.New("not acceptable")

// ErrUnsupportedMediaType means a request body's Content-Type is not one the
// server reads (HTTP 415).
var ErrUnsupportedMediaType = errors.New("unsupported media type")

// MediaType is a parsed media type. Type, Subtype and parameter names are
// lower case; parameter values are kept as sent.
type MediaType struct {
	Type    string
	Subtype string
	Params  map[string]string
}

// Essence is "type/subtype" without parameters.
func (m MediaType) Essence() string { return m.Type + "/" + m.Subtype }

// String formats the media type with its parameters.
func (m MediaType) String() string {
	return mime.FormatMediaType(m.Essence(), m.Params)
}

// ParseMediaType parses one media type such as
// `application/fhir+json; fhirVersion=3.0; charset=utf-8`.
func ParseMediaType(s string) (MediaType, error) {
	if strings.TrimSpace(s) == "" {
		return MediaType{}, errors.New("parse media type: empty")
	}
	essence, params, err := mime.ParseMediaType(s)
	if err != nil {
		return MediaType{}, fmt.Errorf("parse media type %q: %w", s, err)
	}
	typ, sub, ok := strings.Cut(essence, "/")
	if !ok || typ == "" || sub == "" {
		return MediaType{}, fmt.Errorf("parse media type %q: want type/subtype", s)
	}
	if params == nil {
		params = map[string]string{}
	}
	return MediaType{Type: typ, Subtype: sub, Params: params}, nil
}

// AcceptRange is one element of an Accept header with its quality.
type AcceptRange struct {
	MediaType
	Q float64
}

// ParseAccept parses an Accept header into its ranges, in the order sent.
// Elements that cannot be parsed are reported in the error (joined) and left
// out of the result, so a caller can still negotiate on the rest.
func ParseAccept(header string) ([]AcceptRange, error) {
	var (
		out  []AcceptRange
		errs []error
	)
	for _, part := range splitOutsideQuotes(header, ',') {
		if strings.TrimSpace(part) == "" {
			continue
		}
		mt, err := ParseMediaType(part)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		q := 1.0
		if qs, ok := mt.Params["q"]; ok {
			v, err := strconv.ParseFloat(qs, 64)
			if err != nil || v < 0 || v > 1 {
				errs = append(errs, fmt.Errorf("parse accept %q: quality %q must be a number within 0..1", part, qs))
				continue
			}
			q = v
			delete(mt.Params, "q")
		}
		out = append(out, AcceptRange{MediaType: mt, Q: q})
	}
	return out, errors.Join(errs...)
}

// Negotiate chooses the media type to answer with for an Accept header. An
// empty header accepts anything. fhirVersion is the server's FHIR version
// ("3.0.1", "4.0.1"); a range carrying a fhirVersion parameter is acceptable
// only when it names the same major.minor version. A range with a charset
// parameter is acceptable only for UTF-8. It returns MediaTypeFHIRJSON unless
// the client accepts only plain JSON, and wraps ErrNotAcceptable otherwise.
func Negotiate(accept, fhirVersion string) (string, error) {
	if strings.TrimSpace(accept) == "" {
		return MediaTypeFHIRJSON, nil
	}
	ranges, perr := ParseAccept(accept)
	best, bestQ := "", 0.0
	for _, r := range ranges {
		if r.Q <= 0 || !paramsAcceptable(r.Params, fhirVersion) {
			continue
		}
		var offer string
		switch r.Essence() {
		case MediaTypeFHIRJSON, mediaTypeLegacyFHIRJSON, "application/*", "*/*":
			offer = MediaTypeFHIRJSON
		case MediaTypeJSON:
			offer = MediaTypeJSON
		default:
			continue
		}
		// Prefer higher quality; at equal quality prefer FHIR JSON.
		if r.Q > bestQ || (r.Q == bestQ && offer == MediaTypeFHIRJSON) {
			best, bestQ = offer, r.Q
		}
	}
	if best == "" {
		if perr != nil {
			return "", fmt.Errorf("negotiate %q: %w: %w", accept, ErrNotAcceptable, perr)
		}
		return "", fmt.Errorf("negotiate %q: %w: this server produces %s (or %s)", accept, ErrNotAcceptable, MediaTypeFHIRJSON, MediaTypeJSON)
	}
	return best, nil
}

// CheckContentType reports whether a request body of contentType can be
// read as FHIR JSON: application/fhir+json or application/json (or the DSTU2
// spelling application/json+fhir), with an optional UTF-8 charset and an
// optional fhirVersion matching the server's. It wraps
// ErrUnsupportedMediaType otherwise.
func CheckContentType(contentType, fhirVersion string) error {
	if strings.TrimSpace(contentType) == "" {
		return fmt.Errorf("content type: %w: missing Content-Type, want %s", ErrUnsupportedMediaType, MediaTypeFHIRJSON)
	}
	mt, err := ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type: %w: %w", ErrUnsupportedMediaType, err)
	}
	switch mt.Essence() {
	case MediaTypeFHIRJSON, MediaTypeJSON, mediaTypeLegacyFHIRJSON:
	default:
		return fmt.Errorf("content type %q: %w: want %s", contentType, ErrUnsupportedMediaType, MediaTypeFHIRJSON)
	}
	if !paramsAcceptable(mt.Params, fhirVersion) {
		return fmt.Errorf("content type %q: %w: charset must be utf-8 and fhirVersion must match %s", contentType, ErrUnsupportedMediaType, fhirVersion)
	}
	return nil
}

func paramsAcceptable(params map[string]string, fhirVersion string) bool {
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return false
	}
	if v, ok := params["fhirversion"]; ok && fhirVersion != "" && !sameMajorMinor(v, fhirVersion) {
		return false
	}
	return true
}

func sameMajorMinor(a, b string) bool {
	return majorMinor(a) == majorMinor(b)
}

func majorMinor(v string) string {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) == 1 {
		return parts[0] + ".0"
	}
	return parts[0] + "." + parts[1]
}

// splitOutsideQuotes splits s on sep, ignoring separators inside double
// quotes (with backslash escapes), as HTTP list headers require.
func splitOutsideQuotes(s string, sep rune) []string {
	var (
		out     []string
		start   int
		inQuote bool
		escaped bool
	)
	for i, c := range s {
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
