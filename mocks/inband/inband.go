package inband

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind names an in-band fault.
type Kind string

const (
	// Status answers matching requests with Spec.Status (and Retry-After when
	// Spec.RetryAfter is set) without running the real handler.
	Status Kind = "status"
	// LostResponse runs the real handler (so the write is committed and
	// journalled) and then closes the connection without sending a byte of
	// the response.
	LostResponse Kind = "lost-response"
	// Delay holds matching requests for Spec.Delay before handling them.
	Delay Kind = "delay"
	// Malformed runs the real handler (so any write is committed and
	// journalled), then corrupts the body it answered with as Spec.Malform
	// says, keeping its status and headers.
	Malformed Kind = "malformed"
)

// Kinds lists every fault kind this package implements.
var Kinds = []Kind{Status, LostResponse, Delay, Malformed}

// Ways a Malformed fault corrupts a body (Spec.Malform).
const (
	// MalformInvalidJSON cuts the body off half-way, so it is no longer
	// valid JSON. Content-Length is set to the shortened length, so the HTTP
	// framing stays valid and only the payload is broken.
	MalformInvalidJSON = "invalid-json"
	// MalformWrongTypes parses the JSON answer and replaces the string
	// values of a seeded subset of its keys with numbers, objects or arrays
	// ("code": 123, "display": {"x": 1}, ...). The body stays valid JSON but
	// breaks any client that trusts the declared types. A body that is not
	// JSON is passed on unchanged.
	MalformWrongTypes = "wrong-types"
	// MalformOversized injects one huge but valid field into the JSON
	// answer so the body exceeds Spec.Bytes (DefaultOversizedBytes when
	// zero). A body that is not a JSON object is padded with trailing
	// whitespace instead.
	MalformOversized = "oversized"
)

// Malforms lists every Spec.Malform value.
var Malforms = []string{MalformInvalidJSON, MalformWrongTypes, MalformOversized}

// DefaultOversizedBytes is the body size an oversized fault exceeds when
// Spec.Bytes is zero.
const DefaultOversizedBytes = 8 << 20

// OversizedField is the name of the field an oversized fault injects.
const OversizedField = "_shakedownOversized"

// Spec describes one in-band fault.
type Spec struct {
	Kind Kind `json:"kind"`
	// Status is the HTTP status for Kind Status (for example 429, 503, 500).
	Status int `json:"status,omitempty"`
	// Code is the service-specific error code the Responder should put in the
	// body (for example "SYSTEM_UNAVAILABLE"); empty means the responder's
	// default for Status.
	Code string `json:"code,omitempty"`
	// RetryAfter, when positive, is sent as a Retry-After header in seconds
	// (rounded up).
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Delay is how long Kind Delay holds a request. For Kind Status a
	// positive Delay holds the request that long before answering (a gateway
	// that times out answers only after its timeout).
	Delay time.Duration `json:"delay,omitempty"`
	// Malform says how Kind Malformed corrupts the body: MalformInvalidJSON,
	// MalformWrongTypes or MalformOversized.
	Malform string `json:"malform,omitempty"`
	// Bytes is the size an oversized body must exceed (DefaultOversizedBytes
	// when zero).
	Bytes int `json:"bytes,omitempty"`
	// Field, for wrong-types and oversized, aims the corruption at one JSON
	// key wherever it appears (for FHIR, "text" or "display": the human
	// text an integration is most likely to pass on): wrong-types replaces
	// every string value of that key, oversized inflates every one of them
	// so that together they carry the extra bytes. Empty: wrong-types picks a
	// seeded third of all string values and oversized adds one huge field.
	Field string `json:"field,omitempty"`
	// Fraction of matching requests to fault, in (0,1]. Zero means all.
	Fraction float64 `json:"fraction,omitempty"`
	// Seed drives the per-request choice when Fraction < 1.
	Seed uint64 `json:"seed,omitempty"`
	// Operations restricts the fault to these operation names (as returned by
	// the mock's Classifier). Empty means every operation.
	Operations []string `json:"operations,omitempty"`
	// Tenants restricts the fault to requests whose tenant (as the function
	// given to Controller.SetTenantFunc reads it, for example the ODS code
	// of the practice addressed) is listed. Empty means every tenant. A
	// controller without a tenant function reads every tenant as "", so a
	// fault with Tenants then hits nothing.
	Tenants []string `json:"tenants,omitempty"`
}

// Validate reports what is wrong with s, if anything.
func (s Spec) Validate() error {
	var errs []error
	switch s.Kind {
	case Status:
		if s.Status < 400 || s.Status > 599 {
			errs = append(errs, fmt.Errorf("status fault needs an HTTP error status between 400 and 599, got %d", s.Status))
		}
		if s.Delay < 0 {
			errs = append(errs, fmt.Errorf("status fault delay must not be negative, got %v", s.Delay))
		}
	case LostResponse:
	case Delay:
		if s.Delay <= 0 {
			errs = append(errs, errors.New("delay fault needs a positive delay"))
		}
	case Malformed:
		if !slices.Contains(Malforms, s.Malform) {
			errs = append(errs, fmt.Errorf("malformed fault needs malform set to one of %v, got %q", Malforms, s.Malform))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown in-band fault kind %q (known: %v)", s.Kind, Kinds))
	}
	if math.IsNaN(s.Fraction) || s.Fraction < 0 || s.Fraction > 1 {
		errs = append(errs, fmt.Errorf("fraction must be within 0..1, got %v", s.Fraction))
	}
	if s.Kind != Malformed && s.Malform != "" {
		errs = append(errs, fmt.Errorf("malform %q only applies to kind %q, not %q", s.Malform, Malformed, s.Kind))
	}
	if s.Field != "" && (s.Kind != Malformed || s.Malform == MalformInvalidJSON) {
		errs = append(errs, fmt.Errorf("field %q applies only to malformed faults of kind %s or %s", s.Field, MalformWrongTypes, MalformOversized))
	}
	if s.Bytes < 0 {
		errs = append(errs, fmt.Errorf("bytes must not be negative, got %d", s.Bytes))
	}
	if s.Bytes > 0 && (s.Kind != Malformed || s.Malform != MalformOversized) {
		errs = append(errs, fmt.Errorf("bytes only applies to a %q fault with malform %q", Malformed, MalformOversized))
	}
	for i, t := range s.Tenants {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fmt.Errorf("tenants[%d] is empty; list tenant names (for example ODS codes) or leave tenants out to hit every tenant", i))
		}
	}
	return errors.Join(errs...)
}

// Counts is the evidence a fault leaves: how many requests matched its
// operation filter while it was active, and how many it actually faulted.
type Counts struct {
	Seen    int64 `json:"seen"`
	Faulted int64 `json:"faulted"`
}

// Responder writes the service's own error response for a Status fault.
type Responder func(w http.ResponseWriter, r *http.Request, spec Spec)

// Classifier names the operation a request invokes (for example
// "createReferral"); the empty string means "not a known operation".
type Classifier func(r *http.Request) string

type active struct {
	id     string
	spec   Spec
	rng    *rand.Rand
	counts Counts
}

// TenantFunc reads the tenant a request is addressed to (for example the
// ODS code of the practice in its path); "" means none.
type TenantFunc func(r *http.Request) string

// Controller holds the faults currently active on one mock.
type Controller struct {
	mu      sync.Mutex
	next    int
	faults  []*active
	total   Counts
	removed map[string]Counts
	tenant  TenantFunc
}

// SetTenantFunc tells the controller how to read a request's tenant, which
// faults with Spec.Tenants filter on. nil reads every tenant as "".
func (c *Controller) SetTenantFunc(f func(*http.Request) string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tenant = f
}

func (c *Controller) tenantFunc() TenantFunc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tenant
}

// NewController returns a controller with no active faults.
func NewController() *Controller {
	return &Controller{removed: map[string]Counts{}}
}

// Add activates spec and returns its id.
func (c *Controller) Add(spec Spec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", fmt.Errorf("add in-band fault: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := "f" + strconv.Itoa(c.next)
	// The controller keeps its own copy of the filter: the caller's slice
	// must not change (or race with) which requests the fault hits.
	spec.Operations = slices.Clone(spec.Operations)
	spec.Tenants = slices.Clone(spec.Tenants)
	c.faults = append(c.faults, &active{
		id:   id,
		spec: spec,
		rng:  rand.New(rand.NewPCG(spec.Seed, uint64(c.next))),
	})
	return id, nil
}

// Remove deactivates the fault id and returns its final counts.
func (c *Controller) Remove(id string) (Counts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults {
		if f.id == id {
			c.faults = slices.Delete(c.faults, i, i+1)
			c.removed[id] = f.counts
			return f.counts, nil
		}
	}
	if n, ok := c.removed[id]; ok {
		return n, nil
	}
	return Counts{}, fmt.Errorf("remove in-band fault: no fault with id %q", id)
}

// Clear removes every active fault.
func (c *Controller) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		c.removed[f.id] = f.counts
	}
	c.faults = nil
}

// Counts returns the counts of fault id, active or removed.
func (c *Controller) Counts(id string) (Counts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		if f.id == id {
			return f.counts, true
		}
	}
	n, ok := c.removed[id]
	return n, ok
}

// Total returns the counts summed over every fault ever active.
func (c *Controller) Total() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Active lists the specs of the currently active faults by id.
func (c *Controller) Active() map[string]Spec {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Spec, len(c.faults))
	for _, f := range c.faults {
		s := f.spec
		s.Operations = slices.Clone(s.Operations)
		s.Tenants = slices.Clone(s.Tenants)
		out[f.id] = s
	}
	return out
}

// pick returns the first active fault that matches op and tenant and is
// chosen for this request, updating counts, with a seed for any random
// choice the fault makes about this request (drawn from the fault's own
// generator, so a run is replayable).
func (c *Controller) pick(op, tenant string) (Spec, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		if len(f.spec.Operations) > 0 && !slices.Contains(f.spec.Operations, op) {
			continue
		}
		if len(f.spec.Tenants) > 0 && !slices.Contains(f.spec.Tenants, tenant) {
			continue
		}
		f.counts.Seen++
		c.total.Seen++
		if f.spec.Fraction > 0 && f.spec.Fraction < 1 && f.rng.Float64() >= f.spec.Fraction {
			continue
		}
		f.counts.Faulted++
		c.total.Faulted++
		var seed uint64
		if f.spec.Kind == Malformed {
			seed = f.rng.Uint64()
		}
		return f.spec, seed, true
	}
	return Spec{}, 0, false
}

// Observer is told about every request a fault hit, so the mock can journal
// it.
type Observer func(r *http.Request, op string, spec Spec)

// Middleware applies the active faults to requests before next handles them.
// classify names the request's operation; respond writes the service's error
// body for Status faults; observe (optional) is called for each faulted
// request.
func (c *Controller) Middleware(next http.Handler, classify Classifier, respond Responder, observe Observer) http.Handler {
	if respond == nil {
		respond = func(w http.ResponseWriter, _ *http.Request, spec Spec) {
			http.Error(w, http.StatusText(spec.Status), spec.Status)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := ""
		if classify != nil {
			op = classify(r)
		}
		tenant := ""
		if tf := c.tenantFunc(); tf != nil {
			tenant = tf(r)
		}
		spec, seed, hit := c.pick(op, tenant)
		if !hit {
			next.ServeHTTP(w, r)
			return
		}
		if observe != nil {
			observe(r, op, spec)
		}
		switch spec.Kind {
		case Status:
			if spec.Delay > 0 && !wait(r, spec.Delay) {
				return
			}
			if spec.RetryAfter > 0 {
				secs := int((spec.RetryAfter + time.Second - 1) / time.Second)
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
			respond(w, r, spec)
		case Delay:
			if wait(r, spec.Delay) {
				next.ServeHTTP(w, r)
			}
		case LostResponse:
			rec := &discardWriter{header: http.Header{}}
			next.ServeHTTP(rec, r)
			dropConnection(w)
		case Malformed:
			rec := &discardWriter{header: http.Header{}}
			next.ServeHTTP(rec, r)
			writeMalformed(w, rec, spec, seed)
		}
	})
}

// wait holds the request for d and reports whether it is still wanted
// (false when the client went away first).
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// discardWriter lets the real handler commit its write while nothing reaches
// the client.
type discardWriter struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return d.body.Write(b) }
func (d *discardWriter) WriteHeader(status int)      { d.status = status }

// dropConnection closes the client connection without a response, with a TCP
// reset where the connection allows it.
func dropConnection(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	discardBuffered(buf)
	if l, ok := conn.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = conn.Close()
}

func discardBuffered(buf *bufio.ReadWriter) {
	if buf != nil {
		buf.Writer.Reset(nilWriter{})
	}
}

type nilWriter struct{}

func (nilWriter) Write(b []byte) (int, error) { return len(b), nil }

// Handler serves a small JSON control API for the controller, for standalone
// mocks and containers mode:
//
//	GET    /faults       active faults by id
//	POST   /faults       add a fault (body: Spec) → {"id": "f1"}
//	DELETE /faults/{id}  remove a fault → its Counts
//	DELETE /faults       remove every fault
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.Active())
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var s Spec
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decode fault spec: " + err.Error()})
			return
		}
		id, err := c.Add(s)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		n, err := c.Remove(r.PathValue("id"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, n)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		c.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
