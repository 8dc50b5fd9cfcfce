package stack

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// Counters is what crossed one mock: connections accepted by its listener
// (in embedded mode every SUT connection arrives through the proxy), bytes
// read and written on them, HTTP requests served, and requests an in-band
// fault hit. Counters only grow; take deltas over a window.
type Counters struct {
	Connections int64 `json:"connections"`
	BytesIn     int64 `json:"bytes_in"`
	BytesOut    int64 `json:"bytes_out"`
	Requests    int64 `json:"requests"`
	Faulted     int64 `json:"faulted"`
}

// traffic holds the live counts of one mock.
type traffic struct {
	conns    atomic.Int64
	bytesIn  atomic.Int64
	bytesOut atomic.Int64
	requests atomic.Int64
}

// countingListener counts accepted connections and wraps each so its bytes
// are counted.
type countingListener struct {
	net.Listener
	t *traffic
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.t.conns.Add(1)
	return &countingConn{Conn: c, t: l.t}, nil
}

// countingConn counts bytes. It delegates SetLinger to the TCP connection so
// an in-band lost-response fault can still close with an RST.
type countingConn struct {
	net.Conn
	t *traffic
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.t.bytesIn.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.t.bytesOut.Add(int64(n))
	return n, err
}

// SetLinger sets SO_LINGER on the underlying TCP connection.
func (c *countingConn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.SetLinger(sec)
	}
	return errors.New("set linger: not a TCP connection")
}

// CloseWrite half-closes the underlying TCP connection.
func (c *countingConn) CloseWrite() error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return errors.New("close write: not a TCP connection")
}

// countRequests counts every request before next handles it.
func countRequests(t *traffic, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.requests.Add(1)
		next.ServeHTTP(w, r)
	})
}
