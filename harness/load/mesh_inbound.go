package load

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shakedown-harness/shakedown/harness/record"
)

// ActionMESHDeliver is the Action of every mesh-inbound operation.
const ActionMESHDeliver = "mesh-deliver"

// Correlation keys of a mesh-inbound operation: the MESH message id the mock
// gave the delivered message and the local id it was delivered with. The
// MESH mock journals the same names on message.delivered, .downloaded and
// .acknowledged.
const (
	KeyMESHMessageID = "message_id"
	KeyMESHLocalID   = "local_id"
)

// DefaultInboundWorkflow is the MESH workflow of the messages mesh-inbound
// delivers: the practice's business acknowledgement of a pathology report.
const DefaultInboundWorkflow = "PATH_BS_R4_ACK"

// MESHDeliverer drops a message into a MESH mailbox as if another
// organisation had sent it; *mesh.Mock implements it.
type MESHDeliverer interface {
	Deliver(ctx context.Context, to, workflow string, body []byte, localID string) (string, error)
}

// MESHInboundConfig configures the mesh-inbound workload.
type MESHInboundConfig struct {
	// MESH delivers the messages (required).
	MESH MESHDeliverer
	// To is the SUT's mailbox (required).
	To string
	// Workflow is the MESH workflow id (default DefaultInboundWorkflow).
	Workflow string
	// Seed makes local ids and bodies reproducible.
	Seed uint64
	// Clock is the run clock for Call and Return (default: a new clock,
	// only sensible in tests).
	Clock *record.Clock
}

// MESHInbound is the mesh-inbound workload: one message per arrival is
// delivered into the SUT's MESH mailbox (through the mock, not the SUT's
// API), and the SUT is expected to download and acknowledge it (judged by
// the mesh-acknowledged check from the MESH journal). One operation per
// message: Action "mesh-deliver", OK when MESH accepted it, Fail otherwise,
// with keys message_id and local_id. It is safe for concurrent use.
type MESHInbound struct {
	mesh     MESHDeliverer
	to       string
	workflow string
	seed     uint64
	clock    *record.Clock
}

var _ Workload = (*MESHInbound)(nil)

// NewMESHInbound returns the workload. It panics if cfg.MESH is nil or
// cfg.To is empty (a bug in the caller).
func NewMESHInbound(cfg MESHInboundConfig) *MESHInbound {
	if cfg.MESH == nil {
		panic("load.NewMESHInbound: no MESH")
	}
	if cfg.To == "" {
		panic("load.NewMESHInbound: no mailbox")
	}
	w := &MESHInbound{mesh: cfg.MESH, to: cfg.To, workflow: cfg.Workflow, seed: cfg.Seed, clock: cfg.Clock}
	if w.workflow == "" {
		w.workflow = DefaultInboundWorkflow
	}
	if w.clock == nil {
		w.clock = record.NewClock(time.Now)
	}
	return w
}

// Name is the workload's scenario name.
func (w *MESHInbound) Name() string { return "mesh-inbound" }

// LocalID is the local id of arrival n: unique per arrival within a run,
// reproducible from the seed.
func (w *MESHInbound) LocalID(n uint64) string {
	return fmt.Sprintf("SHKIN-%08X-%06d", uint32(w.seed^w.seed>>32), n)
}

// Body is the message body of arrival n: a small seeded JSON business
// acknowledgement.
func (w *MESHInbound) Body(n uint64) []byte {
	r := rand.New(rand.NewPCG(w.seed, n^0x6d657368))
	statuses := []string{"accepted", "accepted", "accepted", "filed", "query"}
	b, _ := json.Marshal(map[string]any{
		"resourceType": "MessageAcknowledgement",
		"localId":      w.LocalID(n),
		"acknowledges": fmt.Sprintf("MSG%010d", r.Uint64N(1e10)),
		"status":       statuses[r.IntN(len(statuses))],
		"sequence":     n,
	})
	return b
}

// Iterate delivers one message into the SUT's mailbox.
func (w *MESHInbound) Iterate(ctx context.Context, a Arrival) record.Operation {
	local := w.LocalID(a.N)
	op := record.Operation{Action: ActionMESHDeliver, Call: w.clock.Now()}
	id, err := w.mesh.Deliver(ctx, w.to, w.workflow, w.Body(a.N), local)
	op.Return = w.clock.Now()
	op.Keys = map[string]string{KeyMESHLocalID: local}
	if id != "" {
		op.Keys[KeyMESHMessageID] = id
	}
	switch {
	case err == nil && id != "":
		op.Outcome = record.OK
	case err == nil:
		op.Outcome = record.Fail
		op.Error = "MESH returned no message id"
	default:
		op.Outcome = record.Fail
		op.Error = "MESH did not accept the message: " + err.Error()
	}
	return op
}
