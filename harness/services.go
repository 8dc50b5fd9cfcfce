package harness

import (
	"net"
	"net/http"
	"time"

	"github.com/shakedown-harness/shakedown/harness/load"
	"github.com/shakedown-harness/shakedown/harness/record"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// workloadEnv is what workloads may need from the running stack.
type workloadEnv struct {
	sutURL string
	env    map[string]string
	seed   uint64
	clock  *record.Clock
	client *http.Client
}

// newWorkload builds a workload by its scenario name.
func newWorkload(name string, e workloadEnv) (load.Workload, bool) {
	switch name {
	case "refer-patient":
		practice := e.env["SHAKEDOWN_ERS_ODS_CODE"]
		return load.NewReferPatient(load.ReferPatientConfig{
			BaseURL:  e.sutURL,
			Client:   e.client,
			Patients: synthetic.NewPatients(e.seed, practice),
			Seed:     e.seed,
			Clock:    e.clock,
		}), true
	}
	return nil, false
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
