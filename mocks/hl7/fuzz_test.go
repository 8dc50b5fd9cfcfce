package hl7

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzParse: Parse never panics; whatever it accepts encodes to bytes that
// parse to the same message, and encoding is then a fixed point.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleORU))
	f.Add([]byte("MSH#:*!%#LAB\rPID#1##a:b*c\r"))
	f.Add([]byte("MSH|^~\\&|\\X0D\\|\\H\\x\\N\\|\\E\\|\\.br\\\nPID|1\r\n"))
	f.Add([]byte("MSH|^~\\&#|a"))
	f.Add([]byte("MSH|^~\\&"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		enc := m.Bytes()
		back, err := Parse(enc)
		if err != nil {
			t.Fatalf("encoded message does not parse: %v\n%q", err, enc)
		}
		if again := back.Bytes(); !bytes.Equal(enc, again) {
			t.Fatalf("encoding is not stable:\n%q\n%q", enc, again)
		}
		_ = m.Get("MSH-10")
		_ = m.Get("PID-3[2].1.1")
	})
}

// FuzzMLLP: the reader never panics, never returns a frame holding a block
// byte, and always reaches the end of a finite stream.
func FuzzMLLP(f *testing.F) {
	f.Add(Frame([]byte(sampleORU)), uint8(3))
	f.Add(append(Frame([]byte("a")), Frame([]byte("b"))...), uint8(1))
	f.Add([]byte("junk\x0babc\x1c\rmore\x0b"), uint8(0))
	f.Add([]byte("\x0b\x0b\x1c\x1c\r\r"), uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, max uint8) {
		r := NewReader(bytes.NewReader(stream), int(max)+1)
		for i := 0; i <= len(stream)+1; i++ {
			frame, err := r.ReadFrame()
			if err == nil {
				if bytes.ContainsAny(frame, "\x0b\x1c") {
					t.Fatalf("frame holds a block byte: %q", frame)
				}
				if len(frame) > int(max)+1 {
					t.Fatalf("frame of %d bytes exceeds max %d", len(frame), int(max)+1)
				}
				continue
			}
			var fe *FrameError
			if errors.As(err, &fe) {
				continue
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			t.Fatalf("unexpected error: %v", err)
		}
		t.Fatalf("reader did not reach the end of a %d-byte stream", len(stream))
	})
}
