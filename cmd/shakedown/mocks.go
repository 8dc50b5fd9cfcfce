package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/ers"
	"github.com/shakedown-harness/shakedown/mocks/gpconnect"
	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
	"github.com/shakedown-harness/shakedown/mocks/pathology"
	"github.com/spf13/cobra"
)

func newMocksCmd(stdout io.Writer, logger func() *slog.Logger) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mocks",
		Short: "Run a mock standalone, for manual poking and external conformance tests",
	}
	var (
		addr          string
		controlAddr   string
		seed          uint64
		mailboxes     []string
		sharedKey     string
		deliveryDelay time.Duration
	)
	serve := &cobra.Command{
		Use:   "serve SERVICE",
		Short: "Serve one mock (ers, gpconnect, mesh or pathology) on a loopback address until interrupted",
		Long: `Serve one mock on a loopback address until interrupted, and print how to talk to it.

  ers        the NHS e-Referral Service FHIR API
  gpconnect  GP Connect Access Record: Structured
  mesh       the MESH API under /messageexchange (NHSMESH HMAC auth, workflows
             ` + strings.Join(mesh.DefaultWorkflows, ", ") + ` registered); --mailbox, --shared-key and
             --delivery-delay apply to it only
  pathology  a GP / order-comms inbound results listener over MLLP: it validates each
             HL7 v2 ORU^R01 and answers AA, AE or AR (--control-addr does not apply)`,
		Example: `  shakedown mocks serve ers --addr 127.0.0.1:9000
  shakedown mocks serve ers --addr 127.0.0.1:9000 --control-addr 127.0.0.1:9001
  shakedown mocks serve gpconnect --addr 127.0.0.1:9100
  shakedown mocks serve mesh --addr 127.0.0.1:9200 --mailbox X26ABC1:secret1 --mailbox X26ABC2:secret2 --shared-key TestKey
  shakedown mocks serve mesh --addr 127.0.0.1:9200 --delivery-delay 40s --control-addr 127.0.0.1:9201
  shakedown mocks serve pathology --addr 127.0.0.1:2575`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			service := args[0]
			if !slices.Contains(mockServices, service) {
				return usageError(fmt.Errorf("unknown service %q: the mocks available are: %s", service, strings.Join(mockServices, ", ")))
			}
			if service != "mesh" {
				for _, f := range []string{"mailbox", "shared-key", "delivery-delay"} {
					if cmd.Flags().Changed(f) {
						return usageError(fmt.Errorf("--%s applies only to the mesh mock", f))
					}
				}
			}
			if service == "pathology" && controlAddr != "" {
				return usageError(errors.New("--control-addr: the pathology listener has no HTTP fault control API"))
			}
			if err := requireLoopback(addr, "--addr"); err != nil {
				return err
			}
			if controlAddr != "" {
				if err := requireLoopback(controlAddr, "--control-addr"); err != nil {
					return err
				}
			}
			var meshOpts []mesh.Option
			if service == "mesh" {
				var err error
				if meshOpts, err = meshOptions(mailboxes, sharedKey, deliveryDelay); err != nil {
					return usageError(err)
				}
			}
			if service == "pathology" {
				return servePathology(cmd.Context(), stdout, logger(), addr, seed)
			}
			return serveMock(cmd.Context(), stdout, logger(), args[0], addr, controlAddr, seed, meshOpts)
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "loopback HOST:PORT to listen on")
	serve.Flags().StringVar(&controlAddr, "control-addr", "", "loopback HOST:PORT for the in-band fault control API (GET/POST/DELETE /faults); off when empty")
	serve.Flags().Uint64Var(&seed, "seed", 1, "seed for UBRNs, message ids and synthetic credentials")
	serve.Flags().StringArrayVar(&mailboxes, "mailbox", nil, "mesh: a mailbox as ID:PASSWORD (repeatable; default X26ABC1..X26ABC3 with password \"password\")")
	serve.Flags().StringVar(&sharedKey, "shared-key", mesh.DefaultSharedKey, "mesh: the environment shared key that keys the NHSMESH HMAC")
	serve.Flags().DurationVar(&deliveryDelay, "delivery-delay", 0, "mesh: how long after it is accepted a message appears in the recipient's inbox (real MESH: 40-120s)")
	cmd.AddCommand(serve)
	return cmd
}

// mockServices are the mocks `mocks serve` knows, in the order help lists them.
var mockServices = []string{"ers", "gpconnect", "mesh", "pathology"}

func usageError(err error) error { return &exitError{code: harness.ExitInvalid, err: err} }

// meshOptions turns the mesh flags into options, refusing malformed values.
func meshOptions(mailboxes []string, sharedKey string, delay time.Duration) ([]mesh.Option, error) {
	var opts []mesh.Option
	seen := map[string]bool{}
	for _, mb := range mailboxes {
		id, pw, ok := strings.Cut(mb, ":")
		id = strings.TrimSpace(id)
		switch {
		case !ok:
			return nil, fmt.Errorf("--mailbox %q: want ID:PASSWORD (e.g. X26ABC1:secret)", mb)
		case id == "":
			return nil, fmt.Errorf("--mailbox %q: the mailbox id before the colon is empty; want ID:PASSWORD", mb)
		case pw == "":
			return nil, fmt.Errorf("--mailbox %q: the password after the colon is empty; want ID:PASSWORD", mb)
		case len(id) > 100 || strings.ContainsAny(id, ":/ \t"):
			return nil, fmt.Errorf("--mailbox %q: a mailbox id is 1..100 characters with no colon, slash or space", mb)
		case seen[strings.ToUpper(id)]:
			return nil, fmt.Errorf("--mailbox %q: mailbox %s is given twice", mb, strings.ToUpper(id))
		}
		seen[strings.ToUpper(id)] = true
		opts = append(opts, mesh.WithMailbox(id, pw))
	}
	if sharedKey == "" {
		return nil, errors.New("--shared-key must not be empty")
	}
	if delay < 0 {
		return nil, fmt.Errorf("--delivery-delay %s must not be negative", delay)
	}
	return append(opts, mesh.WithSharedKey(sharedKey), mesh.WithDeliveryDelay(delay)), nil
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

func serveMock(ctx context.Context, stdout io.Writer, logger *slog.Logger, service, addr, controlAddr string, seed uint64, meshOpts []mesh.Option) error {
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
	case "mesh":
		mm := mesh.New(append([]mesh.Option{mesh.WithSeed(seed), mesh.WithLogger(logger)}, meshOpts...)...)
		m, usage = mm, meshUsage(mm)
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

// meshUsage is what `mocks serve mesh` prints: the mailboxes and their
// passwords, the shared key, the base URL and how to sign a request.
func meshUsage(m *mesh.Mock) []string {
	mbs := m.Mailboxes()
	out := []string{"mailboxes (id: password):"}
	for _, mb := range mbs {
		line := "  " + mb.ID + ": " + mb.Password
		if mb.ID == mesh.DeliverFrom {
			line += "  (the lab's mailbox, always registered)"
		}
		out = append(out, line)
	}
	out = append(out,
		"shared key: "+m.SharedKey(),
		"workflows: "+strings.Join(m.Workflows(), ", "),
		"delivery delay: "+m.DeliveryDelay().String(),
		"base URL: {url}"+mesh.BasePath+"/{mailbox}",
		"auth: Authorization: "+mesh.AuthScheme+" MAILBOX:NONCE:NONCE_COUNT:yyyyMMddHHmm:HMAC",
		"      HMAC = lowercase hex HMAC-SHA256 keyed with the shared key of MAILBOX:NONCE:NONCE_COUNT:PASSWORD:yyyyMMddHHmm (UTC);",
		"      every nonce once only, the timestamp within "+mesh.MaxClockSkew.String()+" of now, MAILBOX the same as the path's",
		"e.g.  Authorization: "+mesh.Token(m.SharedKey(), mbs[0].ID, mbs[0].Password, "example-nonce-1", 1, time.Now()),
		"      POST {url}"+mesh.BasePath+"/"+mbs[0].ID+"  (handshake; Accept: application/vnd.mesh.v2+json for the v2 shapes)",
		"      POST {url}"+mesh.BasePath+"/"+mbs[0].ID+"/outbox  with mex-To, mex-WorkflowID: "+m.Workflows()[0],
	)
	return out
}

// examplePathologyORU is the ORU^R01 that `mocks serve pathology` prints
// as an example (and its test sends): a valid one, answered AA.
func examplePathologyORU(now time.Time) *hl7.Message {
	return hl7.BuildORU(hl7.ORU{
		Header: hl7.Header{
			SendingApp: "LAB", SendingFacility: mesh.DeliverFrom, ReceivingApp: "GP", ReceivingFacility: "A81001",
			Time: now, ControlID: "EXAMPLE0001", Version: hl7.V24,
		},
		PatientIDs: []hl7.CX{{ID: "9990000018", Authority: "NHS", Type: "NH"}},
		Family:     "EXAMPLE", Given: "PAT", BirthDate: "19700101", Sex: "F",
		Placer: "P0001", Filler: "F0001",
		Service:  hl7.CE{Code: "FBC", Text: "Full blood count", System: "L"},
		Observed: now, Reported: now, Status: "F",
		Observations: []hl7.OBX{{ValueType: "NM", Code: hl7.CE{Code: "HB", Text: "Haemoglobin", System: "L"}, Value: "135", Units: "g/L", Range: "115-165", Flag: "N", Status: "F"}},
	})
}

// printfQuote renders b for a shell printf format in single quotes.
func printfQuote(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			sb.WriteString(`\\`)
		case c == '%':
			sb.WriteString("%%")
		case c == '\'':
			sb.WriteString(`'\''`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// servePathology runs the pathology results listener (MLLP) on addr.
func servePathology(ctx context.Context, stdout io.Writer, logger *slog.Logger, addr string, seed uint64) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return &exitError{code: harness.ExitHarness, err: fmt.Errorf("listen on %s: %w", addr, err)}
	}
	p := pathology.NewListener(pathology.WithSeed(seed), pathology.WithLogger(logger))
	p.Start(l)
	defer p.Close()
	host, port, _ := net.SplitHostPort(l.Addr().String())
	example := examplePathologyORU(time.Now().UTC().Truncate(time.Second)).Bytes()
	fmt.Fprintf(stdout, "pathology mock serving at mllp://%s\n", l.Addr())
	for _, u := range []string{
		"a GP / order-comms inbound results listener: HL7 v2 over MLLP, one message per frame",
		"frame: 0x0B <message, every segment ended by CR> 0x1C 0x0D; one ACK frame comes back per message",
		"takes: ORU^R01, version 2.4 or 2.5.1, processing id P/T/D, MSH-10 set; PID-3 with an NHS number as ^^^NHS^NH;",
		"       OBR with a test code (OBR-4) and status F/P/C/X (OBR-25); at least one OBX; PID before OBR before OBX",
		"answers: MSA-1 AA accepted, AE application error (bad or unknown NHS number, missing PID/OBR/OBX, ...),",
		"         AR rejected (unparseable, not ORU^R01, unsupported version or processing id); MSA-2 = the received MSH-10",
		"e.g.  printf '\\x0b" + printfQuote(example) + "\\x1c\\r' | nc -q 2 " + host + " " + port,
	} {
		fmt.Fprintln(stdout, "  "+u)
	}
	fmt.Fprintln(stdout, "press Ctrl-C to stop")
	<-ctx.Done()
	return nil
}
