package main

import (
	"context"
	"encoding/json"
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
		fmt.Fprintf(stderr, "pathology-router: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, stop, cfg, log, nil)
}

// serve runs the router until ctx ends or a listener fails. ready, if set,
// is called with the MLLP and health addresses once both listen.
func serve(ctx context.Context, stop func(), cfg config, log *slog.Logger, ready func(mllp, health string)) int {
	m, err := newMode(cfg, log)
	if err != nil {
		log.Error("cannot open the outbox", "state_dir", cfg.stateDir, "err", err)
		return 1
	}
	var inboxes *inboxStore
	if cfg.mode == modeResilient {
		if inboxes, err = openInboxStore(cfg.stateDir); err != nil {
			log.Error("cannot open the inbox store", "state_dir", cfg.stateDir, "err", err)
			return 1
		}
	}
	poller := newInboxPoller(cfg, newMeshClient(cfg), log, inboxes)
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		log.Error("cannot listen for MLLP", "addr", cfg.listen, "err", err)
		return 1
	}
	var hsrv *http.Server
	var hln net.Listener
	if cfg.healthListen != "" {
		if hln, err = net.Listen("tcp", cfg.healthListen); err != nil {
			_ = ln.Close()
			log.Error("cannot listen for health", "addr", cfg.healthListen, "err", err)
			return 1
		}
		hsrv = &http.Server{
			Handler:           healthHandler(cfg.mode, m),
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	srv := newMLLPServer(m, log, cfg.maxFrame)
	m.start()
	poller.start()
	serveErr := make(chan error, 2)
	// Accepting a result must finish even during shutdown: it has its own
	// context, not the signal's.
	go func() { serveErr <- srv.serve(context.WithoutCancel(ctx), ln) }()
	healthAddr := ""
	if hsrv != nil {
		healthAddr = hln.Addr().String()
		go func() { serveErr <- hsrv.Serve(hln) }()
	}
	log.Info("ready", "mode", cfg.mode, "addr", ln.Addr().String(), "health_addr", healthAddr,
		"mesh_url", cfg.meshURL, "mesh_to", cfg.meshTo, "state_dir", cfg.stateDir, "poll_interval", cfg.pollInterval)
	if ready != nil {
		ready(ln.Addr().String(), healthAddr)
	}

	status := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", cfg.shutdownGrace)
	case err := <-serveErr:
		if err == nil || errors.Is(err, http.ErrServerClosed) {
			err = errors.New("listener stopped")
		}
		log.Error("server failed", "err", err)
		status = 1
	}
	stop()
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownGrace)
	defer cancel()
	_ = ln.Close()
	if err := srv.close(shutCtx); err != nil {
		log.Warn("connections still open at shutdown; closed them", "err", err)
	}
	if hsrv != nil {
		_ = hsrv.Shutdown(shutCtx)
	}
	if err := poller.shutdown(shutCtx); err != nil {
		log.Warn("inbox poller shutdown", "err", err)
	}
	if err := m.shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	log.Info("stopped", "pending", m.pending())
	return status
}

func newMode(cfg config, log *slog.Logger) (mode, error) {
	mc := newMeshClient(cfg)
	if cfg.mode == modeNaive {
		return newNaive(cfg, mc, log), nil
	}
	return openResilient(cfg, mc, log)
}

func healthHandler(modeName string, m mode) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "mode": modeName, "pending": m.pending()})
	})
	return mux
}
