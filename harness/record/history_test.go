package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/record"
)

func sampleOps() []record.Operation {
	return []record.Operation{
		{Workload: "refer", Action: "createReferral", Intended: time.Second, Call: time.Second, Return: 1200 * time.Millisecond, Outcome: record.OK, Status: 201, Keys: map[string]string{record.KeyNHSNumber: "9000000009", record.KeyUBRN: "000000000001"}},
		{Workload: "refer", Action: "createReferral", Intended: 2 * time.Second, Call: 2 * time.Second, Return: 5 * time.Second, Outcome: record.Unknown, Error: "read: connection reset by peer"},
		{Workload: "cancel", Action: "cancelReferral", Intended: 3 * time.Second, Call: 3 * time.Second, Return: 3100 * time.Millisecond, Outcome: record.Fail, Status: 503, Error: `answer "SYSTEM_UNAVAILABLE"`},
	}
}

func TestHistoryAppendAssignsSeq(t *testing.T) {
	h := record.NewHistory(nil)
	require.Zero(t, h.Len())
	require.Empty(t, h.Operations())

	for i, op := range sampleOps() {
		op.Seq = 42 // whatever the caller set is overwritten
		got := h.Append(op)
		require.EqualValues(t, i+1, got.Seq)
		require.Equal(t, i+1, h.Len())
		op.Seq = got.Seq
		require.Equal(t, op, got)
	}
	ops := h.Operations()
	for i, op := range ops {
		require.EqualValues(t, i+1, op.Seq)
	}
	require.NoError(t, h.Err(), "a memory-only history never fails")
}

func TestHistoryStreamsEachOperationImmediately(t *testing.T) {
	path := filepath.Join(t.TempDir(), "operations.jsonl")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	h := record.NewHistory(f)

	for i, op := range sampleOps() {
		appended := h.Append(op)

		// Read the file afresh, as a reader would after a crash: the line is
		// already there, with nothing closed or flushed by the test.
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.True(t, bytes.HasSuffix(b, []byte("\n")), "each operation is a complete line")
		got, err := record.ReadOperations(bytes.NewReader(b))
		require.NoError(t, err)
		require.Len(t, got, i+1)
		require.Equal(t, appended, got[i])
	}
	require.NoError(t, h.Err())
}

func TestHistoryOperationsReturnsACopy(t *testing.T) {
	h := record.NewHistory(nil)
	for _, op := range sampleOps() {
		h.Append(op)
	}
	want := h.Operations()

	got := h.Operations()
	got[0].Outcome = record.Fail
	got[1] = record.Operation{Action: "forged"}
	slices.Reverse(got)
	_ = append(got[:1], record.Operation{Action: "appended"})

	require.Equal(t, want, h.Operations())
	require.Equal(t, len(want), h.Len())
}

func TestHistoryOfCopies(t *testing.T) {
	src := sampleOps()
	for i := range src {
		src[i].Seq = int64(i + 1)
	}
	h := record.HistoryOf(src)
	want := sampleOps()
	for i := range want {
		want[i].Seq = int64(i + 1)
	}

	src[0].Action = "forged"
	src[1] = record.Operation{}
	require.Equal(t, want, h.Operations(), "the history does not share the caller's slice")
	require.Equal(t, len(want), h.Len())

	// It is an ordinary in-memory history: Append carries on the Seq.
	next := h.Append(record.Operation{Action: "more"})
	require.EqualValues(t, len(want)+1, next.Seq)
	require.NoError(t, h.Err())

	require.Zero(t, record.HistoryOf(nil).Len())
}

var errDiskFull = errors.New("disk full")

// failingWriter accepts ok writes, then fails every later one with err (or
// writes short when err is nil).
type failingWriter struct {
	ok     int
	err    error
	writes int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes <= w.ok {
		return len(p), nil
	}
	if w.err == nil {
		return len(p) / 2, nil
	}
	return 0, w.err
}

func TestHistoryErrAfterFailingWriter(t *testing.T) {
	tests := []struct {
		name    string
		w       *failingWriter
		wantIs  error
		wantMsg string
	}{
		{name: "fails at once", w: &failingWriter{err: errDiskFull}, wantIs: errDiskFull, wantMsg: "operation 1"},
		{name: "fails on third", w: &failingWriter{ok: 2, err: errDiskFull}, wantIs: errDiskFull, wantMsg: "operation 3"},
		{name: "short write", w: &failingWriter{ok: 1}, wantIs: io.ErrShortWrite, wantMsg: "operation 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := record.NewHistory(tc.w)
			for _, op := range sampleOps() {
				h.Append(op)
			}
			h.Append(record.Operation{Action: "after the failure"})

			err := h.Err()
			require.ErrorIs(t, err, tc.wantIs)
			require.ErrorContains(t, err, tc.wantMsg, "Err reports the first failure")
			require.Equal(t, len(sampleOps())+1, h.Len(), "operations are still kept in memory")
			writes := tc.w.writes
			h.Append(record.Operation{Action: "later"})
			require.Equal(t, writes, tc.w.writes, "a failed history stops writing")
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestHistoryConcurrentAppend(t *testing.T) {
	const goroutines, each = 16, 100
	var sink lockedBuffer
	h := record.NewHistory(&sink)

	seqs := make(chan int64, goroutines*each)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				op := h.Append(record.Operation{Workload: fmt.Sprint("w", g), Action: "act", Intended: time.Duration(i), Outcome: record.OK})
				seqs <- op.Seq
				_ = h.Len()
				_ = h.Operations()
			}
		})
	}
	wg.Wait()
	close(seqs)

	var got []int64
	for s := range seqs {
		got = append(got, s)
	}
	slices.Sort(got)
	want := make([]int64, goroutines*each)
	for i := range want {
		want[i] = int64(i + 1)
	}
	require.Equal(t, want, got, "every Seq is unique and they are 1..N without gaps")
	require.NoError(t, h.Err())

	ops := h.Operations()
	for i, op := range ops {
		require.EqualValues(t, i+1, op.Seq)
	}
	streamed, err := record.ReadOperations(&sink.buf)
	require.NoError(t, err)
	require.Equal(t, ops, streamed, "the stream holds every operation in Seq order")
}

func TestReadOperationsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	h := record.NewHistory(&buf)
	for _, op := range sampleOps() {
		h.Append(op)
	}
	require.NoError(t, h.Err())

	got, err := record.ReadOperations(&buf)
	require.NoError(t, err)
	require.Equal(t, h.Operations(), got)
}

func TestReadOperations(t *testing.T) {
	line := func(seq int) string {
		b, err := json.Marshal(record.Operation{Seq: int64(seq), Action: "a", Outcome: record.OK})
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	op := func(seq int) record.Operation {
		return record.Operation{Seq: int64(seq), Action: "a", Outcome: record.OK}
	}

	tests := []struct {
		name    string
		in      string
		want    []record.Operation
		wantErr []string
	}{
		{name: "empty input", in: "", want: nil},
		{name: "only blank lines", in: "\n\n\n", want: nil},
		{name: "one line without trailing newline", in: line(1), want: []record.Operation{op(1)}},
		{name: "several lines", in: line(1) + "\n" + line(2) + "\n", want: []record.Operation{op(1), op(2)}},
		{name: "blank lines skipped", in: "\n" + line(1) + "\n\n\n" + line(2) + "\n\n", want: []record.Operation{op(1), op(2)}},
		{name: "whitespace-only lines skipped", in: line(1) + "\n   \n\t\n" + line(2) + "\n", want: []record.Operation{op(1), op(2)}},
		{name: "CRLF line endings", in: line(1) + "\r\n\r\n" + line(2) + "\r\n", want: []record.Operation{op(1), op(2)}},
		{name: "all fields", in: `{"seq":7,"workload":"refer","action":"createReferral","intended":1000000000,"call":1000000001,"return":1500000000,"outcome":"fail","status":503,"error":"boom","keys":{"ubrn":"1"}}`, want: []record.Operation{{
			Seq: 7, Workload: "refer", Action: "createReferral", Intended: time.Second, Call: time.Second + 1, Return: 1500 * time.Millisecond,
			Outcome: record.Fail, Status: 503, Error: "boom", Keys: map[string]string{"ubrn": "1"},
		}}},
		{name: "unknown fields ignored", in: `{"seq":1,"action":"a","outcome":"ok","future":true}`, want: []record.Operation{op(1)}},
		{name: "bad first line", in: "{not json\n" + line(2), wantErr: []string{"operations.jsonl line 1:"}},
		{name: "bad line counted after blank lines", in: line(1) + "\n\n" + line(3) + "\n{\"seq\":", wantErr: []string{"operations.jsonl line 4:"}},
		{name: "wrong type", in: line(1) + "\n" + `{"seq":"two"}`, wantErr: []string{"operations.jsonl line 2:", "seq"}},
		{name: "trailing garbage", in: line(1) + " x\n", wantErr: []string{"operations.jsonl line 1:"}},
		{name: "line too long", in: `{"error":"` + strings.Repeat("x", 17*1024*1024) + `"}`, wantErr: []string{"read operations.jsonl", "too long"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := record.ReadOperations(strings.NewReader(tc.in))
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tc.wantErr {
					require.ErrorContains(t, err, want)
				}
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestReadOperationsReaderError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(`{"seq":1}`+"\n"), &errReader{err: errDiskFull})
	got, err := record.ReadOperations(r)
	require.ErrorIs(t, err, errDiskFull)
	require.ErrorContains(t, err, "read operations.jsonl")
	require.Nil(t, got)
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }
