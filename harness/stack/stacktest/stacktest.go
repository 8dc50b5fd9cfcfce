// Package stacktest provides a tiny mocked service for testing code that
// drives a stack (the harness engine, faults) without a real mock, in the
// spirit of net/http/httptest.
package stacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/journal"
)

// BasePath is the API prefix of every Echo service.
const BasePath = "/echo"

// Operation names the Echo classifier gives.
const (
	OpPing   = "ping"
	OpBlob   = "blob"
	OpCreate = "createItem"
)

// Echo is a minimal mocked service:
//
//	GET  /echo/ping      → 200 "pong"
//	GET  /echo/blob?n=N  → 200 with N deterministic bytes (Blob(N))
//	POST /echo/items     → 201 {"id":"item-K"}, journalled as "item.created"
//
// with an in-band fault controller in front.
type Echo struct {
	name    string
	journal *journal.Journal
	faults  *inband.Controller
	handler http.Handler
	next    atomic.Int64
}

var _ stack.Service = (*Echo)(nil)

// NewEcho returns an Echo service called name.
func NewEcho(name string, cfg stack.ServiceConfig) *Echo {
	e := &Echo{name: name, journal: journal.New(name, cfg.Now), faults: inband.NewController()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+BasePath+"/ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("pong"))
	})
	mux.HandleFunc("GET "+BasePath+"/blob", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 || n > 64<<20 {
			http.Error(w, "n must be a byte count up to 64 MiB", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(Blob(n))
	})
	mux.HandleFunc("POST "+BasePath+"/items", func(w http.ResponseWriter, r *http.Request) {
		id := fmt.Sprintf("item-%d", e.next.Add(1))
		if _, err := e.journal.Record("item.created", map[string]string{"item": id}, nil); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	})
	e.handler = e.faults.Middleware(mux, classify, respond, nil)
	return e
}

// Factory builds an Echo service called name for stack.Config.Factories;
// env is the extra SUT environment the factory reports.
func Factory(name string, env map[string]string) stack.ServiceFactory {
	return func(cfg stack.ServiceConfig) (stack.Service, map[string]string, error) {
		return NewEcho(name, cfg), env, nil
	}
}

func classify(r *http.Request) string {
	switch r.URL.Path {
	case BasePath + "/ping":
		return OpPing
	case BasePath + "/blob":
		return OpBlob
	case BasePath + "/items":
		return OpCreate
	}
	return ""
}

func respond(w http.ResponseWriter, r *http.Request, spec inband.Spec) {
	code := spec.Code
	if code == "" {
		code = http.StatusText(spec.Status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(spec.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// Blob returns n deterministic bytes.
func Blob(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func (e *Echo) Name() string               { return e.name }
func (e *Echo) Handler() http.Handler      { return e.handler }
func (e *Echo) BasePath() string           { return BasePath }
func (e *Echo) Journal() *journal.Journal  { return e.journal }
func (e *Echo) Faults() *inband.Controller { return e.faults }
