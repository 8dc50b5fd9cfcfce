package stack

import (
	"fmt"
	"net"
	"net/netip"
)

// CheckLoopback returns an error unless addr ("host:port") is an IP literal
// in 127.0.0.0/8 or ::1. Host names, including "localhost", are refused so
// that no resolver can aim the harness at a real endpoint (DESIGN §8).
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q is not host:port: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("address %q: only loopback IP literals (127.0.0.0/8 or ::1) are allowed, not host names; use 127.0.0.1", addr)
	}
	if !ip.Unmap().IsLoopback() {
		return fmt.Errorf("address %q is outside 127.0.0.0/8 and ::1: shakedown only talks to loopback addresses", addr)
	}
	return nil
}

// FreeLoopbackAddr returns a 127.0.0.1 address with a port that was free a
// moment ago, for SHAKEDOWN_SUT_ADDR. Another process may take the port
// before the SUT binds it; StartProcess then reports the SUT's own error.
func FreeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("choose a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("choose a free loopback port: release %s: %w", addr, err)
	}
	return addr, nil
}
