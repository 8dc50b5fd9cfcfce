package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Delimiters are a message's encoding characters: MSH-1 and MSH-2.
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
}

// DefaultDelimiters are |^~\& as the standard recommends.
var DefaultDelimiters = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}

// encoding returns MSH-2.
func (d Delimiters) encoding() string {
	return string([]byte{d.Component, d.Repetition, d.Escape, d.Subcomponent})
}

func (d Delimiters) validate() error {
	all := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent}
	for i, c := range all {
		if c <= ' ' || c >= 0x7f || isAlnum(c) {
			return fmt.Errorf("encoding character %q is not a printable non-alphanumeric ASCII character", c)
		}
		for _, o := range all[:i] {
			if o == c {
				return fmt.Errorf("encoding character %q is used twice in %q", c, string(all))
			}
		}
	}
	return nil
}

// Component holds a component's subcomponents (unescaped values).
type Component []string

// Repetition holds one repetition's components.
type Repetition []Component

// Field holds a field's repetitions. A field with no value is a Field with
// one repetition of one empty component; Field(nil) is treated the same.
type Field []Repetition

// Value returns a field holding the single value s.
func Value(s string) Field { return Field{Repetition{Component{s}}} }

// Comps returns a field with one repetition holding the given components.
func Comps(cs ...string) Field {
	r := make(Repetition, len(cs))
	for i, c := range cs {
		r[i] = Component{c}
	}
	return Field{r}
}

// Repeat joins fields into one field whose repetitions are theirs in order.
func Repeat(fs ...Field) Field {
	var out Field
	for _, f := range fs {
		out = append(out, f...)
	}
	return out
}

// Segment is one segment. Fields[0] is field 1 (for MSH, MSH-1, the field
// separator; Fields[1] is MSH-2, the encoding characters; both are written
// from the message's Delimiters, not from these values).
type Segment struct {
	Name   string
	Fields []Field
}

// Field returns field n (1-based), or nil when the segment is shorter.
func (s *Segment) Field(n int) Field {
	if n < 1 || n > len(s.Fields) {
		return nil
	}
	return s.Fields[n-1]
}

// Message is a parsed or built HL7 v2 message.
type Message struct {
	Delims   Delimiters
	Segments []*Segment
}

// NewMessage returns a message with default delimiters and no segments.
func NewMessage() *Message { return &Message{Delims: DefaultDelimiters} }

// Add appends a segment whose fields start at field 1. For MSH, pass fields
// from MSH-3 on: MSH-1 and MSH-2 are filled from the delimiters.
func (m *Message) Add(name string, fields ...Field) *Segment {
	s := &Segment{Name: name}
	if name == "MSH" {
		s.Fields = append([]Field{Value(string(m.Delims.Field)), Value(m.Delims.encoding())}, fields...)
	} else {
		s.Fields = fields
	}
	m.Segments = append(m.Segments, s)
	return s
}

// All returns every segment called name, in order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for _, s := range m.Segments {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Segment returns the first segment called name, or nil.
func (m *Message) Segment(name string) *Segment {
	for _, s := range m.Segments {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ControlID is MSH-10.
func (m *Message) ControlID() string { return m.Get("MSH-10") }

// Type is MSH-9.1^MSH-9.2, for example "ORU^R01".
func (m *Message) Type() string { return m.Get("MSH-9.1") + "^" + m.Get("MSH-9.2") }

// Version is MSH-12.1.
func (m *Message) Version() string { return m.Get("MSH-12.1") }

// Path addresses one element of a message.
type Path struct {
	Segment    string
	Occurrence int // 1-based; which segment of that name
	Field      int // 1-based
	// Repetition is 1-based. A path that names no repetition and no
	// component ("PID-3") reads the whole field, every repetition.
	Repetition int
	// Component and Subcomponent are 1-based; 0 means "the whole thing".
	Component, Subcomponent int

	repSet bool // the path named a repetition
}

// ParsePath reads "SEG[n]-F[r].C.S"; everything after the field is optional.
func ParsePath(p string) (Path, error) {
	out := Path{Occurrence: 1, Repetition: 1}
	bad := func(why string) (Path, error) {
		return Path{}, fmt.Errorf("hl7: path %q: %s (want SEG[n]-F[r].C.S, e.g. PID-3[1].1)", p, why)
	}
	seg, rest, ok := strings.Cut(p, "-")
	if !ok {
		return bad("no field number")
	}
	if name, occ, ok := strings.Cut(seg, "["); ok {
		n, err := bracket(occ)
		if err != nil {
			return bad("segment occurrence: " + err.Error())
		}
		seg, out.Occurrence = name, n
	}
	if len(seg) != 3 {
		return bad("segment name must be 3 characters")
	}
	out.Segment = seg
	parts := strings.Split(rest, ".")
	if len(parts) > 3 {
		return bad("too many dots")
	}
	f := parts[0]
	if name, rep, ok := strings.Cut(f, "["); ok {
		n, err := bracket(rep)
		if err != nil {
			return bad("repetition: " + err.Error())
		}
		f, out.Repetition, out.repSet = name, n, true
	}
	var err error
	if out.Field, err = positive(f); err != nil {
		return bad("field: " + err.Error())
	}
	if len(parts) > 1 {
		if out.Component, err = positive(parts[1]); err != nil {
			return bad("component: " + err.Error())
		}
	}
	if len(parts) > 2 {
		if out.Subcomponent, err = positive(parts[2]); err != nil {
			return bad("subcomponent: " + err.Error())
		}
	}
	return out, nil
}

func bracket(s string) (int, error) {
	inner, ok := strings.CutSuffix(s, "]")
	if !ok {
		return 0, errors.New("missing ]")
	}
	return positive(inner)
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive number", s)
	}
	return n, nil
}

// Get returns the element at path, or "" when it is absent or the path is
// malformed. A single value (a subcomponent, or anything holding only one
// value) is returned unescaped; anything holding more is returned encoded
// with the message's delimiters ("ORU^R01^ORU_R01" for MSH-9). Address a
// value down to its component to read it unambiguously.
func (m *Message) Get(path string) string {
	p, err := ParsePath(path)
	if err != nil {
		return ""
	}
	return m.GetPath(p)
}

// GetPath is Get with a parsed path.
func (m *Message) GetPath(p Path) string {
	segs := m.All(p.Segment)
	if p.Occurrence > len(segs) {
		return ""
	}
	s := segs[p.Occurrence-1]
	if s.Name == "MSH" && p.Field <= 2 {
		if p.Field == 1 {
			return string(m.Delims.Field)
		}
		return m.Delims.encoding()
	}
	f := s.Field(p.Field)
	if p.Repetition > len(f) {
		return ""
	}
	e := encoder{d: m.Delims}
	if p.Component == 0 {
		if !p.repSet && len(f) > 1 {
			// "PID-3" on a repeating field: the whole field.
			var b bytes.Buffer
			e.field(&b, f)
			return b.String()
		}
		r := f[p.Repetition-1]
		if len(r) == 1 && len(r[0]) == 1 {
			return r[0][0]
		}
		var b bytes.Buffer
		e.repetition(&b, r)
		return b.String()
	}
	r := f[p.Repetition-1]
	if p.Component > len(r) {
		return ""
	}
	c := r[p.Component-1]
	if p.Subcomponent == 0 {
		if len(c) == 1 {
			return c[0]
		}
		var b bytes.Buffer
		e.component(&b, c)
		return b.String()
	}
	if p.Subcomponent > len(c) {
		return ""
	}
	return c[p.Subcomponent-1]
}

// Set stores value (unescaped) at path, growing the segment, field,
// repetition and component as needed. The segment must exist; a missing
// occurrence is an error. MSH-1 and MSH-2 cannot be set (set Delims).
func (m *Message) Set(path, value string) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	segs := m.All(p.Segment)
	if p.Occurrence > len(segs) {
		return fmt.Errorf("hl7: set %s: the message has %d %s segments", path, len(segs), p.Segment)
	}
	s := segs[p.Occurrence-1]
	if s.Name == "MSH" && p.Field <= 2 {
		return fmt.Errorf("hl7: set %s: MSH-1 and MSH-2 come from the message's delimiters", path)
	}
	for len(s.Fields) < p.Field {
		s.Fields = append(s.Fields, Value(""))
	}
	f := s.Fields[p.Field-1]
	for len(f) < p.Repetition {
		f = append(f, Repetition{Component{""}})
	}
	r := f[p.Repetition-1]
	comp := max(p.Component, 1)
	for len(r) < comp {
		r = append(r, Component{""})
	}
	c := r[comp-1]
	sub := max(p.Subcomponent, 1)
	for len(c) < sub {
		c = append(c, "")
	}
	if p.Component == 0 {
		r = Repetition{Component{value}}
	} else if p.Subcomponent == 0 {
		r[comp-1] = Component{value}
	} else {
		c[sub-1] = value
		r[comp-1] = c
	}
	f[p.Repetition-1] = r
	s.Fields[p.Field-1] = f
	return nil
}

// String encodes the message with its delimiters, segments separated by CR
// (and a CR after the last segment).
func (m *Message) String() string { return string(m.Bytes()) }

// Bytes is String as bytes.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	e := encoder{d: m.Delims}
	for _, s := range m.Segments {
		b.WriteString(s.Name)
		fields := s.Fields
		if s.Name == "MSH" {
			b.WriteByte(m.Delims.Field)
			b.WriteString(m.Delims.encoding())
			if len(fields) > 2 {
				fields = fields[2:]
			} else {
				fields = nil
			}
		}
		for _, f := range fields {
			b.WriteByte(m.Delims.Field)
			e.field(&b, f)
		}
		b.WriteByte('\r')
	}
	return b.Bytes()
}

type encoder struct{ d Delimiters }

func (e encoder) field(b *bytes.Buffer, f Field) {
	for i, r := range f {
		if i > 0 {
			b.WriteByte(e.d.Repetition)
		}
		e.repetition(b, r)
	}
}

func (e encoder) repetition(b *bytes.Buffer, r Repetition) {
	for i, c := range r {
		if i > 0 {
			b.WriteByte(e.d.Component)
		}
		e.component(b, c)
	}
}

func (e encoder) component(b *bytes.Buffer, c Component) {
	for i, s := range c {
		if i > 0 {
			b.WriteByte(e.d.Subcomponent)
		}
		b.WriteString(Escape(s, e.d))
	}
}

// Escape encodes s for use as one value under d: delimiters become \F\ \S\
// \T\ \R\ \E\, "\n" becomes \.br\ and other control bytes become \Xhh\.
func Escape(s string, d Delimiters) string {
	var b strings.Builder
	esc := string(d.Escape)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == d.Field:
			b.WriteString(esc + "F" + esc)
		case c == d.Component:
			b.WriteString(esc + "S" + esc)
		case c == d.Subcomponent:
			b.WriteString(esc + "T" + esc)
		case c == d.Repetition:
			b.WriteString(esc + "R" + esc)
		case c == d.Escape:
			b.WriteString(esc + "E" + esc)
		case c == '\n':
			b.WriteString(esc + ".br" + esc)
		case c < 0x20 && c != '\t' || c == 0x7f:
			fmt.Fprintf(&b, "%sX%02X%s", esc, c, esc)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Unescape decodes the escape sequences in one encoded value. Sequences it
// does not interpret, and an escape character with no closing one, are
// kept verbatim.
func Unescape(s string, d Delimiters) string {
	if strings.IndexByte(s, d.Escape) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != d.Escape {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], d.Escape)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+end]
		switch {
		case seq == "F":
			b.WriteByte(d.Field)
		case seq == "S":
			b.WriteByte(d.Component)
		case seq == "T":
			b.WriteByte(d.Subcomponent)
		case seq == "R":
			b.WriteByte(d.Repetition)
		case seq == "E":
			b.WriteByte(d.Escape)
		case seq == ".br":
			b.WriteByte('\n')
		case len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1 && isHex(seq[1:]):
			for j := 1; j < len(seq); j += 2 {
				v, _ := strconv.ParseUint(seq[j:j+2], 16, 8)
				b.WriteByte(byte(v))
			}
		default:
			b.WriteString(s[i : i+end+2])
		}
		i += end + 1
	}
	return b.String()
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
