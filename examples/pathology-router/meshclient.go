package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"crypto/hmac"
	"crypto/sha256"
)

// meshClient is the little of the MESH API the router needs: send and
// tracking by local id, with NHSMESH authentication (INTERFACES §2).
type meshClient struct {
	base                         string // ends before /messageexchange
	mailbox, password, sharedKey string
	to                           string
	http                         *http.Client
	now                          func() time.Time
}

func newMeshClient(cfg config) *meshClient {
	return &meshClient{
		base: cfg.meshURL, mailbox: cfg.mailbox, password: cfg.password, sharedKey: cfg.sharedKey, to: cfg.meshTo,
		// No client-wide timeout: every call has its own context deadline.
		http: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		now:  time.Now,
	}
}

// token builds a single-use NHSMESH Authorization value: a fresh random
// nonce each time, nonce count 1.
func (c *meshClient) token() string {
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	ts := c.now().UTC().Format("200601021504")
	h := hmac.New(sha256.New, []byte(c.sharedKey))
	h.Write([]byte(c.mailbox + ":" + nonce + ":1:" + c.password + ":" + ts))
	return "NHSMESH " + c.mailbox + ":" + nonce + ":1:" + ts + ":" + hex.EncodeToString(h.Sum(nil))
}

func (c *meshClient) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/messageexchange/"+url.PathEscape(c.mailbox)+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.token())
	req.Header.Set("Accept", "application/vnd.mesh.v2+json")
	return req, nil
}

// sendError is a send that did not end in 202.
type sendError struct {
	status     int           // 0: no HTTP answer (timeout, reset, refused)
	uncertain  bool          // the message may have been stored
	permanent  bool          // resending the same request cannot succeed
	retryAfter time.Duration // from Retry-After on 429/503
	err        error
}

func (e *sendError) Error() string {
	if e.status == 0 {
		return "mesh send: no answer: " + e.err.Error()
	}
	return fmt.Sprintf("mesh send: HTTP %d: %v", e.status, e.err)
}

func (e *sendError) Unwrap() error { return e.err }

// send POSTs one message to the outbox and returns its MESH message id.
// POST /outbox is not idempotent: every call that reaches MESH makes a new
// message, so an error with uncertain set must be checked by tracking
// before anything is sent again.
func (c *meshClient) send(ctx context.Context, r *result) (string, error) {
	req, err := c.newRequest(ctx, http.MethodPost, "/outbox", r.Bundle)
	if err != nil {
		return "", &sendError{permanent: true, err: err}
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("mex-To", c.to)
	req.Header.Set("mex-WorkflowID", workflowID)
	req.Header.Set("mex-LocalID", r.MSH10)
	req.Header.Set("mex-Subject", r.Subject)
	req.Header.Set("mex-FileName", r.BundleID+".json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", &sendError{uncertain: true, err: err}
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusAccepted {
		if rerr != nil {
			return "", &sendError{status: resp.StatusCode, uncertain: true, err: fmt.Errorf("reading the 202: %w", rerr)}
		}
		var ok struct {
			V2 string `json:"message_id"`
			V1 string `json:"messageID"`
		}
		if err := json.Unmarshal(body, &ok); err != nil || cmp(ok.V2, ok.V1) == "" {
			return "", &sendError{status: resp.StatusCode, uncertain: true, err: fmt.Errorf("202 without a message id: %q", snippet(body))}
		}
		return cmp(ok.V2, ok.V1), nil
	}
	se := &sendError{status: resp.StatusCode, err: errors.New(snippet(body))}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		se.retryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
	case s == http.StatusForbidden || s == http.StatusRequestTimeout || s == 425:
		// Refused before it was stored: an auth or clock problem; retry.
	case s >= 500:
		// A gateway error may hide a message MESH stored.
		se.uncertain = true
	default:
		se.permanent = true
	}
	return "", se
}

// errNotFound is tracking's answer when MESH has no message with the local id.
var errNotFound = errors.New("no message with that local id")

// track looks the local id up in the sender's outbox. It returns the
// message id (the first, when MESH holds several), how many MESH holds, or
// errNotFound.
func (c *meshClient) track(ctx context.Context, localID string) (string, int, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/outbox/tracking?localID="+url.QueryEscape(localID), nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var t struct {
			V2 string `json:"message_id"`
			V1 string `json:"messageID"`
		}
		if err := json.Unmarshal(body, &t); err != nil || cmp(t.V2, t.V1) == "" {
			return "", 0, fmt.Errorf("tracking: 200 without a message id: %q", snippet(body))
		}
		return cmp(t.V2, t.V1), 1, nil
	case http.StatusMultipleChoices:
		var t struct {
			Messages []string `json:"messages"`
		}
		if err := json.Unmarshal(body, &t); err != nil || len(t.Messages) == 0 {
			return "", 0, fmt.Errorf("tracking: 300 without message ids: %q", snippet(body))
		}
		return t.Messages[0], len(t.Messages), nil
	case http.StatusNotFound:
		return "", 0, errNotFound
	default:
		return "", 0, fmt.Errorf("tracking: HTTP %d: %s", resp.StatusCode, snippet(body))
	}
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
