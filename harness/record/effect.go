package record

import (
	"time"

	"github.com/shakedown-harness/shakedown/mocks/journal"
)

// Effect is a mock journal entry placed on the run clock.
type Effect struct {
	Service string            `json:"service"`
	Kind    string            `json:"kind"`
	At      time.Duration     `json:"at"`
	Keys    map[string]string `json:"keys,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// Key returns the correlation key k, or "".
func (e Effect) Key(k string) string { return e.Keys[k] }

// EffectsOf converts journal entries to effects on clock c.
func EffectsOf(c *Clock, entries []journal.Entry) []Effect {
	out := make([]Effect, 0, len(entries))
	for _, e := range entries {
		out = append(out, Effect{
			Service: e.Service,
			Kind:    e.Kind,
			At:      c.Offset(e.Time),
			Keys:    e.Keys,
			Attrs:   e.Attrs,
		})
	}
	return out
}
