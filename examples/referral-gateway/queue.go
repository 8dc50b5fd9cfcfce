package main

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// delayQueue holds request ids, each due at a time. Any number of goroutines
// may wait on it.
type delayQueue struct {
	now func() time.Time

	mu      sync.Mutex
	items   dueHeap
	seq     uint64
	changed chan struct{} // closed and replaced on every push
}

func newDelayQueue() *delayQueue {
	return &delayQueue{now: time.Now, changed: make(chan struct{})}
}

// push schedules id at due.
func (q *delayQueue) push(id string, due time.Time) {
	q.mu.Lock()
	q.seq++
	heap.Push(&q.items, dueItem{id: id, due: due, seq: q.seq})
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
}

// pop waits for the earliest item to fall due and returns it.
func (q *delayQueue) pop(ctx context.Context) (string, error) {
	ids, err := q.take(ctx, 1)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// popAllDue waits until at least one item is due and returns every item
// that is due: the batch.
func (q *delayQueue) popAllDue(ctx context.Context) ([]string, error) {
	return q.take(ctx, -1)
}

// take returns up to limit due items (all of them if limit < 0).
func (q *delayQueue) take(ctx context.Context, limit int) ([]string, error) {
	for {
		q.mu.Lock()
		now := q.now()
		var out []string
		for q.items.Len() > 0 && !q.items[0].due.After(now) && (limit < 0 || len(out) < limit) {
			out = append(out, heap.Pop(&q.items).(dueItem).id)
		}
		if len(out) > 0 {
			q.mu.Unlock()
			return out, nil
		}
		changed := q.changed
		var timer <-chan time.Time
		var t *time.Timer
		if q.items.Len() > 0 {
			t = time.NewTimer(q.items[0].due.Sub(now))
			timer = t.C
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return nil, ctx.Err()
		case <-changed:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// len is the number of items waiting.
func (q *delayQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.items.Len()
}

type dueItem struct {
	id  string
	due time.Time
	seq uint64 // first in, first out among items due at the same time
}

type dueHeap []dueItem

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
