package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultBodyLimit is a sensible request-body limit for FHIR JSON mocks.
const DefaultBodyLimit = 4 << 20

// ErrTooLarge is wrapped by a DecodeError when the body exceeds the limit.
var ErrTooLarge = errors.New("body too large")

// DecodeError explains why a JSON body could not be decoded, and where.
type DecodeError struct {
	// Op names what was being decoded ("decode Parameters").
	Op string
	// Offset is the byte offset of the problem, or -1 when unknown.
	Offset int64
	// Path is the JSON field path of the problem ("parameter.valueBoolean"),
	// when known.
	Path string
	// Msg is a human explanation.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Path != "" {
		fmt.Fprintf(&b, ": field %q", e.Path)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, ": at byte %d", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ReadBody reads at most limit bytes (DefaultBodyLimit when limit <= 0).
func ReadBody(r io.Reader, limit int64, op string) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &DecodeError{Op: op, Offset: -1, Msg: "reading body: " + err.Error(), Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &DecodeError{Op: op, Offset: limit, Msg: fmt.Sprintf("body exceeds %d bytes", limit), Err: ErrTooLarge}
	}
	return b, nil
}

// Decode decodes exactly one JSON value from b into v. strict rejects
// unknown object fields. Errors are *DecodeError.
func Decode(b []byte, strict bool, op string, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &DecodeError{Op: op, Offset: 0, Msg: "body is empty, want a JSON resource"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return explain(op, dec, err)
	}
	if dec.More() {
		return &DecodeError{Op: op, Offset: dec.InputOffset(), Msg: "unexpected data after the JSON resource"}
	}
	// Decoder.More treats a stray closing bracket as the end of input;
	// make sure only whitespace remains.
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return &DecodeError{Op: op, Offset: dec.InputOffset(), Msg: "unexpected data after the JSON resource"}
	}
	return nil
}

// DecodeResource reads a resource of at most limit bytes from r, checks that
// its resourceType is resourceType, and decodes it into v.
func DecodeResource(r io.Reader, limit int64, resourceType string, strict bool, v any) error {
	op := "decode " + resourceType
	b, err := ReadBody(r, limit, op)
	if err != nil {
		return err
	}
	if err := checkResourceType(b, resourceType, op); err != nil {
		return err
	}
	return Decode(b, strict, op, v)
}

// DecodeRaw checks the resourceType of an embedded resource and decodes it.
func DecodeRaw(raw json.RawMessage, resourceType string, strict bool, v any) error {
	op := "decode " + resourceType
	if err := checkResourceType(raw, resourceType, op); err != nil {
		return err
	}
	return Decode(raw, strict, op, v)
}

func checkResourceType(b []byte, want, op string) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &DecodeError{Op: op, Offset: 0, Msg: fmt.Sprintf("body is empty, want a %s resource", want)}
	}
	var h struct {
		ResourceType json.RawMessage `json:"resourceType"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&h); err != nil {
		return explain(op, dec, err)
	}
	if len(h.ResourceType) == 0 {
		return &DecodeError{Op: op, Offset: -1, Path: "resourceType", Msg: fmt.Sprintf("missing resourceType, want %q", want)}
	}
	var got string
	if err := json.Unmarshal(h.ResourceType, &got); err != nil {
		return &DecodeError{Op: op, Offset: -1, Path: "resourceType", Msg: "resourceType must be a string"}
	}
	if got != want {
		return &DecodeError{Op: op, Offset: -1, Path: "resourceType", Msg: fmt.Sprintf("resourceType is %q, want %q", got, want)}
	}
	return nil
}

func explain(op string, dec *json.Decoder, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return &DecodeError{Op: op, Offset: syn.Offset, Msg: "malformed JSON: " + syn.Error(), Err: err}
	case errors.As(err, &typ):
		return &DecodeError{Op: op, Offset: typ.Offset, Path: typ.Field,
			Msg: fmt.Sprintf("JSON %s cannot be used here, want %s", typ.Value, goTypeName(typ.Type.String())), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &DecodeError{Op: op, Offset: dec.InputOffset(), Msg: "JSON ends too soon", Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &DecodeError{Op: op, Offset: dec.InputOffset(), Path: field, Msg: "unexpected field " + strconvQuote(field), Err: err}
	default:
		return &DecodeError{Op: op, Offset: dec.InputOffset(), Msg: err.Error(), Err: err}
	}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

func goTypeName(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a JSON array"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "map"), strings.Contains(t, "."):
		return "a JSON object"
	default:
		return t
	}
}

// IsDecodeError reports whether err is (or wraps) a *DecodeError.
func IsDecodeError(err error) bool {
	var d *DecodeError
	return errors.As(err, &d)
}
