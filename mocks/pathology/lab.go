package pathology

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// Outcomes of one message (Record.Outcome).
const (
	OutcomeAccepted  = "AA"        // matched ACK AA
	OutcomeError     = "AE"        // matched ACK AE (not resent: the message must be fixed)
	OutcomeRejected  = "AR"        // matched ACK AR
	OutcomeNoACK     = "no-ack"    // gave up after WithMaxAttempts without a matching ACK
	OutcomeDropped   = "dropped"   // SilentDrop: recorded as sent, never sent
	OutcomeCancelled = "cancelled" // the context ended first
)

// ACKSeen is one ACK that arrived while a message was in flight.
type ACKSeen struct {
	At      time.Time
	Code    string // MSA-1
	MSA2    string
	Matched bool // MSA-2 == the in-flight message's MSH-10
	// Late is true for an unmatched ACK whose MSA-2 names a message this lab
	// sent earlier: a correct answer that arrived after the lab had moved on
	// (the sender must not take it for the in-flight message; this one
	// doesn't). An unmatched ACK that is not Late names nothing the lab sent
	// (or could not be parsed): the receiver answered wrongly.
	Late  bool
	Error string // the ACK could not be parsed
}

// Record is what the lab knows about one message.
type Record struct {
	MSH10     string
	NHSNumber string
	Status    string // F, P, C, X
	TestCode  string
	// ContentHash is the identity of the result's clinical content
	// (ContentHash of the message: synthetic.ResultContentHash over PID-3's
	// NHS number, OBR-4.1 and every OBX-3.1 with its OBX-5).
	ContentHash string
	// SentAt holds when each copy was written (its length is the number of
	// attempts, burst copies included).
	SentAt []time.Time
	// ACKs holds every ACK read while this message was in flight, matched
	// or not, in arrival order.
	ACKs []ACKSeen
	// ACK is the first matching ACK, nil when none came.
	ACK     *ACKSeen
	Outcome string
	Dropped bool
	Held    bool
}

// Attempts is how many copies were written.
func (r Record) Attempts() int { return len(r.SentAt) }

// FirstSent is when the first copy was written (zero if none was).
func (r Record) FirstSent() time.Time {
	if len(r.SentAt) == 0 {
		return time.Time{}
	}
	return r.SentAt[0]
}

// Matched reports whether an ACK whose MSA-2 named this message came.
func (r Record) Matched() bool { return r.ACK != nil }

// Acked is when the first matching ACK arrived (zero if none did).
func (r Record) Acked() time.Time {
	if r.ACK == nil {
		return time.Time{}
	}
	return r.ACK.At
}

// ACKCode is the first matching ACK's MSA-1 (AA, AE, AR) or "" if none came.
func (r Record) ACKCode() string {
	if r.ACK == nil {
		return ""
	}
	return r.ACK.Code
}

// Stray counts the ACKs that arrived while this message was in flight and
// named no message this lab had sent, or could not be parsed: the
// receiver's fault, unlike a late ACK.
func (r Record) Stray() int {
	n := 0
	for _, a := range r.ACKs {
		if !a.Matched && !a.Late {
			n++
		}
	}
	return n
}

// Mismatched counts the ACKs that arrived while this message was in flight
// but did not match it: their MSA-2 named another message (or they could
// not be parsed).
func (r Record) Mismatched() int {
	n := 0
	for _, a := range r.ACKs {
		if !a.Matched {
			n++
		}
	}
	return n
}

// Lab is the lab's sender.
type Lab struct {
	cfg     config
	target  string
	gen     *synthetic.LabReports
	journal *journal.Journal
	faults  *Faults

	sendSem chan struct{} // one message in flight (a semaphore, so waiting can end with ctx)

	mu      sync.Mutex
	records []*Record
	conn    *labConn
	closed  bool
}

type frameOrErr struct {
	frame []byte
	err   error
}

type labConn struct {
	c      net.Conn
	frames chan frameOrErr
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

func (lc *labConn) close() {
	_ = lc.c.Close()
	lc.wg.Wait()
}

// NewLab returns a lab that sends to target (host:port) unless WithDialer
// says otherwise.
func NewLab(target string, opts ...Option) *Lab {
	c := newConfig(opts)
	l := &Lab{cfg: c, target: target, journal: newJournal(c), faults: newFaults(SenderKinds), sendSem: make(chan struct{}, 1)}
	l.gen = synthetic.NewLabReports(c.seed, c.practice, c.now())
	if l.cfg.dial == nil {
		l.cfg.dial = func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", target)
		}
	}
	return l
}

// Journal returns the lab's effect journal.
func (l *Lab) Journal() *journal.Journal { return l.journal }

// Faults returns the lab's in-band faults.
func (l *Lab) Faults() *Faults { return l.faults }

// Patients returns the synthetic patients results are drawn from (a
// Listener can be given their NHS numbers with WithKnownPatients).
func (l *Lab) Patients() []synthetic.Patient { return l.gen.Patients() }

// Records returns a copy of every message's record so far.
func (l *Lab) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Record, len(l.records))
	for i, r := range l.records {
		out[i] = r.copy()
	}
	return out
}

func (r *Record) copy() Record {
	c := *r
	c.SentAt = append([]time.Time(nil), r.SentAt...)
	c.ACKs = append([]ACKSeen(nil), r.ACKs...)
	if r.ACK != nil {
		a := *r.ACK
		c.ACK = &a
	}
	return c
}

// Close drops the lab's connection. A Send or Run in progress fails.
func (l *Lab) Close() error {
	l.mu.Lock()
	l.closed = true
	conn := l.conn
	l.conn = nil
	l.mu.Unlock()
	if conn != nil {
		conn.shutdown()
	}
	return nil
}

// Message builds the ORU^R01 for a report as this lab sends it.
func (l *Lab) Message(rep synthetic.LabReport) *hl7.Message {
	o := hl7.ORU{
		Header: hl7.Header{
			SendingApp: "SHAKEDOWN-LIMS", SendingFacility: rep.PerformingLab,
			ReceivingApp: "GPSYS", ReceivingFacility: rep.Patient.Practice,
			Time: rep.Reported, ControlID: rep.ControlID, Version: l.cfg.version,
			AcceptAck: "AL", AppAck: "NE",
		},
		PatientIDs: []hl7.CX{{ID: rep.Patient.NHSNumber, Authority: NHSAuthority, Type: NHSIdentifierType}},
		Family:     rep.Patient.Family, Given: rep.Patient.Given,
		BirthDate: compactDate(rep.Patient.BirthDate), Sex: sex(rep.Patient.Gender),
		Placer: rep.Placer, Filler: rep.Filler,
		Service:  hl7.CE{Code: rep.PanelCode, Text: rep.PanelDisplay, System: rep.CodingSystem},
		Observed: rep.Collected, Reported: rep.Reported, Requester: rep.Requester, Status: rep.Status,
	}
	for _, x := range rep.Observations {
		o.Observations = append(o.Observations, hl7.OBX{
			ValueType: x.ValueType, Code: hl7.CE{Code: x.Code, Text: x.Display, System: rep.CodingSystem},
			Value: x.Value, Units: x.Units, Range: x.Range, Flag: x.Flag, Status: x.Status,
		})
	}
	if rep.Status == synthetic.LabCancelled {
		o.Notes = []string{"Test cancelled: sample not received"}
	}
	return hl7.BuildORU(o)
}

func compactDate(d string) string {
	out := make([]byte, 0, 8)
	for i := 0; i < len(d); i++ {
		if d[i] != '-' {
			out = append(out, d[i])
		}
	}
	return string(out)
}

func sex(g string) string {
	switch g {
	case "female":
		return "F"
	case "male":
		return "M"
	case "other":
		return "O"
	}
	return "U"
}

// Send generates n results and delivers them one after another, each to
// its conclusion (ACK, give-up or ctx end), and returns their records.
func (l *Lab) Send(ctx context.Context, n int) ([]Record, error) {
	var out []Record
	for range n {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, _ := l.SendOne(ctx)
		out = append(out, r)
	}
	return out, ctx.Err()
}

// SendOne generates the next seeded result, delivers it and waits for its
// outcome: a matching ACK (Outcome AA, AE or AR), no matching ACK after
// WithMaxAttempts (OutcomeNoACK; with no cap it resends on every ACK
// timeout, same MSH-10, until ctx ends), a SilentDrop (OutcomeDropped) or
// the end of ctx. It is safe to call from many goroutines: sends are
// serialised, one message in flight on the connection, and each result is
// generated only when its turn comes, so results go out in seed order.
//
// The error is non-nil only when the delivery could not run to an outcome:
// ctx ended (ctx.Err(); the Record is then OutcomeCancelled, or zero when
// ctx ended while waiting for the turn and no result was generated) or the
// lab was closed. AE, AR and no-ack are outcomes, not errors.
func (l *Lab) SendOne(ctx context.Context) (Record, error) {
	select {
	case l.sendSem <- struct{}{}:
	case <-ctx.Done():
		return Record{}, ctx.Err()
	}
	defer func() { <-l.sendSem }()
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	return l.deliverLocked(ctx, l.gen.Next())
}

// Run generates one result every interval until ctx ends and delivers them
// in order, one in flight: results due while the previous one is still
// waiting for its ACK (or held by a Backlog fault) queue up behind it. It
// returns when ctx ends, after the delivery in progress gives up.
func (l *Lab) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("pathology: run interval must be positive, got %v", interval)
	}
	var (
		mu    sync.Mutex
		queue []synthetic.LabReport
		wake  = make(chan struct{}, 1)
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			mu.Lock()
			if len(queue) == 0 {
				mu.Unlock()
				select {
				case <-wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			rep := queue[0]
			queue = queue[1:]
			mu.Unlock()
			l.deliver(ctx, rep)
		}
	})
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		mu.Lock()
		queue = append(queue, l.gen.Next())
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			wg.Wait()
			return nil
		}
	}
}

func (l *Lab) record(kind string, keys, attrs map[string]string) {
	if _, err := l.journal.Record(kind, keys, attrs); err != nil {
		l.cfg.log.Warn("pathology: journal write failed", "kind", kind, "err", err)
	}
}

func (l *Lab) update(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

// deliver sends one report until a matching ACK, the attempt cap or ctx end.
func (l *Lab) deliver(ctx context.Context, rep synthetic.LabReport) Record {
	select {
	case l.sendSem <- struct{}{}:
	case <-ctx.Done():
		return Record{MSH10: rep.ControlID, NHSNumber: rep.Patient.NHSNumber, Status: rep.Status, TestCode: rep.PanelCode, Outcome: OutcomeCancelled}
	}
	defer func() { <-l.sendSem }()
	r, _ := l.deliverLocked(ctx, rep)
	return r
}

// deliverLocked is deliver for a caller holding sendSem. Its error is why
// it ended without an outcome (ctx end or the lab closed).
func (l *Lab) deliverLocked(ctx context.Context, rep synthetic.LabReport) (Record, error) {
	m := l.Message(rep)
	msg := m.Bytes()
	rec := &Record{MSH10: rep.ControlID, NHSNumber: rep.Patient.NHSNumber, Status: rep.Status, TestCode: rep.PanelCode, ContentHash: ContentHash(m)}
	l.update(func() { l.records = append(l.records, rec) })
	keys := map[string]string{keyMSH10: rec.MSH10, keyNHSNumber: rec.NHSNumber, keyContentHash: rec.ContentHash}
	snapshot := func() (Record, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return rec.copy(), nil
	}
	cancelled := func(err error) (Record, error) {
		l.update(func() { rec.Outcome = OutcomeCancelled })
		r, _ := snapshot()
		if err == nil {
			err = ctx.Err()
		}
		return r, err
	}

	// Backlog: hold while an outage fault is active.
	if l.faults.active(Backlog) {
		if _, ok := l.faults.pick(Backlog); ok {
			l.update(func() { rec.Held = true })
			l.record("result.held", keys, nil)
			for l.faults.active(Backlog) {
				select {
				case <-l.faults.watch():
				case <-ctx.Done():
					return cancelled(ctx.Err())
				}
			}
		}
	}
	if _, ok := l.faults.pick(SilentDrop); ok {
		l.update(func() {
			rec.Dropped, rec.Outcome = true, OutcomeDropped
			rec.SentAt = append(rec.SentAt, l.cfg.now())
		})
		l.record("result.sent", keys, map[string]string{"attempt": "1", "status": rec.Status})
		l.record("result.dropped", keys, nil)
		return snapshot()
	}
	copies := 1
	if f, ok := l.faults.pick(Burst); ok {
		copies = max(f.Times, 2)
	}

	reason := ""
	for round := 1; ; round++ {
		conn, err := l.connect(ctx)
		if err != nil {
			return cancelled(err)
		}
		var werr error
		for k := range copies {
			if werr = hl7.NewWriter(conn.c).WriteFrame(msg); werr != nil {
				break
			}
			var attempt int
			l.update(func() {
				rec.SentAt = append(rec.SentAt, l.cfg.now())
				attempt = len(rec.SentAt)
			})
			attrs := map[string]string{"attempt": itoa(attempt), "status": rec.Status}
			switch {
			case attempt == 1:
				l.record("result.sent", keys, attrs)
			case k > 0:
				attrs["reason"] = "burst"
				l.record("result.resent", keys, attrs)
			default:
				attrs["reason"] = reason
				l.record("result.resent", keys, attrs)
			}
		}
		need := copies
		copies = 1
		if werr != nil {
			l.dropConn(conn)
			reason = "connection-lost"
		} else {
			reason = l.awaitACKs(ctx, conn, rec, need)
			if reason == "" {
				return snapshot()
			}
		}
		if ctx.Err() != nil {
			return cancelled(ctx.Err())
		}
		if l.cfg.maxAttempts > 0 && round >= l.cfg.maxAttempts {
			l.update(func() { rec.Outcome = OutcomeNoACK })
			return snapshot()
		}
	}
}

// awaitACKs waits up to the ACK timeout for need matching ACKs. It returns
// "" when they came (or the first matched with AE/AR), otherwise why it
// stopped waiting: "ack-timeout", "connection-lost" or "cancelled".
func (l *Lab) awaitACKs(ctx context.Context, conn *labConn, rec *Record, need int) string {
	t := time.NewTimer(l.cfg.ackTimeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "cancelled"
		case <-t.C:
			l.update(func() {
				if rec.ACK != nil {
					rec.Outcome = rec.ACK.Code
				}
			})
			if snapshotACK(l, rec) {
				return ""
			}
			return "ack-timeout"
		case fe, ok := <-conn.frames:
			if !ok || fe.err != nil {
				l.dropConn(conn)
				if snapshotACK(l, rec) {
					return ""
				}
				return "connection-lost"
			}
			seen := ACKSeen{At: l.cfg.now()}
			if m, err := hl7.Parse(fe.frame); err != nil {
				seen.Error = err.Error()
				seen.MSA2 = ""
			} else {
				seen.Code, seen.MSA2 = m.Get("MSA-1"), m.Get("MSA-2")
			}
			seen.Matched = seen.Error == "" && seen.MSA2 == rec.MSH10
			if !seen.Matched && seen.Error == "" {
				seen.Late = l.sentBefore(seen.MSA2)
			}
			attrs := map[string]string{"code": seen.Code, "msa2": seen.MSA2, "matched": fmt.Sprint(seen.Matched)}
			if seen.Error != "" {
				attrs["error"] = seen.Error
			}
			l.record("ack.received", map[string]string{keyMSH10: rec.MSH10}, attrs)
			done := false
			l.update(func() {
				rec.ACKs = append(rec.ACKs, seen)
				if seen.Matched {
					if rec.ACK == nil {
						a := seen
						rec.ACK = &a
						rec.Outcome = seen.Code
					}
					need--
					done = need <= 0
				}
			})
			if done {
				return ""
			}
		}
	}
}

func snapshotACK(l *Lab, rec *Record) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return rec.ACK != nil
}

// connect returns the current connection, dialling (and redialling every
// reconnect delay) until it succeeds or ctx ends.
func (l *Lab) connect(ctx context.Context) (*labConn, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errors.New("pathology: lab closed")
	}
	if c := l.conn; c != nil {
		l.mu.Unlock()
		return c, nil
	}
	l.mu.Unlock()
	for {
		c, err := l.cfg.dial(ctx)
		if err == nil {
			lc := &labConn{c: c, frames: make(chan frameOrErr, 64), done: make(chan struct{})}
			lc.wg.Go(func() {
				defer close(lc.frames)
				r := hl7.NewReader(c, l.cfg.maxFrame)
				for {
					f, err := r.ReadFrame()
					var fe *hl7.FrameError
					if err != nil && errors.As(err, &fe) {
						l.cfg.log.Warn("pathology lab: bad MLLP framing from receiver", "err", err)
						continue
					}
					select {
					case lc.frames <- frameOrErr{frame: f, err: err}:
					case <-lc.done:
						return
					}
					if err != nil {
						return
					}
				}
			})
			l.mu.Lock()
			if l.closed {
				l.mu.Unlock()
				lc.shutdown()
				return nil, errors.New("pathology: lab closed")
			}
			l.conn = lc
			l.mu.Unlock()
			return lc, nil
		}
		l.cfg.log.Debug("pathology lab: dial failed", "target", l.target, "err", err)
		t := time.NewTimer(l.cfg.reconnectDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (l *Lab) dropConn(c *labConn) {
	l.mu.Lock()
	if l.conn == c {
		l.conn = nil
	}
	l.mu.Unlock()
	c.shutdown()
}

func (lc *labConn) shutdown() {
	lc.once.Do(func() { close(lc.done) })
	lc.close()
}

// sentBefore reports whether this lab has sent a message with control id
// msh10.
func (l *Lab) sentBefore(msh10 string) bool {
	if msh10 == "" {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.MSH10 == msh10 && len(r.SentAt) > 0 {
			return true
		}
	}
	return false
}
