package hl7

import (
	"bytes"
	"fmt"
)

// ParseError says where a message is malformed. Segment is the 1-based
// position of the segment in the message (0 when the problem is not inside a
// segment), Field the 1-based field number (0 when not inside a field).
type ParseError struct {
	Segment int
	Name    string
	Field   int
	Msg     string
}

func (e *ParseError) Error() string {
	switch {
	case e.Segment == 0:
		return "hl7: " + e.Msg
	case e.Field == 0:
		return fmt.Sprintf("hl7: segment %d (%s): %s", e.Segment, e.Name, e.Msg)
	}
	return fmt.Sprintf("hl7: segment %d (%s) field %d (%s-%d): %s", e.Segment, e.Name, e.Field, e.Name, e.Field, e.Msg)
}

// Parse reads one HL7 v2 message. It must start with an MSH segment, whose
// MSH-1 and MSH-2 set the delimiters for the rest of the message. Segments
// are separated by CR; LF and CRLF are accepted too, and empty lines are
// skipped. Segment names must be three upper-case letters or digits, and no
// field may hold a control byte other than TAB (an MLLP block byte inside a
// message is the usual sign of broken framing).
func Parse(data []byte) (*Message, error) {
	data = bytes.TrimLeft(data, "\r\n")
	if len(data) == 0 {
		return nil, &ParseError{Msg: "empty message"}
	}
	if !bytes.HasPrefix(data, []byte("MSH")) {
		return nil, &ParseError{Segment: 1, Name: name3(data), Msg: "a message must start with an MSH segment"}
	}
	if len(data) < 4 {
		return nil, &ParseError{Segment: 1, Name: "MSH", Field: 1, Msg: "missing field separator (MSH-1)"}
	}
	d := Delimiters{Field: data[3]}
	rest := data[4:]
	end := bytes.IndexByte(rest, d.Field)
	line := bytes.IndexAny(rest, "\r\n")
	if end < 0 || (line >= 0 && line < end) {
		return nil, &ParseError{Segment: 1, Name: "MSH", Field: 2, Msg: fmt.Sprintf("encoding characters (MSH-2) not closed by the field separator %q", d.Field)}
	}
	enc := rest[:end]
	if len(enc) != 4 && len(enc) != 5 {
		return nil, &ParseError{Segment: 1, Name: "MSH", Field: 2, Msg: fmt.Sprintf("encoding characters (MSH-2) %q must be 4 characters (component, repetition, escape, subcomponent), or 5 with truncation", enc)}
	}
	d.Component, d.Repetition, d.Escape, d.Subcomponent = enc[0], enc[1], enc[2], enc[3]
	if err := d.validate(); err != nil {
		return nil, &ParseError{Segment: 1, Name: "MSH", Field: 2, Msg: err.Error()}
	}
	m := &Message{Delims: d}
	n := 0
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		var seg []byte
		if i < 0 {
			seg, data = data, nil
		} else {
			seg, data = data[:i], data[i+1:]
		}
		if len(seg) == 0 {
			continue
		}
		n++
		s, err := parseSegment(seg, n, d)
		if err != nil {
			return nil, err
		}
		m.Segments = append(m.Segments, s)
	}
	return m, nil
}

func name3(b []byte) string {
	if len(b) > 3 {
		b = b[:3]
	}
	return fmt.Sprintf("%q", b)
}

func parseSegment(seg []byte, n int, d Delimiters) (*Segment, error) {
	if len(seg) < 3 {
		return nil, &ParseError{Segment: n, Name: string(seg), Msg: fmt.Sprintf("segment %q is too short for a three-character name", seg)}
	}
	name := string(seg[:3])
	for i := range 3 {
		c := seg[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return nil, &ParseError{Segment: n, Name: fmt.Sprintf("%q", name), Msg: "segment name must be three upper-case letters or digits"}
		}
	}
	if len(seg) > 3 && seg[3] != d.Field {
		return nil, &ParseError{Segment: n, Name: name, Msg: fmt.Sprintf("segment name must be followed by the field separator %q, got %q", d.Field, seg[3])}
	}
	s := &Segment{Name: name}
	body := seg[min(len(seg), 4):]
	first := 1
	if name == "MSH" {
		if n != 1 {
			return nil, &ParseError{Segment: n, Name: name, Msg: "a second MSH segment: two messages run together (check the MLLP framing)"}
		}
		s.Fields = []Field{Value(string(d.Field)), Value(d.encoding())}
		// Skip MSH-2 and its closing separator.
		body = body[len(bytesUntil(body, d.Field)):]
		if len(body) == 0 {
			return s, nil
		}
		body = body[1:]
		first = 3
	}
	if len(seg) == 3 {
		return s, nil
	}
	for k, raw := range bytes.Split(body, []byte{d.Field}) {
		fn := first + k
		for off, c := range raw {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return nil, &ParseError{Segment: n, Name: name, Field: fn, Msg: fmt.Sprintf("control byte 0x%02X at offset %d (escape it as \\X%02X\\)", c, off, c)}
			}
		}
		s.Fields = append(s.Fields, parseField(raw, d))
	}
	return s, nil
}

func bytesUntil(b []byte, c byte) []byte {
	if i := bytes.IndexByte(b, c); i >= 0 {
		return b[:i]
	}
	return b
}

func parseField(raw []byte, d Delimiters) Field {
	var f Field
	for _, r := range bytes.Split(raw, []byte{d.Repetition}) {
		var rep Repetition
		for _, c := range bytes.Split(r, []byte{d.Component}) {
			var comp Component
			for _, sc := range bytes.Split(c, []byte{d.Subcomponent}) {
				comp = append(comp, Unescape(string(sc), d))
			}
			rep = append(rep, comp)
		}
		f = append(f, rep)
	}
	return f
}
