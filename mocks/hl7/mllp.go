package hl7

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// MLLP block characters.
const (
	StartBlock      byte = 0x0B
	EndBlock        byte = 0x1C
	CarriageRet     byte = 0x0D
	DefaultMaxFrame      = 1 << 20
)

// FrameError says what was wrong in an MLLP stream and where (Offset is the
// byte offset in the stream where the problem starts). The Reader stays
// usable after one: it has skipped the bad bytes and resumes at the next
// start block.
type FrameError struct {
	Offset int64
	Msg    string
}

func (e *FrameError) Error() string { return fmt.Sprintf("mllp: at byte %d: %s", e.Offset, e.Msg) }

// ErrFrameTooLarge is wrapped by the FrameError for an oversize frame.
var ErrFrameTooLarge = errors.New("frame too large")

// Reader yields whole MLLP frames however the bytes are split across reads
// and however many frames arrive in one read. CR and LF between frames are
// ignored; any other bytes between frames, a start block inside a frame, an
// end block not followed by CR and a frame larger than the maximum are
// reported as a *FrameError and skipped.
type Reader struct {
	r   *bufio.Reader
	max int
	off int64
}

// NewReader reads frames from r; max bounds a frame's payload
// (DefaultMaxFrame when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Reader{r: bufio.NewReader(r), max: max}
}

func (r *Reader) readByte() (byte, error) {
	c, err := r.r.ReadByte()
	if err == nil {
		r.off++
	}
	return c, err
}

// ReadFrame returns the next frame's payload (without the block bytes). At
// a clean end of stream between frames it returns io.EOF; a stream that ends
// inside a frame gives an error wrapping io.ErrUnexpectedEOF.
func (r *Reader) ReadFrame() ([]byte, error) {
	// Find the start block.
	var junk []byte
	junkAt := int64(-1)
	for {
		c, err := r.readByte()
		if err != nil {
			if len(junk) > 0 && err == io.EOF {
				return nil, &FrameError{Offset: junkAt, Msg: fmt.Sprintf("%d bytes of junk outside any frame before the stream ended: %s", len(junk), quote(junk))}
			}
			return nil, err
		}
		if c == StartBlock {
			if len(junk) > 0 {
				// Report the junk now; the frame after it is read next time.
				_ = r.r.UnreadByte()
				r.off--
				return nil, &FrameError{Offset: junkAt, Msg: fmt.Sprintf("%d bytes of junk between frames (want 0x0B to start a frame): %s", len(junk), quote(junk))}
			}
			break
		}
		if c == '\r' || c == '\n' {
			continue
		}
		if junkAt < 0 {
			junkAt = r.off - 1
		}
		if len(junk) < 64 {
			junk = append(junk, c)
		}
	}
	start := r.off - 1
	var buf bytes.Buffer
	oversize := false
	for {
		c, err := r.readByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("mllp: frame starting at byte %d cut off after %d bytes: %w", start, r.off-start-1, err)
		}
		switch c {
		case StartBlock:
			_ = r.r.UnreadByte()
			r.off--
			return nil, &FrameError{Offset: r.off, Msg: fmt.Sprintf("start block inside the frame that started at byte %d (no end block 0x1C 0x0D before it); that frame is dropped", start)}
		case EndBlock:
			n, err := r.r.Peek(1)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("mllp: frame starting at byte %d: stream ended after the end block, before its CR: %w", start, err)
			}
			if n[0] != CarriageRet {
				return nil, &FrameError{Offset: r.off - 1, Msg: fmt.Sprintf("end block 0x1C followed by %q, want CR (0x0D); the frame that started at byte %d is dropped", n[0], start)}
			}
			_, _ = r.readByte()
			if oversize {
				return nil, &FrameError{Offset: start, Msg: fmt.Sprintf("frame of %d bytes exceeds the maximum of %d: %v", r.off-start-3, r.max, ErrFrameTooLarge)}
			}
			return buf.Bytes(), nil
		}
		if buf.Len() < r.max {
			buf.WriteByte(c)
		} else {
			oversize = true
		}
	}
}

func quote(b []byte) string {
	if len(b) >= 64 {
		return fmt.Sprintf("%q…", b)
	}
	return fmt.Sprintf("%q", b)
}

// Writer writes MLLP frames. It is safe for concurrent use; each frame goes
// out in one Write.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter frames onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Frame returns msg wrapped in MLLP block bytes.
func Frame(msg []byte) []byte {
	out := make([]byte, 0, len(msg)+3)
	out = append(out, StartBlock)
	out = append(out, msg...)
	return append(out, EndBlock, CarriageRet)
}

// WriteFrame writes one frame. A message holding a block byte cannot be
// framed and is refused.
func (w *Writer) WriteFrame(msg []byte) error {
	if i := bytes.IndexAny(msg, "\x0b\x1c"); i >= 0 {
		return fmt.Errorf("mllp: message holds block byte 0x%02X at offset %d and cannot be framed", msg[i], i)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.w.Write(Frame(msg))
	return err
}
