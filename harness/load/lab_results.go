package load

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// Correlation keys of a lab-results operation. The MESH mock journals the
// same names (local_id = MSH-10 when the SUT sets mex-LocalID from it), so
// the checks can join results to what reached the practice.
const (
	KeyMSH10          = "msh10"
	KeyContentHash    = "content_hash"
	KeyMismatchedACKs = "mismatched_acks"
	// KeyStrayACKs counts ACKs, among the mismatched ones, that named no
	// message the lab had sent (or could not be parsed): the SUT's fault.
	// The rest were late ACKs for the lab's own earlier messages.
	KeyStrayACKs = "stray_acks"
	KeyAttempts  = "attempts"
)

// ActionResult is the Action of every lab-results operation.
const ActionResult = "result"

// HL7 acknowledgement codes (MSA-1) a lab result can get.
const (
	ACKAccept = "AA"
	ACKError  = "AE"
	ACKReject = "AR"
)

// LabSend is what the lab knows about one result after sending it, in the
// workload's own terms so the workload does not depend on how the lab keeps
// its records (LabSenderFunc adapts a pathology.Lab).
type LabSend struct {
	MSH10       string
	NHSNumber   string
	ContentHash string
	// Attempts is how many copies of the message were written.
	Attempts int
	// FirstSent is when the first copy was written (zero if none was).
	FirstSent time.Time
	// Acked is when the matching ACK arrived (zero if none did).
	Acked time.Time
	// ACK is the matching ACK's MSA-1: AA, AE, AR, or "" when none came.
	ACK string
	// Matched: ACK is for this message (MSA-2 = its MSH-10).
	Matched bool
	// Mismatched counts ACKs for another message that arrived while this
	// one was in flight.
	Mismatched int
	// Stray counts the mismatched ACKs that named no message the lab had
	// sent, or could not be parsed.
	Stray int
}

// LabSender sends one result and waits for its ACK (or gives up). A
// pathology.Lab is adapted with a function literal; see NewLabResults.
type LabSender interface {
	SendOne(ctx context.Context) (LabSend, error)
}

// LabSenderFunc adapts a function to LabSender.
type LabSenderFunc func(ctx context.Context) (LabSend, error)

// SendOne calls f.
func (f LabSenderFunc) SendOne(ctx context.Context) (LabSend, error) { return f(ctx) }

// LabResultsConfig configures the lab-results workload.
type LabResultsConfig struct {
	// Lab sends the results (required).
	Lab LabSender
	// Clock is the run clock for Call and Return (default: a new clock,
	// only sensible in tests).
	Clock *record.Clock
}

// LabResults is the lab-results workload: the pathology lab sends one
// seeded ORU^R01 per arrival to the SUT over MLLP (through the inbound
// proxy) and waits for the SUT's ACK, resending on its ACK timeout. One
// operation per result:
//
//   - OK: a matching AA (the SUT took responsibility for the result, and
//     owes it to the practice);
//   - Fail: a matching AE or AR (the SUT refused it; the lab knows);
//   - Unknown: no matching ACK (timeout, reset, refused, the run's context
//     ended): the lab cannot tell whether the SUT has the result.
//
// Keys: msh10, nhs_number, content_hash, attempts, and mismatched_acks when
// an ACK for another message arrived while this one was in flight. The lab
// keeps one message in flight, so the workload is effectively serial
// whatever the arrival rate; arrivals that find the lab busy wait for it
// (their latency, measured from the intended time, shows the backlog).
type LabResults struct {
	lab   LabSender
	clock *record.Clock
}

var _ Workload = (*LabResults)(nil)

// NewLabResults returns the workload. It panics if cfg.Lab is nil (a bug
// in the caller).
func NewLabResults(cfg LabResultsConfig) *LabResults {
	if cfg.Lab == nil {
		panic("load.NewLabResults: no lab")
	}
	w := &LabResults{lab: cfg.Lab, clock: cfg.Clock}
	if w.clock == nil {
		w.clock = record.NewClock(time.Now)
	}
	return w
}

// Name is the workload's scenario name.
func (w *LabResults) Name() string { return "lab-results" }

// Iterate sends one result and waits for its ACK.
func (w *LabResults) Iterate(ctx context.Context, _ Arrival) record.Operation {
	op := record.Operation{Action: ActionResult, Call: w.clock.Now()}
	rec, err := w.lab.SendOne(ctx)
	op.Return = w.clock.Now()
	if !rec.FirstSent.IsZero() {
		// The lab may have waited for an earlier message to clear first;
		// the call is when this one actually went on the wire.
		op.Call = min(w.clock.Offset(rec.FirstSent), op.Return)
	}
	op.Keys = map[string]string{}
	for k, v := range map[string]string{
		KeyMSH10:            rec.MSH10,
		record.KeyNHSNumber: rec.NHSNumber,
		KeyContentHash:      rec.ContentHash,
		KeyAttempts:         strconv.Itoa(rec.Attempts),
		KeyMismatchedACKs:   strconv.Itoa(rec.Mismatched),
		KeyStrayACKs:        strconv.Itoa(rec.Stray),
	} {
		if v != "" && !(k == KeyMismatchedACKs && rec.Mismatched <= 0) && !(k == KeyStrayACKs && rec.Stray <= 0) {
			op.Keys[k] = v
		}
	}

	switch {
	case rec.Matched && rec.ACK == ACKAccept:
		op.Outcome = record.OK
	case rec.Matched && (rec.ACK == ACKError || rec.ACK == ACKReject):
		op.Outcome = record.Fail
		op.Error = fmt.Sprintf("the SUT answered %s (%s)", rec.ACK, ackMeaning(rec.ACK))
	default:
		op.Outcome = record.Unknown
		switch {
		case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil):
			op.Error = "no ACK before the timeout: " + err.Error()
		case err != nil:
			op.Error = "no ACK: " + err.Error()
		case ctx.Err() != nil:
			op.Error = "no ACK before the timeout: " + ctx.Err().Error()
		case rec.ACK != "":
			op.Error = fmt.Sprintf("ACK %s did not match the message", rec.ACK)
		default:
			op.Error = fmt.Sprintf("no ACK after %d %s", rec.Attempts, pluralWord(rec.Attempts, "attempt", "attempts"))
		}
	}
	if rec.Mismatched > 0 {
		note := fmt.Sprintf("%d ACK(s) for another message arrived while this one was in flight", rec.Mismatched)
		if op.Error == "" {
			op.Error = note
		} else {
			op.Error += "; " + note
		}
	}
	if err != nil && op.Outcome != record.Unknown && op.Error == "" {
		op.Error = err.Error()
	}
	return op
}

func ackMeaning(code string) string {
	if code == ACKReject {
		return "application reject"
	}
	return "application error"
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
