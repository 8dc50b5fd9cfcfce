// Package journal owns the append-only record of effects that every mock
// keeps: who created what, when, and with which correlation id. The harness
// reads journals after a run to decide what really reached the mocked
// service, independently of what the system under test claims.
//
// Mocks import this package; it imports nothing from harness/.
package journal
