// Package serve owns the httptest-shaped lifecycle every HTTP mock shares:
// serve a handler on a listener in the background, report the address, and
// close gracefully (in-flight requests get five seconds, then their
// connections are closed). Mocks embed a Server and add their own URL.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ShutdownGrace is how long Close waits for in-flight requests.
const ShutdownGrace = 5 * time.Second

// Server serves one mock. The zero value is ready to use.
type Server struct {
	mu   sync.Mutex
	srv  *http.Server
	addr string
	done chan struct{}
}

// Start serves h on l in the background and reports true. On a server that
// is already started it closes l, logs an error and reports false. name
// labels the log lines ("ers mock").
func (s *Server) Start(l net.Listener, h http.Handler, log *slog.Logger, name string) bool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		log.Error(name+" already started; closing extra listener", "addr", l.Addr().String())
		_ = l.Close()
		return false
	}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.addr = l.Addr().String()
	s.done = make(chan struct{})
	srv, done := s.srv, s.done
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" stopped serving", "err", err)
		}
	}()
	return true
}

// Addr is the listening address once started, or "".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops serving, waiting up to ShutdownGrace for in-flight requests
// before closing their connections. It is safe to call more than once, and
// on a server never started.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("shutdown: %w", err), srv.Close())
	}
	<-done
	return err
}
