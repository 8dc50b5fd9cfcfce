// Package inband owns protocol-level ("in-band") faults shared by the HTTP
// mocks: answering with an error status (429 with Retry-After, 503, 500, ...,
// optionally only after a delay, as a gateway that times out does),
// committing a write and then dropping the connection before the response
// (the "lost response" that makes duplicates), slowing a response, and
// committing a write and then answering with a corrupted body (cut off
// half-way, values of the wrong JSON type, or an oversized body).
//
// A mock owns a Controller, wraps its handler with Controller.Middleware, and
// supplies a Responder that writes the real service's error body. A fault can
// be limited to some operations (the mock's Classifier names them) and to
// some tenants (the mock's TenantFunc, set with Controller.SetTenantFunc,
// reads them, for example the ODS code of the practice a request addresses).
// The harness (or an operator, through Controller.Handler) adds and removes
// faults; every fault counts the requests it saw and the requests it actually
// faulted, which is the evidence that a fault window touched traffic.
//
// Every random choice is made from the fault's own seed, so a run is
// replayable; faults never use the global math/rand.
package inband
