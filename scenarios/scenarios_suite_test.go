// The end-to-end suite: it builds the shakedown CLI and the reference
// integrations, then runs the scenario library through the real binary the
// way a supplier's CI would, asserting exit codes and run directories.
package scenarios_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scenario suite skipped in -short mode")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "scenario library (end-to-end, embedded mode)")
}

// bins holds the binaries built once for the suite.
type bins struct {
	dir          string
	shakedown    string
	gateway      string
	cds          string
	router       string
	toxiproxyCLI string
}

var built bins

var _ = BeforeSuite(func() {
	dir := GinkgoT().TempDir()
	built = bins{
		dir:          dir,
		shakedown:    filepath.Join(dir, "shakedown"),
		gateway:      filepath.Join(dir, "referral-gateway"),
		cds:          filepath.Join(dir, "imaging-cds"),
		router:       filepath.Join(dir, "pathology-router"),
		toxiproxyCLI: filepath.Join(dir, "toxiproxy-cli"),
	}
	for _, b := range []struct {
		out, pkg string
		race     bool
	}{
		// Not -race: the harness serves multi-MB GP records in-process, and under
		// the race detector two parallel runs starve a 2-core machine, which
		// would make the timing checks judge the machine, not the SUT. The
		// harness's own races are covered by the unit tests under -race.
		{built.shakedown, "github.com/shakedown-harness/shakedown/cmd/shakedown", false},
		{built.gateway, "github.com/shakedown-harness/shakedown/examples/referral-gateway", false},
		{built.cds, "github.com/shakedown-harness/shakedown/examples/imaging-cds", false},
		{built.router, "github.com/shakedown-harness/shakedown/examples/pathology-router", false},
		{built.toxiproxyCLI, "github.com/Shopify/toxiproxy/v2/cmd/cli", false},
	} {
		args := []string{"build", "-o", b.out}
		if b.race {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, b.pkg)...)
		cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
		Expect(cmd.Run()).To(Succeed(), "go build %s", b.pkg)
	}
	Expect(os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")).To(Succeed())
})
