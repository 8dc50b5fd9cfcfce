package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// e-RS operation paths, relative to the base URL (which includes
// /referrals/FHIR).
const (
	pathCreateReferral = "/STU3/ReferralRequest/$ers.createReferral"
	pathFetchWorklist  = "/STU3/ReferralRequest/$ers.fetchworklist"
	pathReferral       = "/STU3/ReferralRequest/" // + UBRN

	fhirJSON = "application/fhir+json"

	// maxResponseBytes bounds what the gateway reads from e-RS; the real
	// gateway fails any worklist over 10 MB anyway.
	maxResponseBytes = 16 << 20
	// maxRetryAfter bounds an absurd Retry-After.
	maxRetryAfter = 10 * time.Minute
)

// ersClient talks to e-RS with the headers every call needs.
type ersClient struct {
	base             string
	hc               *http.Client
	token            string
	odsCode          string
	businessFunction string
	now              func() time.Time
}

func newERSClient(cfg config, hc *http.Client) *ersClient {
	return &ersClient{
		base:             cfg.ersURL,
		hc:               hc,
		token:            cfg.token,
		odsCode:          cfg.odsCode,
		businessFunction: cfg.businessFunction,
		now:              time.Now,
	}
}

// exchange is one HTTP exchange with e-RS.
type exchange struct {
	correlationID string
	status        int // 0 when no response arrived
	header        http.Header
	body          []byte
	retryAfter    time.Duration
	err           error // transport error, or an error reading the body
}

func (x exchange) hasRetryAfter() bool { return x.retryAfter > 0 }

// describe summarises the exchange for logs and the API.
func (x exchange) describe() string {
	if x.err != nil {
		return x.err.Error()
	}
	s := fmt.Sprintf("e-RS answered %d", x.status)
	if summary := operationOutcomeSummary(x.body); summary != "" && x.status >= 300 {
		s += " " + summary
	}
	return s
}

// do sends one request with a fresh X-Correlation-ID.
func (c *ersClient) do(ctx context.Context, method, path string, body []byte) exchange {
	x := exchange{correlationID: newCorrelationID()}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		x.err = err
		return x
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("NHSD-End-User-Organisation-ODS", c.odsCode)
	req.Header.Set("NHSD-eRS-Business-Function", c.businessFunction)
	req.Header.Set("X-Correlation-ID", x.correlationID)
	req.Header.Set("Accept", fhirJSON)
	if body != nil {
		req.Header.Set("Content-Type", fhirJSON)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		x.err = err
		return x
	}
	defer resp.Body.Close()
	x.status = resp.StatusCode
	x.header = resp.Header
	x.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	x.body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		x.err = fmt.Errorf("reading e-RS response (status %d): %w", resp.StatusCode, err)
	}
	return x
}

// outcome classifies a createReferral attempt.
type outcome int

const (
	// outcomeCreated: e-RS answered 2xx with a ReferralRequest and its UBRN.
	outcomeCreated outcome = iota
	// outcomeNotCreated: e-RS clearly did not create anything (429, 503,
	// 423, or the request was never fully written), so sending again is safe.
	outcomeNotCreated
	// outcomeUncertain: the referral may exist in e-RS (a timeout or lost
	// connection after the request was written, an ambiguous 5xx, or a 2xx
	// we could not read).
	outcomeUncertain
	// outcomeRejected: e-RS refused the request; sending it again will not
	// help.
	outcomeRejected
)

func (o outcome) String() string {
	switch o {
	case outcomeCreated:
		return "created"
	case outcomeNotCreated:
		return "not-created"
	case outcomeUncertain:
		return "uncertain"
	case outcomeRejected:
		return "rejected"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// sendResult is a classified createReferral attempt.
type sendResult struct {
	exchange
	outcome outcome
	ubrn    string
}

// createReferral sends A011 once.
func (c *ersClient) createReferral(ctx context.Context, body []byte) sendResult {
	x := c.do(ctx, http.MethodPost, pathCreateReferral, body)
	return classifyCreate(x)
}

func classifyCreate(x exchange) sendResult {
	r := sendResult{exchange: x}
	switch {
	case x.status == 0: // no response at all
		if neverSent(x.err) {
			r.outcome = outcomeNotCreated
		} else {
			r.outcome = outcomeUncertain
		}
	case x.status >= 200 && x.status < 300:
		rr, err := parseReferralRequest(x.body)
		if x.err != nil || err != nil {
			// e-RS said it created something but we cannot tell what.
			if x.err == nil {
				r.err = fmt.Errorf("e-RS answered %d but: %w", x.status, err)
			}
			r.outcome = outcomeUncertain
			return r
		}
		r.outcome, r.ubrn = outcomeCreated, rr.ID
	case x.status == http.StatusTooManyRequests, x.status == http.StatusServiceUnavailable,
		x.status == http.StatusLocked:
		r.outcome = outcomeNotCreated
	case x.status == http.StatusRequestTimeout:
		r.outcome = outcomeUncertain
	case x.status >= 400 && x.status < 500:
		r.outcome = outcomeRejected
	default: // 500, 502, 504, ...: the create may have been committed
		r.outcome = outcomeUncertain
	}
	return r
}

// fetchWorklist runs A008 for a referrer worklist.
func (c *ersClient) fetchWorklist(ctx context.Context, listType string) ([]worklistEntry, exchange, error) {
	body, err := fetchWorklistBody(listType)
	if err != nil {
		return nil, exchange{}, err
	}
	x := c.do(ctx, http.MethodPost, pathFetchWorklist, body)
	if x.err != nil {
		return nil, x, x.err
	}
	if x.status != http.StatusOK {
		return nil, x, errors.New("worklist: " + x.describe())
	}
	entries, err := parseWorklist(x.body)
	return entries, x, err
}

// readReferral runs A005 and returns the referral's patient NHS number.
func (c *ersClient) readReferral(ctx context.Context, ubrn string) (referralRequest, exchange, error) {
	x := c.do(ctx, http.MethodGet, pathReferral+ubrn, nil)
	if x.err != nil {
		return referralRequest{}, x, x.err
	}
	if x.status != http.StatusOK {
		return referralRequest{}, x, errors.New("read " + ubrn + ": " + x.describe())
	}
	rr, err := parseReferralRequest(x.body)
	return rr, x, err
}

// neverSent reports whether err shows that no request reached e-RS: the
// connection could not even be opened (refused, unreachable, DNS). Anything
// later — a timeout, a reset, EOF — may have happened after e-RS acted.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// parseRetryAfter reads delay-seconds or an HTTP-date; 0 means absent or
// unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(secs) * time.Second
		if secs > int64(maxRetryAfter/time.Second) {
			d = maxRetryAfter
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d <= 0 {
			return 0
		}
	} else {
		return 0
	}
	return min(d, maxRetryAfter)
}

// newCorrelationID returns a random UUID (version 4).
func newCorrelationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
