package pathology

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// Listener is an inbound results listener answering ORU^R01 over MLLP.
type Listener struct {
	cfg     config
	journal *journal.Journal
	faults  *Faults

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{}
	closed   bool
	closing  chan struct{}
	ackSeq   int
	byMSH10  map[string]int
	byHash   map[string]int
	wg       sync.WaitGroup
	closeErr error
}

// NewListener returns a listener; call Start or ServeConn to use it.
func NewListener(opts ...Option) *Listener {
	c := newConfig(opts)
	return &Listener{
		cfg:     c,
		journal: newJournal(c),
		faults:  newFaults(ReceiverKinds),
		conns:   map[net.Conn]struct{}{},
		closing: make(chan struct{}),
		byMSH10: map[string]int{},
		byHash:  map[string]int{},
	}
}

// Journal returns the listener's effect journal.
func (l *Listener) Journal() *journal.Journal { return l.journal }

// Faults returns the listener's in-band faults.
func (l *Listener) Faults() *Faults { return l.faults }

// Start serves connections accepted from ln until Close.
func (l *Listener) Start(ln net.Listener) {
	l.mu.Lock()
	l.ln = ln
	l.mu.Unlock()
	l.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.wg.Go(func() { l.ServeConn(c) })
		}
	})
}

// Addr is the address Start listens on ("" before Start).
func (l *Listener) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return ""
	}
	return l.ln.Addr().String()
}

// Close stops accepting, closes every connection (pending late ACKs are
// dropped) and waits for the listener's goroutines.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.closeErr
	}
	l.closed = true
	close(l.closing)
	if l.ln != nil {
		if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			l.closeErr = err
		}
	}
	for c := range l.conns {
		_ = c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return l.closeErr
}

// ServeConn answers the messages on one connection until it closes or the
// listener is closed. It closes c.
func (l *Listener) ServeConn(c net.Conn) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = c.Close()
		return
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1) // under mu before closed is set, so Close waits for it
	l.mu.Unlock()
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
		_ = c.Close()
	}()
	r := hl7.NewReader(c, l.cfg.maxFrame)
	w := hl7.NewWriter(c)
	for {
		frame, err := r.ReadFrame()
		if err != nil {
			var fe *hl7.FrameError
			if errors.As(err, &fe) {
				l.cfg.log.Warn("pathology listener: bad MLLP framing", "err", err)
				continue
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				l.cfg.log.Debug("pathology listener: connection ended", "err", err)
			}
			return
		}
		l.handle(frame, w)
	}
}

// verdict is the listener's answer to one message.
type verdict struct {
	code string
	err  *hl7.AckError
}

// Validate checks an ORU^R01 the way the listener does and returns the ACK
// code it answers with (hl7.AA, hl7.AE or hl7.AR) and, unless AA, why.
func (l *Listener) Validate(m *hl7.Message) (string, *hl7.AckError) {
	v := l.validate(m)
	return v.code, v.err
}

func reject(code, errCode, text, seg string, field int) verdict {
	return verdict{code: code, err: &hl7.AckError{Code: errCode, Text: text, Segment: seg, Seq: 1, Field: field}}
}

func (l *Listener) validate(m *hl7.Message) verdict {
	switch {
	case m.Get("MSH-9.1") != "ORU":
		return reject(hl7.AR, hl7.ErrUnsupportedType, fmt.Sprintf("unsupported message type %q; this listener takes ORU^R01", m.Get("MSH-9.1")), "MSH", 9)
	case m.Get("MSH-9.2") != "R01":
		return reject(hl7.AR, hl7.ErrUnsupportedEvent, fmt.Sprintf("unsupported trigger event %q; this listener takes ORU^R01", m.Get("MSH-9.2")), "MSH", 9)
	case m.Version() != hl7.V24 && m.Version() != hl7.V251:
		return reject(hl7.AR, hl7.ErrUnsupportedVersion, fmt.Sprintf("unsupported version %q; this listener takes 2.4 or 2.5.1", m.Version()), "MSH", 12)
	case !slices.Contains([]string{"P", "T", "D"}, m.Get("MSH-11.1")):
		return reject(hl7.AR, hl7.ErrUnsupportedProcID, fmt.Sprintf("unsupported processing id %q; want P, T or D", m.Get("MSH-11.1")), "MSH", 11)
	case m.ControlID() == "":
		return reject(hl7.AR, hl7.ErrRequiredMissing, "message control id (MSH-10) is empty", "MSH", 10)
	}
	order := []string{}
	for _, s := range m.Segments {
		order = append(order, s.Name)
	}
	pidAt, obrAt, obxAt := slices.Index(order, "PID"), slices.Index(order, "OBR"), slices.Index(order, "OBX")
	switch {
	case pidAt < 0:
		return reject(hl7.AE, hl7.ErrRequiredMissing, "no PID segment", "PID", 0)
	case obrAt < 0:
		return reject(hl7.AE, hl7.ErrRequiredMissing, "no OBR segment", "OBR", 0)
	case obxAt < 0:
		return reject(hl7.AE, hl7.ErrRequiredMissing, "no OBX segment: a result with no observations", "OBX", 0)
	case !(pidAt < obrAt && obrAt < obxAt):
		return reject(hl7.AE, hl7.ErrSegmentSequence, "segments out of order: want PID before OBR before OBX", "OBR", 0)
	}
	nhs := NHSNumber(m)
	if nhs == "" {
		return reject(hl7.AE, hl7.ErrRequiredMissing, "no NHS number in PID-3 (want a repetition ^^^NHS^NH)", "PID", 3)
	}
	if err := synthetic.ValidateNHSNumber(nhs); err != nil {
		return reject(hl7.AE, hl7.ErrDataType, err.Error(), "PID", 3)
	}
	if l.cfg.known != nil && !l.cfg.known[nhs] {
		return reject(hl7.AE, hl7.ErrUnknownKey, "unknown patient: NHS number "+nhs+" is not registered here", "PID", 3)
	}
	if m.Get("OBR-4.1") == "" {
		return reject(hl7.AE, hl7.ErrRequiredMissing, "no test code in OBR-4", "OBR", 4)
	}
	if st := m.Get("OBR-25"); !slices.Contains([]string{"F", "P", "C", "X"}, st) {
		return reject(hl7.AE, hl7.ErrTableValue, fmt.Sprintf("result status %q in OBR-25 is not F, P, C or X", st), "OBR", 25)
	}
	return verdict{code: hl7.AA}
}

func (l *Listener) nextACKID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ackSeq++
	return fmt.Sprintf("ACK%04X%06d", l.cfg.seed&0xffff, l.ackSeq)
}

func (l *Listener) handle(frame []byte, w *hl7.Writer) {
	m, perr := hl7.Parse(frame)
	var v verdict
	var msh10 string
	if perr != nil {
		msh10 = hl7.ScrapeControlID(frame)
		ae := &hl7.AckError{Code: hl7.ErrDataType, Text: perr.Error()}
		var pe *hl7.ParseError
		if errors.As(perr, &pe) && pe.Segment > 0 {
			ae.Segment, ae.Seq, ae.Field = strings.Trim(pe.Name, `"`), 1, pe.Field
		}
		v = verdict{code: hl7.AR, err: ae}
	} else {
		msh10 = m.ControlID()
		v = l.validate(m)
	}
	nhs := ""
	if m != nil {
		nhs = NHSNumber(m)
	}

	fault, faulted := l.faults.pick(ReceiverKinds...)
	if faulted && v.code == hl7.AA {
		switch fault.Kind {
		case ErrorACK:
			v = verdict{code: hl7.AE, err: &hl7.AckError{Code: hl7.ErrInternal, Text: cmp(fault.Text, "application error (injected)")}}
		case RejectACK:
			v = verdict{code: hl7.AR, err: &hl7.AckError{Code: hl7.ErrInternal, Text: cmp(fault.Text, "rejected: receiver unavailable (injected)")}}
		}
	}
	keys := map[string]string{keyMSH10: msh10, keyNHSNumber: nhs}
	if v.code == hl7.AA {
		hash := ContentHash(m)
		l.mu.Lock()
		l.byMSH10[msh10]++
		l.byHash[hash]++
		dupID, dupContent := l.byMSH10[msh10]-1, l.byHash[hash]-1
		l.mu.Unlock()
		keys[keyFiller] = m.Get("OBR-3.1")
		keys[keyTestCode] = m.Get("OBR-4.1")
		keys[keyResultStatus] = m.Get("OBR-25")
		l.record("result.accepted", keys, map[string]string{
			"content_hash":      hash,
			"version":           m.Version(),
			"duplicate_msh10":   itoa(dupID),
			"duplicate_content": itoa(dupContent),
		})
	} else {
		attrs := map[string]string{"code": v.code, "error": v.err.Error()}
		if faulted && (fault.Kind == ErrorACK || fault.Kind == RejectACK) {
			attrs["fault"] = string(fault.Kind)
		}
		l.record("result.rejected", keys, attrs)
	}

	ack := hl7.BuildACK(m, msh10, hl7.ACK{Code: v.code, ControlID: l.nextACKID(), Time: l.cfg.now(), Err: v.err}).Bytes()
	if faulted {
		switch fault.Kind {
		case WithholdACK:
			l.record("ack.withheld", map[string]string{keyMSH10: msh10}, nil)
			return
		case LateACK:
			l.record("ack.delayed", map[string]string{keyMSH10: msh10}, map[string]string{"delay": fault.Delay.String()})
			l.wg.Go(func() {
				t := time.NewTimer(fault.Delay)
				defer t.Stop()
				select {
				case <-t.C:
					_ = w.WriteFrame(ack)
				case <-l.closing:
				}
			})
			return
		}
	}
	if err := w.WriteFrame(ack); err != nil {
		l.cfg.log.Debug("pathology listener: ACK not written", "msh10", msh10, "err", err)
	}
}

func (l *Listener) record(kind string, keys, attrs map[string]string) {
	if _, err := l.journal.Record(kind, keys, attrs); err != nil {
		l.cfg.log.Warn("pathology: journal write failed", "kind", kind, "err", err)
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
