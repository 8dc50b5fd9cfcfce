package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/ers"
	"github.com/shakedown-harness/shakedown/mocks/gpconnect"
	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/spf13/cobra"
)

func newMocksCmd(stdout io.Writer, logger func() *slog.Logger) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mocks",
		Short: "Run a mock standalone, for manual poking and external conformance tests",
	}
	var (
		addr        string
		controlAddr string
		seed        uint64
	)
	serve := &cobra.Command{
		Use:   "serve SERVICE",
		Short: "Serve one mock (ers or gpconnect) on a loopback address until interrupted",
		Example: `  shakedown mocks serve ers --addr 127.0.0.1:9000
  shakedown mocks serve ers --addr 127.0.0.1:9000 --control-addr 127.0.0.1:9001
  shakedown mocks serve gpconnect --addr 127.0.0.1:9100`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "ers" && args[0] != "gpconnect" {
				return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("unknown service %q: the mocks available are: ers, gpconnect", args[0])}
			}
			if err := requireLoopback(addr, "--addr"); err != nil {
				return err
			}
			if controlAddr != "" {
				if err := requireLoopback(controlAddr, "--control-addr"); err != nil {
					return err
				}
			}
			return serveMock(cmd.Context(), stdout, logger(), args[0], addr, controlAddr, seed)
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "loopback HOST:PORT to listen on")
	serve.Flags().StringVar(&controlAddr, "control-addr", "", "loopback HOST:PORT for the in-band fault control API (GET/POST/DELETE /faults); off when empty")
	serve.Flags().Uint64Var(&seed, "seed", 1, "seed for UBRNs and synthetic credentials")
	cmd.AddCommand(serve)
	return cmd
}

// requireLoopback refuses any address outside 127.0.0.0/8 and ::1
// (DESIGN.md §8: nothing here may be aimed at, or exposed to, a real network).
func requireLoopback(addr, flag string) error {
	if err := stack.CheckLoopback(addr); err != nil {
		return &exitError{code: harness.ExitInvalid, err: fmt.Errorf("%s: %w", flag, err)}
	}
	return nil
}

// mock is what serveMock needs of any mock.
type mock interface {
	Start(l net.Listener)
	URL() string
	Close() error
	Faults() *inband.Controller
}

func serveMock(ctx context.Context, stdout io.Writer, logger *slog.Logger, service, addr, controlAddr string, seed uint64) error {
	var (
		m     mock
		usage []string
	)
	switch service {
	case "ers":
		e := ers.New(ers.WithSeed(seed), ers.WithLogger(logger))
		c := e.Credentials()
		m, usage = e, []string{
			"send: Authorization: Bearer " + c.Token,
			"      NHSD-End-User-Organisation-ODS: " + c.ODSCode,
			"      NHSD-eRS-Business-Function: " + c.BusinessFunction,
			"e.g.  POST {url}/STU3/ReferralRequest/$ers.createReferral",
		}
	case "gpconnect":
		g := gpconnect.New(gpconnect.WithSeed(seed), gpconnect.WithLogger(logger))
		c := g.Credentials()
		pts := g.Patients()
		m, usage = g, []string{
			"send: Ssp-From: " + c.ConsumerASID + ", Ssp-To: " + c.ProviderASID + ", Ssp-TraceID, Ssp-InteractionID",
			"      Authorization: Bearer <unsigned JWT: exp = iat + 300, reason_for_request, requested_scope, requesting_*>",
			"e.g.  GET {url}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" + pts[0].NHSNumber,
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return &exitError{code: harness.ExitHarness, err: fmt.Errorf("listen on %s: %w", addr, err)}
	}
	m.Start(l)
	defer m.Close()
	fmt.Fprintf(stdout, "%s mock serving at %s\n", service, m.URL())
	for _, u := range usage {
		fmt.Fprintln(stdout, "  "+strings.ReplaceAll(u, "{url}", m.URL()))
	}

	var ctl *http.Server
	if controlAddr != "" {
		cl, err := net.Listen("tcp", controlAddr)
		if err != nil {
			return &exitError{code: harness.ExitHarness, err: fmt.Errorf("listen on %s: %w", controlAddr, err)}
		}
		ctl = &http.Server{Handler: m.Faults().Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := ctl.Serve(cl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("control API stopped", "err", err)
			}
		}()
		fmt.Fprintf(stdout, "  in-band fault control API at http://%s/faults\n", cl.Addr())
	}
	fmt.Fprintln(stdout, "press Ctrl-C to stop")
	<-ctx.Done()
	if ctl != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = ctl.Shutdown(sctx)
	}
	return nil
}
