package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// History is the append-only list of operations of a run. It is safe for
// concurrent use. When built with a writer it streams every operation as one
// JSON line as soon as it is appended, so a crashed or interrupted run still
// leaves its history behind.
type History struct {
	mu  sync.Mutex
	ops []Operation
	w   *bufio.Writer
	err error
}

// NewHistory returns an empty history that streams to w (nil: memory only).
func NewHistory(w io.Writer) *History {
	h := &History{}
	if w != nil {
		h.w = bufio.NewWriter(w)
	}
	return h
}

// HistoryOf builds an in-memory history from ops (for replay and tests).
func HistoryOf(ops []Operation) *History {
	h := &History{ops: make([]Operation, len(ops))}
	copy(h.ops, ops)
	return h
}

// Append adds op, assigning its Seq, and streams it.
func (h *History) Append(op Operation) Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	op.Seq = int64(len(h.ops) + 1)
	h.ops = append(h.ops, op)
	if h.w != nil && h.err == nil {
		b, err := json.Marshal(op)
		if err != nil {
			h.err = fmt.Errorf("encode operation %d: %w", op.Seq, err)
			return op
		}
		if _, err := h.w.Write(append(b, '\n')); err != nil {
			h.err = fmt.Errorf("write operation %d: %w", op.Seq, err)
			return op
		}
		// Flush per line: the file must be readable during and after a crash.
		if err := h.w.Flush(); err != nil {
			h.err = fmt.Errorf("flush operation %d: %w", op.Seq, err)
		}
	}
	return op
}

// Operations returns a copy of every operation so far.
func (h *History) Operations() []Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Operation, len(h.ops))
	copy(out, h.ops)
	return out
}

// Len is the number of operations so far.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ops)
}

// Err reports the first error hit while streaming, if any.
func (h *History) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// ReadOperations parses operations.jsonl.
func ReadOperations(r io.Reader) ([]Operation, error) {
	var ops []Operation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue // blank (or whitespace-only) line
		}
		var op Operation
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			return nil, fmt.Errorf("operations.jsonl line %d: %w", line, err)
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read operations.jsonl: %w", err)
	}
	return ops, nil
}
