package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
)

func TestMESHInboundDelivers(t *testing.T) {
	m := mesh.New(mesh.WithMailbox("X26SUT01", "pw"), mesh.WithSharedKey("k"))
	w := load.NewMESHInbound(load.MESHInboundConfig{MESH: m, To: "X26SUT01", Seed: 7})
	require.Equal(t, "mesh-inbound", w.Name())

	seen := map[string]bool{}
	for n := range uint64(3) {
		op := w.Iterate(context.Background(), load.Arrival{N: n})
		require.Equal(t, record.OK, op.Outcome, op.Error)
		require.Equal(t, load.ActionMESHDeliver, op.Action)
		require.NotEmpty(t, op.Key(load.KeyMESHMessageID))
		require.Equal(t, w.LocalID(n), op.Key(load.KeyMESHLocalID))
		require.False(t, seen[op.Key(load.KeyMESHLocalID)], "local ids are unique per arrival")
		seen[op.Key(load.KeyMESHLocalID)] = true
		require.LessOrEqual(t, op.Call, op.Return)
	}
	m.Sweep()
	delivered := 0
	for _, e := range m.Journal().Entries() {
		if e.Kind == "message.delivered" {
			delivered++
			require.Equal(t, "X26SUT01", e.Keys["to"])
			require.Equal(t, load.DefaultInboundWorkflow, e.Keys["workflow"])
			require.True(t, seen[e.Keys["local_id"]])
		}
	}
	require.Equal(t, 3, delivered)
}

func TestMESHInboundSeededBody(t *testing.T) {
	a := load.NewMESHInbound(load.MESHInboundConfig{MESH: fakeDeliverer{}, To: "X", Seed: 1})
	b := load.NewMESHInbound(load.MESHInboundConfig{MESH: fakeDeliverer{}, To: "X", Seed: 1})
	c := load.NewMESHInbound(load.MESHInboundConfig{MESH: fakeDeliverer{}, To: "X", Seed: 2})
	require.Equal(t, a.Body(4), b.Body(4))
	require.Equal(t, a.LocalID(4), b.LocalID(4))
	require.NotEqual(t, a.LocalID(4), c.LocalID(4))
	require.NotEqual(t, a.LocalID(4), a.LocalID(5))
	var v map[string]any
	require.NoError(t, json.Unmarshal(a.Body(4), &v))
	require.Equal(t, a.LocalID(4), v["localId"])
}

type fakeDeliverer struct{ err error }

func (f fakeDeliverer) Deliver(context.Context, string, string, []byte, string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	return "ID1", nil
}

func TestMESHInboundFailures(t *testing.T) {
	clock := record.NewClock(time.Now)
	w := load.NewMESHInbound(load.MESHInboundConfig{MESH: fakeDeliverer{err: errors.New("boom")}, To: "X", Clock: clock})
	op := w.Iterate(context.Background(), load.Arrival{N: 1})
	require.Equal(t, record.Fail, op.Outcome)
	require.Contains(t, op.Error, "boom")
	require.Empty(t, op.Key(load.KeyMESHMessageID))
	require.Equal(t, w.LocalID(1), op.Key(load.KeyMESHLocalID))

	m := mesh.New(mesh.WithMailbox("X26SUT01", "pw"))
	w = load.NewMESHInbound(load.MESHInboundConfig{MESH: m, To: "X26NOPE1"})
	op = w.Iterate(context.Background(), load.Arrival{})
	require.Equal(t, record.Fail, op.Outcome)
	require.Contains(t, op.Error, "unregistered recipient")

	require.Panics(t, func() { load.NewMESHInbound(load.MESHInboundConfig{To: "X"}) })
	require.Panics(t, func() { load.NewMESHInbound(load.MESHInboundConfig{MESH: m}) })
}
