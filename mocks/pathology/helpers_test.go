package pathology

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

var t0 = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

// pipeDialer serves every connection the lab dials with serve (in its own
// goroutine) over net.Pipe, so tests run inside a synctest bubble.
func pipeDialer(serve func(net.Conn)) Option {
	return WithDialer(func(ctx context.Context) (net.Conn, error) {
		client, server := net.Pipe()
		go serve(server)
		return client, nil
	})
}

// startListener serves l on 127.0.0.1:0 and closes it when the test ends.
func startListener(t *testing.T, l *Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l.Start(ln)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
}

// kinds lists the kinds of entries, in order.
func kinds(es []journal.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

func ofKind(es []journal.Entry, kind string) []journal.Entry {
	var out []journal.Entry
	for _, e := range es {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// exchange writes msg to addr as one MLLP frame, byte by byte when
// byteByByte, and returns the parsed ACK.
func exchange(t *testing.T, addr string, msg []byte, byteByByte bool) *hl7.Message {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	frame := hl7.Frame(msg)
	if byteByByte {
		for _, b := range frame {
			_, err := c.Write([]byte{b})
			require.NoError(t, err)
		}
	} else {
		_, err := c.Write(frame)
		require.NoError(t, err)
	}
	ack, err := hl7.NewReader(c, 0).ReadFrame()
	require.NoError(t, err)
	m, err := hl7.Parse(ack)
	require.NoError(t, err)
	return m
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	t.Cleanup(func() { _ = c.Close() })
	return c
}
