package journal_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/journal"
)

var base = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// stepClock returns base, base+1s, base+2s, ... on successive calls.
func stepClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

func TestNewAndService(t *testing.T) {
	j := journal.New("ers", nil)
	require.Equal(t, "ers", j.Service())
	require.Empty(t, j.Entries())
	require.Zero(t, j.Count("referral.created"))
}

func TestNilClockDefaultsToNow(t *testing.T) {
	j := journal.New("ers", nil)
	before := time.Now()
	e, err := j.Record("referral.created", nil, nil)
	require.NoError(t, err)
	after := time.Now()
	require.False(t, e.Time.Before(before))
	require.False(t, e.Time.After(after))
}

func TestRecordStampsEntries(t *testing.T) {
	j := journal.New("ers", stepClock())
	records := []struct {
		kind  string
		keys  map[string]string
		attrs map[string]string
	}{
		{kind: "referral.created", keys: map[string]string{"ubrn": "000000000001", "nhs_number": "9000000009"}, attrs: map[string]string{"specialty": "cardiology"}},
		{kind: "request.faulted", attrs: map[string]string{"fault": "status"}},
		{kind: "referral.cancelled", keys: map[string]string{"ubrn": "000000000001"}},
	}
	var got []journal.Entry
	for _, r := range records {
		e, err := j.Record(r.kind, r.keys, r.attrs)
		require.NoError(t, err)
		got = append(got, e)
	}

	want := []journal.Entry{
		{Seq: 1, Time: base, Service: "ers", Kind: "referral.created", Keys: records[0].keys, Attrs: records[0].attrs},
		{Seq: 2, Time: base.Add(time.Second), Service: "ers", Kind: "request.faulted", Attrs: records[1].attrs},
		{Seq: 3, Time: base.Add(2 * time.Second), Service: "ers", Kind: "referral.cancelled", Keys: records[2].keys},
	}
	require.Equal(t, want, got, "Record returns the stamped entry")
	require.Equal(t, want, j.Entries(), "Entries lists them in the order recorded")
}

func TestEntriesReturnsACopy(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(es []journal.Entry)
	}{
		{name: "overwrite element", mutate: func(es []journal.Entry) { es[0] = journal.Entry{Kind: "forged"} }},
		{name: "change field", mutate: func(es []journal.Entry) { es[0].Kind = "forged"; es[0].Seq = 99 }},
		{name: "change key", mutate: func(es []journal.Entry) { es[0].Keys["ubrn"] = "forged" }},
		{name: "add key", mutate: func(es []journal.Entry) { es[0].Keys["extra"] = "x" }},
		{name: "delete attr", mutate: func(es []journal.Entry) { delete(es[0].Attrs, "specialty") }},
		{name: "sort", mutate: func(es []journal.Entry) { slices.Reverse(es) }},
		{name: "append", mutate: func(es []journal.Entry) { _ = append(es[:1], journal.Entry{Kind: "forged"}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := journal.New("ers", stepClock())
			_, err := j.Record("referral.created", map[string]string{"ubrn": "1"}, map[string]string{"specialty": "cardiology"})
			require.NoError(t, err)
			_, err = j.Record("referral.cancelled", map[string]string{"ubrn": "1"}, nil)
			require.NoError(t, err)
			want := []journal.Entry{
				{Seq: 1, Time: base, Service: "ers", Kind: "referral.created", Keys: map[string]string{"ubrn": "1"}, Attrs: map[string]string{"specialty": "cardiology"}},
				{Seq: 2, Time: base.Add(time.Second), Service: "ers", Kind: "referral.cancelled", Keys: map[string]string{"ubrn": "1"}},
			}
			require.Equal(t, want, j.Entries())

			tc.mutate(j.Entries())
			require.Equal(t, want, j.Entries())
			require.Equal(t, 1, j.Count("referral.created"))
			require.Zero(t, j.Count("forged"))
		})
	}
}

func TestRecordDoesNotAliasCallerMaps(t *testing.T) {
	j := journal.New("ers", stepClock())
	keys := map[string]string{"ubrn": "1"}
	attrs := map[string]string{"specialty": "cardiology"}
	returned, err := j.Record("referral.created", keys, attrs)
	require.NoError(t, err)

	// A mock reusing its maps, or a caller editing the returned entry, must
	// not rewrite history.
	keys["ubrn"] = "2"
	attrs["specialty"] = "dermatology"
	returned.Keys["nhs_number"] = "9000000009"

	got := j.Entries()
	require.Equal(t, map[string]string{"ubrn": "1"}, got[0].Keys)
	require.Equal(t, map[string]string{"specialty": "cardiology"}, got[0].Attrs)
}

func TestRecordKeepsNilMapsNil(t *testing.T) {
	j := journal.New("ers", stepClock())
	e, err := j.Record("request.faulted", nil, nil)
	require.NoError(t, err)
	require.Nil(t, e.Keys)
	require.Nil(t, e.Attrs)
	require.Nil(t, j.Entries()[0].Keys)
	require.Nil(t, j.Entries()[0].Attrs)
}

func TestCount(t *testing.T) {
	j := journal.New("ers", stepClock())
	for _, kind := range []string{"a", "b", "a", "c", "a", "b"} {
		_, err := j.Record(kind, nil, nil)
		require.NoError(t, err)
	}
	tests := []struct {
		name string
		kind string
		want int
	}{
		{name: "three", kind: "a", want: 3},
		{name: "two", kind: "b", want: 2},
		{name: "one", kind: "c", want: 1},
		{name: "none", kind: "d", want: 0},
		{name: "empty kind", kind: "", want: 0},
		{name: "prefix does not match", kind: "a.", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, j.Count(tc.kind))
		})
	}
}

// decodeLines decodes every JSON line of b.
func decodeLines(t *testing.T, b []byte) []journal.Entry {
	t.Helper()
	var out []journal.Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e journal.Entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		out = append(out, e)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestStreamWritesOneJSONLinePerEntry(t *testing.T) {
	j := journal.New("pds", stepClock())
	_, err := j.Record("before.stream", nil, nil)
	require.NoError(t, err)

	var a, b bytes.Buffer
	j.Stream(&a)
	j.Stream(&b)
	for i := range 3 {
		_, err := j.Record("patient.read",
			map[string]string{"nhs_number": fmt.Sprint(9000000000 + i)},
			map[string]string{"note": "line\nbreak \"quoted\""})
		require.NoError(t, err)
		require.Equal(t, i+1, bytes.Count(a.Bytes(), []byte("\n")), "each entry is written as it is recorded")
	}

	want := j.Entries()[1:] // entries recorded before Stream are not written
	require.Equal(t, want, decodeLines(t, a.Bytes()))
	require.Equal(t, a.String(), b.String(), "every sink gets the same lines")
}

var errDiskFull = errors.New("disk full")

// failingWriter fails every write after the first ok ones.
type failingWriter struct {
	ok     int
	writes int
	buf    bytes.Buffer
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > w.ok {
		return 0, errDiskFull
	}
	return w.buf.Write(p)
}

func TestRecordReportsStreamErrors(t *testing.T) {
	tests := []struct {
		name    string
		ok      int // writes that succeed before the sink fails
		records int
		wantErr []error // per record; nil means no error
		wantMsg []string
	}{
		{name: "fails at once", ok: 0, records: 2, wantErr: []error{errDiskFull, errDiskFull}, wantMsg: []string{"journal pds: write entry 1", "journal pds: write entry 2"}},
		{name: "fails on third", ok: 2, records: 3, wantErr: []error{nil, nil, errDiskFull}, wantMsg: []string{"", "", "journal pds: write entry 3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := journal.New("pds", stepClock())
			w := &failingWriter{ok: tc.ok}
			j.Stream(w)
			for i := range tc.records {
				e, err := j.Record("patient.read", nil, nil)
				require.EqualValues(t, i+1, e.Seq, "the entry is returned even when streaming fails")
				if tc.wantErr[i] == nil {
					require.NoError(t, err)
					continue
				}
				require.ErrorIs(t, err, tc.wantErr[i])
				require.ErrorContains(t, err, tc.wantMsg[i])
			}
			require.Len(t, j.Entries(), tc.records, "entries are kept in memory even when streaming fails")
			require.Len(t, decodeLines(t, w.buf.Bytes()), tc.ok)
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

func TestConcurrentRecord(t *testing.T) {
	const goroutines, each = 16, 100
	j := journal.New("ers", stepClock())
	var sink lockedBuffer
	j.Stream(&sink)

	seqs := make(chan int64, goroutines*each)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e, err := j.Record("referral.created", map[string]string{"g": fmt.Sprint(g), "i": fmt.Sprint(i)}, nil)
				if err != nil {
					panic(err)
				}
				seqs <- e.Seq
				_ = j.Count("referral.created")
				_ = j.Entries()
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

	entries := j.Entries()
	require.Len(t, entries, goroutines*each)
	for i, e := range entries {
		require.EqualValues(t, i+1, e.Seq, "entries are held in Seq order")
		require.Equal(t, base.Add(time.Duration(i)*time.Second), e.Time, "the clock is read in Seq order")
	}
	require.Equal(t, goroutines*each, j.Count("referral.created"))
	require.Equal(t, entries, decodeLines(t, sink.buf.Bytes()), "the stream is written in Seq order")
}
