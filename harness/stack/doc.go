// Package stack owns starting and stopping what a run needs around the
// system under test.
//
// In embedded mode (Start) every mocked service runs in-process on its own
// http.Server over a counting listener on 127.0.0.1:0, and one in-process
// Toxiproxy server puts a proxy named after the service in front of each
// mock. The SUT only ever learns the proxied addresses (Env, Endpoints), so
// every byte it exchanges with a dependency crosses a proxy and can be
// faulted; Endpoint.Direct is for the harness alone. The Toxiproxy HTTP API
// is served on a loopback port (ToxiproxyURL) so toxiproxy-cli can inspect a
// live run.
//
// The stack also owns the SUT when shakedown starts it (StartProcess): a
// child process in its own process group, probed for health, always reaped,
// with every lifecycle event recorded on the run clock.
//
// AddInbound puts a proxy in front of the SUT's own port (the pseudo-service
// "sut" of scenarios) for traffic the harness drives into the SUT, such as
// the pathology lab's MLLP connection, so network faults act on it too.
//
// Target adapts a Stack and a Process to fault.Target, so the fault package
// acts on proxies, mocks and the SUT without knowing how they run.
//
// Everything here listens on, and talks to, loopback addresses only
// (CheckLoopback, DESIGN §8).
package stack
