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
		fmt.Fprintf(stderr, "imaging-cds: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.listen, "err", err)
		return 1
	}
	if cfg.selfURL == "" {
		cfg.selfURL = "http://" + ln.Addr().String()
	}
	svc := newService(cfg, log, time.Now)
	srv := &http.Server{
		Handler:           svc.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("ready", "mode", cfg.mode, "addr", ln.Addr().String(), "self_url", cfg.selfURL,
		"gpconnect_url", cfg.gpconnectURL, "jwks_url", cfg.jwksURL, "budget", cfg.budget)

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
	log.Info("stopped", "hooks", svc.hooks.Load(), "feedback", svc.feedback.Load())
	return status
}
