package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// gateway is one mode's implementation.
type gateway interface {
	handler() http.Handler
	// start begins background work (resilient mode's senders).
	start()
	// shutdown stops background work, within ctx.
	shutdown(ctx context.Context) error
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "referral-gateway: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var gw gateway
	switch cfg.mode {
	case modeNaive:
		gw = newNaive(cfg, log)
	case modeResilient:
		r, err := openResilient(cfg, log)
		if err != nil {
			log.Error("cannot open the outbox", "state_dir", cfg.stateDir, "err", err)
			return 1
		}
		gw = r
	}

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.listen, "err", err)
		return 1
	}
	srv := &http.Server{
		Handler:           gw.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	gw.start()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("ready", "mode", cfg.mode, "addr", ln.Addr().String(), "ers_url", cfg.ersURL,
		"state_dir", cfg.stateDir, "workers", cfg.workers)

	status := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", cfg.shutdownGrace)
	case err := <-serveErr:
		log.Error("server failed", "err", err)
		status = 1
	}
	stop() // a second signal now kills the process the default way

	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("requests still open at shutdown; closing them", "err", err)
		_ = srv.Close()
	}
	if err := gw.shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	log.Info("stopped")
	return status
}
