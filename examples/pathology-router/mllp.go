package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
)

// mode is one way of handling an accepted result.
type mode interface {
	// accept takes a parsed, converted result and says how to ACK it.
	accept(ctx context.Context, r *result) (code string, ackErr *hl7.AckError)
	// start begins background sending.
	start()
	// shutdown stops background work within ctx.
	shutdown(ctx context.Context) error
	// pending is how many results are not yet in MESH.
	pending() int
}

// mllpServer reads ORU^R01 frames, one at a time per connection, and
// answers each with an ACK whose MSA-2 is the received MSH-10.
type mllpServer struct {
	mode     mode
	log      *slog.Logger
	maxFrame int
	seq      atomic.Uint64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newMLLPServer(m mode, log *slog.Logger, maxFrame int) *mllpServer {
	return &mllpServer{mode: m, log: log, maxFrame: maxFrame, conns: map[net.Conn]struct{}{}}
}

// serve accepts connections on ln until it is closed.
func (s *mllpServer) serve(ctx context.Context, ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(ctx, c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// close stops reading: it closes every connection (a message being handled
// finishes first, since handling does not read) and waits within ctx.
func (s *mllpServer) close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		// Unblock readers; writers finish their ACK within a second.
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *mllpServer) handle(ctx context.Context, c net.Conn) {
	log := s.log.With("peer", c.RemoteAddr().String())
	r := hl7.NewReader(c, s.maxFrame)
	w := hl7.NewWriter(c)
	for {
		frame, err := r.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, hl7.ErrFrameTooLarge) {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					log.Warn("mllp read failed; closing the connection", "err", err)
				}
			}
			if errors.Is(err, hl7.ErrFrameTooLarge) {
				log.Warn("mllp frame too large; closing the connection", "max", s.maxFrame)
			}
			return
		}
		ack := s.process(ctx, log, frame)
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := w.WriteFrame(ack.Bytes()); err != nil {
			log.Warn("writing the ACK failed", "err", err)
			return
		}
	}
}

// process parses, checks and converts one frame and hands it to the mode.
func (s *mllpServer) process(ctx context.Context, log *slog.Logger, frame []byte) *hl7.Message {
	ackID := fmt.Sprintf("PR%s%06d", time.Now().UTC().Format("20060102150405"), s.seq.Add(1)%1000000)
	reply := func(m *hl7.Message, scraped, code string, e *hl7.AckError) *hl7.Message {
		return hl7.BuildACK(m, scraped, hl7.ACK{Code: code, ControlID: ackID, Time: time.Now(), Err: e})
	}
	m, err := hl7.Parse(frame)
	if err != nil {
		id := hl7.ScrapeControlID(frame)
		log.Warn("rejected: unparseable message", "msh10", id, "err", err, "ack", hl7.AR)
		return reply(nil, id, hl7.AR, &hl7.AckError{Code: hl7.ErrSegmentSequence, Text: "cannot parse: " + err.Error()})
	}
	msh10 := m.ControlID()
	log = log.With("msh10", msh10)
	switch {
	case m.Get("MSH-9.1") != "ORU":
		log.Warn("rejected: not an ORU", "type", m.Type())
		return reply(m, "", hl7.AR, &hl7.AckError{Code: hl7.ErrUnsupportedType, Text: "message type " + m.Type() + " is not accepted; send ORU^R01", Segment: "MSH", Seq: 1, Field: 9})
	case m.Get("MSH-9.2") != "R01":
		log.Warn("rejected: not R01", "type", m.Type())
		return reply(m, "", hl7.AR, &hl7.AckError{Code: hl7.ErrUnsupportedEvent, Text: "event " + m.Get("MSH-9.2") + " is not accepted; send ORU^R01", Segment: "MSH", Seq: 1, Field: 9})
	case msh10 == "":
		log.Warn("rejected: no MSH-10")
		return reply(m, "", hl7.AR, &hl7.AckError{Code: hl7.ErrRequiredMissing, Text: "MSH-10 (message control id) is empty", Segment: "MSH", Seq: 1, Field: 10})
	case len(msh10) > 300:
		log.Warn("rejected: MSH-10 too long")
		return reply(m, "", hl7.AR, &hl7.AckError{Code: hl7.ErrDataType, Text: "MSH-10 is longer than 300 characters", Segment: "MSH", Seq: 1, Field: 10})
	}
	res, err := convert(m)
	if err != nil {
		var ce *contentError
		if errors.As(err, &ce) {
			log.Warn("application error: result not usable", "err", ce, "ack", hl7.AE)
			return reply(m, "", hl7.AE, &ce.ack)
		}
		log.Error("conversion failed", "err", err)
		return reply(m, "", hl7.AR, &hl7.AckError{Code: hl7.ErrInternal, Text: "internal error; resend later"})
	}
	code, ackErr := s.mode.accept(ctx, res)
	return reply(m, "", code, ackErr)
}
