package fhir

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name    string
		accept  string
		want    string
		wantErr bool
	}{
		{name: "empty accepts anything", accept: "", want: MediaTypeFHIRJSON},
		{name: "fhir json", accept: "application/fhir+json", want: MediaTypeFHIRJSON},
		{name: "fhir json with matching fhirVersion and charset", accept: "application/fhir+json; fhirVersion=3.0; charset=utf-8", want: MediaTypeFHIRJSON},
		{name: "fhir json with patch version", accept: "application/fhir+json;fhirVersion=3.0.1", want: MediaTypeFHIRJSON},
		{name: "plain json only", accept: "application/json", want: MediaTypeJSON},
		{name: "wildcard", accept: "*/*", want: MediaTypeFHIRJSON},
		{name: "application wildcard", accept: "application/*", want: MediaTypeFHIRJSON},
		{name: "legacy dstu2 spelling", accept: "application/json+fhir", want: MediaTypeFHIRJSON},
		{name: "xml then json", accept: "application/fhir+xml, application/json;q=0.5", want: MediaTypeJSON},
		{name: "prefers higher quality", accept: "application/fhir+json;q=0.2, application/json;q=0.9", want: MediaTypeJSON},
		{name: "case insensitive", accept: "Application/FHIR+JSON", want: MediaTypeFHIRJSON},
		{name: "quoted comma in parameter", accept: `application/fhir+json; x="a,b"`, want: MediaTypeFHIRJSON},
		{name: "garbage element skipped", accept: "%%%, application/fhir+json", want: MediaTypeFHIRJSON},
		{name: "xml only", accept: "application/fhir+xml", wantErr: true},
		{name: "text html", accept: "text/html", wantErr: true},
		{name: "q zero refuses", accept: "application/fhir+json;q=0", wantErr: true},
		{name: "wrong fhirVersion", accept: "application/fhir+json; fhirVersion=4.0", wantErr: true},
		{name: "wrong charset", accept: "application/fhir+json; charset=iso-8859-1", wantErr: true},
		{name: "bad quality", accept: "application/fhir+json;q=abc", wantErr: true},
		{name: "unparseable", accept: ";;;", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.accept, "3.0.1")
			if tt.wantErr {
				require.ErrorIs(t, err, ErrNotAcceptable)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCheckContentType(t *testing.T) {
	tests := []struct {
		name    string
		ct      string
		wantErr bool
	}{
		{name: "fhir json", ct: "application/fhir+json"},
		{name: "fhir json charset", ct: "application/fhir+json; charset=UTF-8"},
		{name: "fhir json version", ct: "application/fhir+json; fhirVersion=3.0"},
		{name: "plain json", ct: "application/json"},
		{name: "missing", ct: "", wantErr: true},
		{name: "xml", ct: "application/fhir+xml", wantErr: true},
		{name: "text", ct: "text/plain", wantErr: true},
		{name: "latin1", ct: "application/json; charset=latin1", wantErr: true},
		{name: "r4 body to stu3", ct: "application/fhir+json; fhirVersion=4.0", wantErr: true},
		{name: "malformed", ct: "application/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckContentType(tt.ct, "3.0.1")
			if tt.wantErr {
				require.ErrorIs(t, err, ErrUnsupportedMediaType)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestParseMediaType(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		essence string
		params  map[string]string
		wantErr bool
	}{
		{name: "bare", in: "application/fhir+json", essence: "application/fhir+json", params: map[string]string{}},
		{name: "params lower-cased names", in: "application/fhir+json; fhirVersion=3.0", essence: "application/fhir+json", params: map[string]string{"fhirversion": "3.0"}},
		{name: "empty", in: " ", wantErr: true},
		{name: "no subtype", in: "application", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, err := ParseMediaType(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.essence, mt.Essence())
			require.Equal(t, tt.params, mt.Params)
		})
	}
}

func TestDecodeParameters(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantErr  string // substring; empty means success
		wantPath string
		check    func(t *testing.T, p *Parameters)
	}{
		{
			name: "valid with scalars and resource",
			body: `{"resourceType":"Parameters","parameter":[{"name":"patient","valueIdentifier":{"system":"s","value":"9912003888"}},{"name":"days","valueUnsignedInt":0},{"name":"flag","valueBoolean":false},{"name":"shortlist","resource":{"resourceType":"List"}}]}`,
			check: func(t *testing.T, p *Parameters) {
				require.Equal(t, "9912003888", p.First("patient").ValueIdentifier.Value)
				require.NotNil(t, p.First("days").ValueUnsignedInt)
				require.Equal(t, int64(0), *p.First("days").ValueUnsignedInt)
				require.False(t, *p.First("flag").ValueBoolean)
				require.Equal(t, "List", PeekResourceType(p.First("shortlist").Resource))
				require.Nil(t, p.First("absent"))
				require.Equal(t, 1, p.Count("patient"))
				require.Equal(t, []int{1, 2, 3}, p.Unknown("patient"))
			},
		},
		{name: "empty body", body: "", wantErr: "body is empty"},
		{name: "whitespace body", body: "  \n", wantErr: "body is empty"},
		{name: "null body", body: "null", wantErr: "missing resourceType"},
		{name: "malformed json", body: `{"resourceType":"Parameters",`, wantErr: "JSON ends too soon"},
		{name: "syntax error", body: `{"resourceType":"Parameters" "x"}`, wantErr: "malformed JSON"},
		{name: "not an object", body: `[1,2]`, wantErr: "cannot be used here"},
		{name: "wrong resource type", body: `{"resourceType":"Bundle"}`, wantErr: `resourceType is "Bundle", want "Parameters"`, wantPath: "resourceType"},
		{name: "numeric resource type", body: `{"resourceType":7}`, wantErr: "resourceType must be a string"},
		{name: "missing resource type", body: `{"parameter":[]}`, wantErr: "missing resourceType"},
		{name: "unknown field", body: `{"resourceType":"Parameters","bogus":1}`, wantErr: `unexpected field "bogus"`, wantPath: "bogus"},
		{name: "wrong scalar type", body: `{"resourceType":"Parameters","parameter":[{"name":"a","valueBoolean":"yes"}]}`, wantErr: "want true or false", wantPath: "parameter.valueBoolean"},
		{name: "fractional unsignedInt", body: `{"resourceType":"Parameters","parameter":[{"name":"a","valueUnsignedInt":1.5}]}`, wantErr: "want an integer"},
		{name: "parameter not array", body: `{"resourceType":"Parameters","parameter":{"name":"a"}}`, wantErr: "want a JSON array"},
		{name: "nameless parameter", body: `{"resourceType":"Parameters","parameter":[{"valueString":"x"}]}`, wantErr: "needs a name", wantPath: "parameter[0].name"},
		{name: "trailing data", body: `{"resourceType":"Parameters"} {}`, wantErr: "unexpected data after"},
		{name: "trailing bracket", body: `{"resourceType":"Parameters"}]`, wantErr: "unexpected data after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodeParameters(strings.NewReader(tt.body), 0)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.True(t, IsDecodeError(err), "error should be a *DecodeError: %v", err)
				require.Contains(t, err.Error(), tt.wantErr)
				if tt.wantPath != "" {
					var de *DecodeError
					require.True(t, errors.As(err, &de))
					require.Equal(t, tt.wantPath, de.Path)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

func TestDecodeLimit(t *testing.T) {
	body := `{"resourceType":"Parameters","parameter":[{"name":"a","valueString":"` + strings.Repeat("x", 100) + `"}]}`
	_, err := DecodeParameters(strings.NewReader(body), 64)
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestOutcomeBuilder(t *testing.T) {
	tests := []struct {
		name        string
		b           OutcomeBuilder
		wantProfile bool
		wantUpdated bool
	}{
		{name: "profiled", b: OutcomeBuilder{Profile: "p", System: "s"}, wantProfile: true},
		{name: "last updated", b: OutcomeBuilder{System: "s", LastUpdated: func() string { return "2024-01-01T00:00:00Z" }}, wantUpdated: true},
		{name: "bare", b: OutcomeBuilder{System: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.b.Error(IssueRequired, "MISSING_HEADER", "Missing header", "Missing or Empty X header.")
			require.Equal(t, "OperationOutcome", o.ResourceType)
			require.Len(t, o.Issue, 1)
			require.Equal(t, "s", o.Issue[0].Details.Coding[0].System)
			require.Equal(t, "MISSING_HEADER: Missing or Empty X header.", o.Error())
			require.Equal(t, tt.wantProfile, o.Meta != nil && len(o.Meta.Profile) == 1)
			require.Equal(t, tt.wantUpdated, o.Meta != nil && o.Meta.LastUpdated != "")

			rec := httptest.NewRecorder()
			require.NoError(t, WriteJSON(rec, 400, "", o))
			require.Equal(t, 400, rec.Code)
			require.Equal(t, MediaTypeFHIRJSON, rec.Header().Get("Content-Type"))
			require.Contains(t, rec.Body.String(), `"resourceType":"OperationOutcome"`)
		})
	}
}
