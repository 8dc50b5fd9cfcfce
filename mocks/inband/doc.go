// Package inband owns protocol-level ("in-band") faults shared by the HTTP
// mocks: answering with an error status (429 with Retry-After, 503, 500, ...),
// committing a write and then dropping the connection before the response
// (the "lost response" that makes duplicates), and slowing a response.
//
// A mock owns a Controller, wraps its handler with Controller.Middleware, and
// supplies a Responder that writes the real service's error body. The harness
// (or an operator, through Controller.Handler) adds and removes faults; every
// fault counts the requests it saw and the requests it actually faulted, which
// is the evidence that a fault window touched traffic.
//
// Every random choice is made from the fault's own seed, so a run is
// replayable; faults never use the global math/rand.
package inband
