package harness

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
	"github.com/shakedown-harness/shakedown/mocks/gpconnect"
	"github.com/shakedown-harness/shakedown/mocks/journal"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
	"github.com/shakedown-harness/shakedown/mocks/pathology"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// workloadEnv is what workloads may need from the running stack.
type workloadEnv struct {
	sutURL string
	env    map[string]string
	seed   uint64
	clock  *record.Clock
	client *http.Client
	stack  *stack.Stack
	load   scenario.Load
	signer *cdshooks.Signer
	logger *slog.Logger
	// inbound is the address of the proxy in front of the SUT's own port,
	// for workloads that drive the SUT over TCP (lab-results).
	inbound string
	// onClose collects what the engine must close after the load, and
	// journals it must read (the lab's).
	onClose  func(io.Closer)
	journals func(*journal.Journal)
}

// hostHardTimeout bounds how long the mock clinical host waits for a hook:
// a real host may wait for ever; this one gives up so a run always ends.
const hostHardTimeout = 15 * time.Second

// newWorkload builds a workload by its scenario name.
func newWorkload(name string, e workloadEnv) (load.Workload, error) {
	switch name {
	case "lab-results":
		if e.inbound == "" {
			return nil, fmt.Errorf("workload lab-results needs the inbound proxy in front of the SUT")
		}
		lab := pathology.NewLab(e.inbound,
			pathology.WithSeed(e.seed),
			pathology.WithACKTimeout(e.load.ACKWait()),
			pathology.WithLogger(e.logger),
		)
		if e.onClose != nil {
			e.onClose(lab)
		}
		if e.journals != nil {
			e.journals(lab.Journal())
		}
		return load.NewLabResults(load.LabResultsConfig{Lab: load.PathologyLab(lab), Clock: e.clock}), nil
	case "mesh-inbound":
		var mm *mesh.Mock
		if e.stack != nil {
			svc, ok := e.stack.Service("mesh")
			if m, isMESH := svc.(*mesh.Mock); ok && isMESH {
				mm = m
			}
		}
		if mm == nil {
			return nil, fmt.Errorf("workload mesh-inbound needs the mesh service (the MESH mock holding the SUT's mailbox)")
		}
		return load.NewMESHInbound(load.MESHInboundConfig{
			MESH: mm, To: stack.MESHMailboxSUT, Workflow: load.DefaultInboundWorkflow, Seed: e.seed, Clock: e.clock,
		}), nil
	case "order-imaging":
		svc, ok := e.stack.Service("gpconnect")
		gm, isGP := svc.(*gpconnect.Mock)
		if !ok || !isGP || e.signer == nil {
			return nil, fmt.Errorf("workload order-imaging needs the gpconnect service (the clinical system and CDS Hooks host)")
		}
		ep := e.stack.Endpoints()["gpconnect"]
		host, err := cdshooks.NewHost(cdshooks.HostConfig{
			ServiceBase: e.sutURL + "/cds-services",
			FHIRServer:  ep.URL,
			Issuer:      e.env["SHAKEDOWN_GPCONNECT_ISSUER"],
			JWKSURL:     e.env["SHAKEDOWN_GPCONNECT_JWKS_URL"],
			Signer:      e.signer,
			Client:      e.client,
			Budget:      e.load.Budget(),
			HardTimeout: hostHardTimeout,
			Journal:     gm.Journal(),
			Logger:      e.logger,
			Prefetch:    gm.Prefetch,
		})
		if err != nil {
			return nil, fmt.Errorf("build the CDS Hooks host: %w", err)
		}
		return load.NewOrderImaging(load.OrderImagingConfig{
			Host:     host,
			Patients: gm.Patients(),
			Seed:     e.seed,
			Clock:    e.clock,
			Journal:  gm.Journal(),
			Budget:   e.load.Budget(),
		})
	case "refer-patient":
		practice := e.env["SHAKEDOWN_ERS_ODS_CODE"]
		return load.NewReferPatient(load.ReferPatientConfig{
			BaseURL:  e.sutURL,
			Client:   e.client,
			Patients: synthetic.NewPatients(e.seed, practice),
			Seed:     e.seed,
			Clock:    e.clock,
		}), nil
	}
	return nil, fmt.Errorf("workload %q has no implementation", name)
}

// hostSigner prepares the CDS Hooks host's key when the clinical system is
// mocked: the GP Connect mock publishes the public half (JWKS) so the SUT
// can verify the host's tokens, and the SUT learns where through its
// environment (through the proxy, so a fault on gpconnect also hits JWKS
// fetches).
func hostSigner(st *stack.Stack, env map[string]string) (*cdshooks.Signer, error) {
	svc, ok := st.Service("gpconnect")
	if !ok {
		return nil, nil
	}
	gm, ok := svc.(*gpconnect.Mock)
	if !ok {
		return nil, fmt.Errorf("service gpconnect is not the GP Connect mock (%T)", svc)
	}
	signer, err := cdshooks.NewSigner()
	if err != nil {
		return nil, fmt.Errorf("create the CDS Hooks host key: %w", err)
	}
	gm.SetHostKey(signer.JWKS())
	ep := st.Endpoints()["gpconnect"]
	env["SHAKEDOWN_GPCONNECT_ISSUER"] = "http://" + ep.Addr
	env["SHAKEDOWN_GPCONNECT_JWKS_URL"] = "http://" + ep.Addr + gpconnect.JWKSPath
	return signer, nil
}

// workloadClient is the HTTP client workloads use to reach the SUT: pooled,
// with a connect timeout; each operation's own timeout comes from its ctx.
func workloadClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     30 * time.Second,
	}}
}
