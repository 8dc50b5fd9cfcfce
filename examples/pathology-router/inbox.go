package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The router's own MESH inbox: the practice (or anyone) may send it
// messages, for example PATH_BS_R4_ACK business acknowledgements of the
// results it forwarded, and MESH sends it undelivered REPORTs. A message
// left unacknowledged stays in the inbox and, after MESH's expiry, goes back
// to its sender as undeliverable, so both modes poll the inbox, download
// each message and acknowledge it; they differ in how (see inboxPoller).

// maxInboxBody bounds one downloaded message (all chunks together).
const maxInboxBody = 20 << 20

// meshCallError is an inbox call (list, download, acknowledge) that did
// not succeed.
type meshCallError struct {
	op         string
	status     int           // 0: no HTTP answer (timeout, reset, refused)
	retryAfter time.Duration // from Retry-After on 429/503
	err        error
}

func (e *meshCallError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("mesh %s: no answer: %v", e.op, e.err)
	}
	return fmt.Sprintf("mesh %s: HTTP %d: %v", e.op, e.status, e.err)
}

func (e *meshCallError) Unwrap() error { return e.err }

// gone: MESH no longer holds the message for this mailbox (already
// acknowledged or expired), so there is nothing left to do with it.
func (e *meshCallError) gone() bool {
	return e.status == http.StatusGone || e.status == http.StatusNotFound
}

func (c *meshClient) callError(op string, resp *http.Response, body []byte) *meshCallError {
	e := &meshCallError{op: op, status: resp.StatusCode, err: errors.New(snippet(body))}
	if s := resp.StatusCode; s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	return e
}

// listInbox returns the ids of the messages waiting in the inbox, oldest
// first, following the v2 "next" links.
func (c *meshClient) listInbox(ctx context.Context) ([]string, error) {
	var ids []string
	path := "/inbox"
	for range 100 { // MESH lists at most 5000 a page; 100 pages is plenty
		req, err := c.newRequest(ctx, http.MethodGet, path, nil)
		if err != nil {
			return ids, &meshCallError{op: "list inbox", err: err}
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return ids, &meshCallError{op: "list inbox", err: err}
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return ids, c.callError("list inbox", resp, body)
		}
		if rerr != nil {
			return ids, &meshCallError{op: "list inbox", status: resp.StatusCode, err: rerr}
		}
		var page struct {
			Messages []string          `json:"messages"`
			Links    map[string]string `json:"links"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return ids, &meshCallError{op: "list inbox", status: resp.StatusCode, err: fmt.Errorf("not an inbox listing: %q", snippet(body))}
		}
		ids = append(ids, page.Messages...)
		next := page.Links["next"]
		if next == "" {
			return ids, nil
		}
		// next is a path from the API root: keep only what follows the mailbox.
		_, rest, ok := strings.Cut(next, "/"+c.mailbox+"/inbox")
		if !ok {
			return ids, nil
		}
		path = "/inbox" + rest
	}
	return ids, nil
}

// inboxMessage is one downloaded message with the MESH headers that say
// what it is.
type inboxMessage struct {
	ID          string
	From        string
	WorkflowID  string
	LocalID     string
	MessageType string // DATA or REPORT
	ContentType string
	Body        []byte
}

// download fetches every chunk of one inbox message.
func (c *meshClient) download(ctx context.Context, id string) (inboxMessage, error) {
	msg := inboxMessage{ID: id}
	for chunk, total := 1, 1; chunk <= total; chunk++ {
		path := "/inbox/" + url.PathEscape(id)
		if chunk > 1 {
			path += "/" + strconv.Itoa(chunk)
		}
		req, err := c.newRequest(ctx, http.MethodGet, path, nil)
		if err != nil {
			return msg, &meshCallError{op: "download", err: err}
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return msg, &meshCallError{op: "download", err: err}
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxInboxBody+1))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
			return msg, c.callError("download", resp, body)
		}
		if rerr != nil {
			return msg, &meshCallError{op: "download", status: resp.StatusCode, err: rerr}
		}
		if chunk == 1 {
			h := resp.Header
			msg.From, msg.WorkflowID, msg.LocalID = h.Get("Mex-From"), h.Get("Mex-WorkflowID"), h.Get("Mex-LocalID")
			msg.MessageType, msg.ContentType = h.Get("Mex-MessageType"), h.Get("Content-Type")
			if _, n, ok := strings.Cut(h.Get("Mex-Chunk-Range"), ":"); ok {
				if t, err := strconv.Atoi(n); err == nil && t > 1 && t <= 1000 {
					total = t
				}
			}
		}
		msg.Body = append(msg.Body, body...)
		if len(msg.Body) > maxInboxBody {
			return msg, &meshCallError{op: "download", status: resp.StatusCode, err: fmt.Errorf("message larger than %d bytes", maxInboxBody)}
		}
	}
	return msg, nil
}

// acknowledge marks one inbox message acknowledged, which removes it from
// the inbox. MESH accepts a repeated acknowledgement.
func (c *meshClient) acknowledge(ctx context.Context, id string) error {
	req, err := c.newRequest(ctx, http.MethodPut, "/inbox/"+url.PathEscape(id)+"/status/acknowledged", nil)
	if err != nil {
		return &meshCallError{op: "acknowledge", err: err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &meshCallError{op: "acknowledge", err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return c.callError("acknowledge", resp, body)
	}
	return nil
}

// inboxPoller polls the router's MESH inbox every poll interval.
//
// Resilient (store set): for each listed message not yet stored it
// downloads the message, logs it, writes a record of it to the inbox store
// (temp file, fsync, rename) and only then acknowledges it, marking the
// record acknowledged. A message already stored (a crash or a failed
// acknowledgement since) is not downloaded or processed again, only
// acknowledged. A failed call is retried after Retry-After (429/503) or a
// capped, jittered backoff, and one bad message never holds up the rest.
//
// Naive (no store): each poll lists the inbox once and works down it,
// downloading, parsing the body as JSON and acknowledging what parsed. It
// does not retry or back off (it ignores Retry-After and polls again at the
// next tick), and it has the two bugs behind the unacknowledged-message
// incident: the first error of a poll ends the poll, so everything listed
// after a failed message waits for the next tick; and, to avoid handling a
// message twice, it remembers every id it has started on before the
// download, so a message whose download, parse or acknowledgement failed is
// skipped on every later poll and stays in the inbox, unacknowledged, until
// MESH expires it back to its sender.
type inboxPoller struct {
	cfg   config
	mesh  *meshClient
	log   *slog.Logger
	store *inboxStore // nil in naive mode

	mu      sync.Mutex
	started map[string]bool // naive: ids it has started on

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func newInboxPoller(cfg config, mc *meshClient, log *slog.Logger, store *inboxStore) *inboxPoller {
	ctx, cancel := context.WithCancel(context.Background())
	return &inboxPoller{cfg: cfg, mesh: mc, log: log.With("inbox", cfg.mailbox), store: store,
		started: map[string]bool{}, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// start begins polling, unless polling is off (poll interval 0).
func (p *inboxPoller) start() {
	p.once.Do(func() {
		if p.cfg.pollInterval <= 0 {
			close(p.done)
			return
		}
		go p.run()
	})
}

func (p *inboxPoller) shutdown(ctx context.Context) error {
	p.cancel()
	p.once.Do(func() { close(p.done) }) // never started
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *inboxPoller) run() {
	defer close(p.done)
	streak := 0
	for {
		wait := p.cfg.pollInterval
		if p.store == nil {
			p.pollNaive()
		} else if d, failed := p.pollResilient(); failed {
			streak++
			wait = max(wait, backoff(p.cfg.backoffBase, p.cfg.backoffCap, streak))
			if d > 0 {
				wait = max(d, p.cfg.pollInterval) // Retry-After says when
			}
		} else {
			streak = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (p *inboxPoller) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, p.cfg.attemptTimeout)
}

// pollNaive is one naive poll (see inboxPoller).
func (p *inboxPoller) pollNaive() {
	ctx, cancel := p.callCtx()
	ids, err := p.mesh.listInbox(ctx)
	cancel()
	if err != nil {
		p.log.Warn("cannot list the inbox", "err", err)
		return
	}
	for _, id := range ids {
		if p.ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		seen := p.started[id]
		p.started[id] = true
		p.mu.Unlock()
		if seen {
			continue
		}
		log := p.log.With("message_id", id)
		ctx, cancel := p.callCtx()
		msg, err := p.mesh.download(ctx, id)
		cancel()
		if err != nil {
			log.Error("cannot download the message", "err", err)
			return
		}
		if !json.Valid(msg.Body) {
			log.Error("message body is not JSON; not acknowledged", "workflow", msg.WorkflowID, "bytes", len(msg.Body))
			return
		}
		ctx, cancel = p.callCtx()
		err = p.mesh.acknowledge(ctx, id)
		cancel()
		if err != nil {
			log.Error("cannot acknowledge the message", "err", err)
			return
		}
		log.Info("inbox message received and acknowledged", "workflow", msg.WorkflowID, "local_id", msg.LocalID, "from", msg.From)
	}
}

// pollResilient is one resilient poll. It returns how long MESH asked to
// wait and whether anything failed (so the poller backs off).
func (p *inboxPoller) pollResilient() (time.Duration, bool) {
	var ids []string
	if d, err := p.retry("list inbox", func(ctx context.Context) error {
		var err error
		ids, err = p.mesh.listInbox(ctx)
		return err
	}); err != nil {
		p.log.Warn("cannot list the inbox; will poll again", "err", err)
		return d, true
	}
	var wait time.Duration
	failed := false
	for _, id := range ids {
		if p.ctx.Err() != nil {
			return 0, false
		}
		d, err := p.collect(id)
		if err != nil {
			failed = true
			wait = max(wait, d)
			p.log.Warn("inbox message not collected yet; will retry", "message_id", id, "err", err)
			if unavailable(err) {
				// MESH itself is unavailable or throttling us: stop
				// hammering it and back off; the rest stay in the inbox.
				return wait, true
			}
		}
	}
	return wait, failed
}

// collect downloads, stores and acknowledges one message, or only
// acknowledges it if it is already stored.
func (p *inboxPoller) collect(id string) (time.Duration, error) {
	log := p.log.With("message_id", id)
	rec, have := p.store.get(id)
	if have && rec.Acknowledged {
		// Acknowledged, yet listed again (MESH lost our acknowledgement's
		// effect or answer): acknowledge again, nothing else.
		log.Info("already received and acknowledged; acknowledging again")
	} else if have {
		log.Info("already received; not processed again, only acknowledged")
	} else {
		var msg inboxMessage
		d, err := p.retry("download", func(ctx context.Context) error {
			var err error
			msg, err = p.mesh.download(ctx, id)
			return err
		})
		var ce *meshCallError
		if errors.As(err, &ce) && ce.gone() {
			log.Info("message no longer in MESH (acknowledged or expired); skipping", "err", err)
			return 0, nil
		}
		if err != nil {
			return d, err
		}
		if msg.MessageType == "REPORT" {
			log.Warn("MESH report received (a message we sent was not delivered)", "local_id", msg.LocalID)
		}
		log.Info("inbox message received", "workflow", msg.WorkflowID, "local_id", msg.LocalID, "from", msg.From,
			"type", msg.MessageType, "bytes", len(msg.Body), "json", json.Valid(msg.Body))
		if rec, err = p.store.add(msg, time.Now().UTC()); err != nil {
			// Not stored: do not acknowledge; MESH keeps it for the next poll.
			log.Error("cannot store the inbox message; not acknowledging it", "err", err)
			return 0, err
		}
	}
	d, err := p.retry("acknowledge", func(ctx context.Context) error { return p.mesh.acknowledge(ctx, id) })
	var ce *meshCallError
	if err != nil && !(errors.As(err, &ce) && ce.gone()) {
		return d, err
	}
	if !rec.Acknowledged {
		if err := p.store.markAcknowledged(id, time.Now().UTC()); err != nil {
			log.Warn("acknowledged, but cannot record it; MESH has it acknowledged", "err", err)
		}
	}
	log.Info("inbox message acknowledged")
	return 0, nil
}

// retry runs call up to three times, waiting Retry-After (capped at the
// backoff cap) or a jittered backoff between tries; it gives up early on
// an error retrying cannot fix. It returns the last Retry-After and error.
func (p *inboxPoller) retry(what string, call func(ctx context.Context) error) (time.Duration, error) {
	var err error
	for try := 1; ; try++ {
		ctx, cancel := p.callCtx()
		err = call(ctx)
		cancel()
		if err == nil {
			return 0, nil
		}
		var ce *meshCallError
		if !errors.As(err, &ce) || ce.gone() || (ce.status >= 400 && ce.status < 500 && ce.status != http.StatusTooManyRequests &&
			ce.status != http.StatusForbidden && ce.status != http.StatusRequestTimeout) {
			return 0, err
		}
		if try >= 3 || p.ctx.Err() != nil {
			return ce.retryAfter, err
		}
		d := backoff(p.cfg.backoffBase, p.cfg.backoffCap, try)
		if ce.retryAfter > 0 {
			d = min(ce.retryAfter, p.cfg.backoffCap)
		}
		p.log.Debug("MESH call failed; retrying", "call", what, "err", err, "wait", d)
		t := time.NewTimer(d)
		select {
		case <-p.ctx.Done():
			t.Stop()
			return 0, err
		case <-t.C:
		}
	}
}

// unavailable: err says MESH is down or throttling (no answer, 429, 503),
// not that one message is bad.
func unavailable(err error) bool {
	var ce *meshCallError
	return errors.As(err, &ce) && (ce.status == 0 || ce.status == http.StatusTooManyRequests || ce.status == http.StatusServiceUnavailable)
}

// inboxRecord is what the resilient router keeps of one received message,
// one file per MESH message id.
type inboxRecord struct {
	Version      int       `json:"version"`
	MessageID    string    `json:"messageId"`
	From         string    `json:"from,omitempty"`
	WorkflowID   string    `json:"workflowId,omitempty"`
	LocalID      string    `json:"localId,omitempty"`
	MessageType  string    `json:"messageType,omitempty"`
	ContentType  string    `json:"contentType,omitempty"`
	Body         []byte    `json:"body"`
	ReceivedAt   time.Time `json:"receivedAt"`
	Acknowledged bool      `json:"acknowledged"`
	AckedAt      time.Time `json:"ackedAt,omitzero"`
}

// inboxStore keeps received messages durably under <state-dir>/inbox, the
// same way the outbox does (temp file, fsync, rename, directory fsync).
type inboxStore struct {
	dir string

	mu   sync.Mutex
	recs map[string]inboxRecord
}

func openInboxStore(stateDir string) (*inboxStore, error) {
	dir := filepath.Join(stateDir, "inbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating inbox directory: %w", err)
	}
	s := &inboxStore{dir: dir, recs: map[string]inboxRecord{}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading inbox: %w", err)
	}
	for _, de := range des {
		name, path := de.Name(), filepath.Join(dir, de.Name())
		if strings.HasPrefix(name, ".tmp-") {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("removing unfinished write %s: %w", path, err)
			}
			continue
		}
		if de.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		var rec inboxRecord
		if err := json.Unmarshal(b, &rec); err != nil || rec.MessageID == "" {
			return nil, fmt.Errorf("inbox record %s is corrupt", path)
		}
		s.recs[rec.MessageID] = rec
	}
	return s, nil
}

func (s *inboxStore) get(id string) (inboxRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[id]
	return rec, ok
}

// add stores msg unless its id is already there, and returns the record.
func (s *inboxStore) add(msg inboxMessage, now time.Time) (inboxRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.recs[msg.ID]; ok {
		return rec, nil
	}
	rec := inboxRecord{Version: 1, MessageID: msg.ID, From: msg.From, WorkflowID: msg.WorkflowID, LocalID: msg.LocalID,
		MessageType: msg.MessageType, ContentType: msg.ContentType, Body: msg.Body, ReceivedAt: now}
	if err := s.write(rec); err != nil {
		return rec, err
	}
	s.recs[msg.ID] = rec
	return rec, nil
}

func (s *inboxStore) markAcknowledged(id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.recs[id]
	rec.Acknowledged, rec.AckedAt = true, now
	if err := s.write(rec); err != nil {
		return err
	}
	s.recs[id] = rec
	return nil
}

func (s *inboxStore) count() (received, acknowledged int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		received++
		if r.Acknowledged {
			acknowledged++
		}
	}
	return received, acknowledged
}

func (s *inboxStore) write(rec inboxRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(rec.MessageID))
	final := filepath.Join(s.dir, hex.EncodeToString(sum[:])+".json")
	f, err := os.CreateTemp(s.dir, ".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(s.dir)
}
