package stack_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/harness/stack/stacktest"
)

// BenchmarkProxiedRequest measures one keep-alive HTTP request through the
// embedded Toxiproxy (no toxics) and reports it as a ratio to the same
// request sent straight to the mock in the same run: the cost of putting
// every byte the SUT exchanges through a fault-injecting proxy.
func BenchmarkProxiedRequest(b *testing.B) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Config{
		Services:  []string{"echo"},
		Factories: map[string]stack.ServiceFactory{"echo": stacktest.Factory("echo", nil)},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Close(ctx) }()
	ep := st.Endpoints()["echo"]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	get := func(b *testing.B, url string) {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	for b.Loop() {
		get(b, ep.URL+"/ping")
	}
	proxied := b.Elapsed()
	// The anchor runs as many iterations, timed by hand (testing.Benchmark
	// cannot nest inside a running benchmark).
	start := time.Now()
	for range b.N {
		get(b, "http://"+ep.Direct+stacktest.BasePath+"/ping")
	}
	b.ReportMetric(float64(proxied)/float64(max(time.Since(start), 1)), "x-direct")
}
