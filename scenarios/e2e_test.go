package scenarios_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// runResult is the subset of result.json the suite asserts on.
type runResult struct {
	Scenario    string `json:"scenario"`
	Seed        uint64 `json:"seed"`
	Status      string `json:"status"`
	Interrupted bool   `json:"interrupted"`
	HarnessErr  string `json:"harness_error"`
	Verdicts    []struct {
		Check   string `json:"check"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"verdicts"`
	Validity []struct {
		Check  string `json:"check"`
		Status string `json:"status"`
	} `json:"validity"`
	Faults []struct {
		Index    int           `json:"index"`
		Kind     string        `json:"kind"`
		Injected time.Duration `json:"injected"`
		Reverted time.Duration `json:"reverted"`
		Touched  bool          `json:"touched"`
	} `json:"faults"`
	SUTEvents []struct {
		Kind string `json:"kind"`
		PID  int    `json:"pid"`
	} `json:"sut_events"`
}

func (r runResult) statuses() map[string]string {
	out := map[string]string{}
	for _, v := range r.Verdicts {
		out[v.Check] = v.Status
	}
	return out
}

func readResult(dir string) runResult {
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	Expect(err).NotTo(HaveOccurred(), "result.json must be written in %s", dir)
	var r runResult
	Expect(json.Unmarshal(b, &r)).To(Succeed())
	return r
}

// cli runs the shakedown binary to completion.
func cli(ctx context.Context, args ...string) (code int, out string) {
	cmd := exec.CommandContext(ctx, built.shakedown, args...)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, GinkgoWriter)
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, buf.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), buf.String()
	}
	Fail(fmt.Sprintf("run shakedown %v: %v", args, err))
	return -1, ""
}

var _ = Describe("ers-outage-referrals", Ordered, func() {
	type outcome struct {
		code int
		out  string
		res  runResult
	}
	var naive, resilient outcome
	var outDir string

	BeforeAll(func(ctx SpecContext) {
		out := GinkgoT().TempDir()
		outDir = out
		var wg sync.WaitGroup
		for mode, o := range map[string]*outcome{"naive": &naive, "resilient": &resilient} {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				o.code, o.out = cli(ctx, "run", "ers-outage-referrals.yaml", "--quiet",
					"--out", filepath.Join(out, mode), "--examples", built.dir,
					"--sut-cmd", built.gateway+" --mode "+mode)
				o.res = readResult(filepath.Join(out, mode, "ers-outage-referrals"))
			}()
		}
		wg.Wait()
	}, NodeTimeout(6*time.Minute))

	It("records the seed it chose", func() {
		Expect(naive.res.Seed).NotTo(BeZero())
		Expect(naive.out).To(ContainSubstring(fmt.Sprintf("seed %d", naive.res.Seed)))
	})

	It("proves, for the resilient run, that every fault touched traffic and the load reached plan", func() {
		Expect(naive.res.Faults).To(HaveLen(5))
		Expect(resilient.res.Faults).To(HaveLen(5))
		for _, v := range resilient.res.Validity {
			Expect(v.Status).To(Equal("pass"), "%s", v.Check)
		}
	})

	It("fails the naive integration on duplicates, waiting and the outage, with exit 1", func() {
		Expect(naive.code).To(Equal(1), "%s", naive.out)
		st := naive.res.statuses()
		Expect(st).To(HaveKeyWithValue("no-duplicate-referrals", "fail"))
		Expect(st).To(HaveKeyWithValue("latency[all]", "fail"))
		Expect(st).To(HaveKeyWithValue("error-rate[fault-1]", "fail"))
		Expect(st).To(HaveKeyWithValue("sut-alive", "pass"))
		Expect(naive.out).To(MatchRegexp(`FAIL\s+no-duplicate-referrals: \d+ of \d+ patients`))
	})

	It("passes the resilient integration on every check, with exit 0", func() {
		Expect(resilient.code).To(Equal(0), "%s", resilient.out)
		for name, s := range resilient.res.statuses() {
			Expect(s).To(Equal("pass"), "%s: %s", name, resilient.out)
		}
		Expect(resilient.res.Verdicts).To(HaveLen(6))
	})

	It("replays a run directory to the same verdicts without starting anything", func(ctx SpecContext) {
		code, out := cli(ctx, "replay", filepath.Join(outDir, "naive", "ers-outage-referrals"))
		Expect(code).To(Equal(naive.code), "%s", out)
		for name, status := range naive.res.statuses() {
			Expect(out).To(MatchRegexp(`%s\s+%s:`, map[string]string{"pass": "PASS", "fail": "FAIL", "inconclusive": "INCON"}[status], regexp.QuoteMeta(name)))
		}
	}, SpecTimeout(time.Minute))
})

var _ = Describe("irefer-host-freeze", Ordered, func() {
	type outcome struct {
		code int
		out  string
		res  runResult
	}
	var naive, resilient outcome

	BeforeAll(func(ctx SpecContext) {
		out := GinkgoT().TempDir()
		var wg sync.WaitGroup
		for mode, o := range map[string]*outcome{"naive": &naive, "resilient": &resilient} {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				o.code, o.out = cli(ctx, "run", "irefer-host-freeze.yaml", "--quiet",
					"--out", filepath.Join(out, mode), "--examples", built.dir,
					"--sut-cmd", built.cds+" --mode "+mode)
				o.res = readResult(filepath.Join(out, mode, "irefer-host-freeze"))
			}()
		}
		wg.Wait()
	}, NodeTimeout(6*time.Minute))

	It("proves, for the resilient run, that every fault touched traffic", func() {
		Expect(naive.res.Faults).To(HaveLen(6))
		Expect(resilient.res.Faults).To(HaveLen(6))
		for _, v := range resilient.res.Validity {
			Expect(v.Status).To(Equal("pass"), "%s", v.Check)
		}
	})

	It("catches the naive integration freezing the host and sending answers it could crash on", func() {
		Expect(naive.code).To(Equal(1), "%s", naive.out)
		st := naive.res.statuses()
		Expect(st).To(HaveKeyWithValue("host-responsive", "fail"))
		Expect(st).To(HaveKeyWithValue("ordering-continues", "fail"))
		Expect(naive.out).To(MatchRegexp(`FAIL\s+host-responsive: .*overran the UI budget`))
		Expect(naive.out).To(ContainSubstring("a real clinical system could crash on"))
	})

	It("passes the resilient integration on every check", func() {
		Expect(resilient.code).To(Equal(0), "%s", resilient.out)
		for name, s := range resilient.res.statuses() {
			Expect(s).To(Equal("pass"), "%s", name)
		}
	})
})

var _ = Describe("pathology scenarios", Ordered, func() {
	type outcome struct {
		code int
		out  string
		res  runResult
	}
	runs := map[string]*outcome{}
	key := func(name, mode string) string { return name + "/" + mode }

	BeforeAll(func(ctx SpecContext) {
		out := GinkgoT().TempDir()
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, name := range []string{"duplicate-pathology-results", "lab-outage-backlog"} {
			for _, mode := range []string{"naive", "resilient"} {
				wg.Add(1)
				go func() {
					defer GinkgoRecover()
					defer wg.Done()
					var o outcome
					o.code, o.out = cli(ctx, "run", name+".yaml", "--quiet",
						"--out", filepath.Join(out, mode), "--examples", built.dir,
						"--sut-cmd", built.router+" --mode "+mode)
					o.res = readResult(filepath.Join(out, mode, name))
					mu.Lock()
					runs[key(name, mode)] = &o
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
	}, NodeTimeout(8*time.Minute))

	It("catches the naive router duplicating results and acknowledging results it then loses", func() {
		o := runs[key("duplicate-pathology-results", "naive")]
		Expect(o.code).To(Equal(1), "%s", o.out)
		st := o.res.statuses()
		Expect(st).To(HaveKeyWithValue("no-duplicate-results", "fail"))
		Expect(st).To(HaveKeyWithValue("ack-integrity", "fail"))
		Expect(st).To(HaveKeyWithValue("no-lost-results", "fail"))
		Expect(o.out).To(MatchRegexp(`FAIL\s+no-duplicate-results: \d+ pathology results reached the practice more than once`))
	})

	It("catches the naive router losing acknowledged results across an outage and stranding its inbox", func() {
		o := runs[key("lab-outage-backlog", "naive")]
		Expect(o.code).To(Equal(1), "%s", o.out)
		st := o.res.statuses()
		Expect(st).To(HaveKeyWithValue("no-lost-results", "fail"))
		Expect(st).To(HaveKeyWithValue("ack-integrity", "fail"))
		Expect(st).To(HaveKeyWithValue("mesh-acknowledged", "fail"))
	})

	It("passes the resilient router on every check of both scenarios, with every fault touching traffic", func() {
		for _, name := range []string{"duplicate-pathology-results", "lab-outage-backlog"} {
			o := runs[key(name, "resilient")]
			Expect(o.code).To(Equal(0), "%s: %s", name, o.out)
			for check, s := range o.res.statuses() {
				Expect(s).To(Equal("pass"), "%s %s", name, check)
			}
			for _, v := range o.res.Validity {
				Expect(v.Status).To(Equal("pass"), "%s %s", name, v.Check)
			}
		}
	})
})

var _ = Describe("interrupting a live run", func() {
	It("lets toxiproxy-cli see the live proxies, then on SIGINT reverts the toxic, stops the SUT and writes result.json", func(ctx SpecContext) {
		out := GinkgoT().TempDir()
		cmd := exec.Command(built.shakedown, "run", "testdata/interruptible.yaml", "--out", out, "--examples", built.dir)
		stdout, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		cmd.Stderr = GinkgoWriter
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })

		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				fmt.Fprintln(GinkgoWriter, sc.Text())
				lines <- sc.Text()
			}
		}()
		apiRe := regexp.MustCompile(`toxiproxy-cli -h (127\.0\.0\.1:\d+) list`)
		var api string
		waitFor := func(pred func(string) bool) {
			for {
				select {
				case l, ok := <-lines:
					Expect(ok).To(BeTrue(), "shakedown ended early")
					if pred(l) {
						return
					}
				case <-ctx.Done():
					Fail("timed out waiting for shakedown's progress")
				}
			}
		}
		waitFor(func(l string) bool {
			if m := apiRe.FindStringSubmatch(l); m != nil {
				api = m[1]
				return true
			}
			return false
		})
		waitFor(func(l string) bool { return strings.Contains(l, "fault 1 injected") })

		list, err := exec.Command(built.toxiproxyCLI, "-h", api, "list").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", list)
		Expect(string(list)).To(ContainSubstring("ers"))
		inspect, err := exec.Command(built.toxiproxyCLI, "-h", api, "inspect", "ers").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", inspect)
		Expect(string(inspect)).To(ContainSubstring("latency"))

		Expect(cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
		go func() {
			for range lines {
			}
		}()
		err = cmd.Wait()
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "shakedown must exit non-zero when interrupted")
		Expect(ee.ExitCode()).To(Equal(130))

		res := readResult(filepath.Join(out, "interruptible"))
		Expect(res.Interrupted).To(BeTrue())
		Expect(res.Faults).To(HaveLen(1))
		Expect(res.Faults[0].Reverted).To(BeNumerically(">", res.Faults[0].Injected), "the toxic must have been reverted")
		var pids []int
		for _, e := range res.SUTEvents {
			if e.PID > 0 && !slices.Contains(pids, e.PID) {
				pids = append(pids, e.PID)
			}
		}
		Expect(pids).NotTo(BeEmpty())
		for _, pid := range pids {
			Expect(syscall.Kill(pid, 0)).To(MatchError(syscall.ESRCH), "SUT pid %d must be gone", pid)
		}
	}, SpecTimeout(2*time.Minute))
})

var _ = Describe("a SUT that exits on start", func() {
	It("gives exit 3 with its last log lines in the message", func(ctx SpecContext) {
		code, out := cli(ctx, "run", "ers-outage-referrals.yaml", "--quiet", "--out", GinkgoT().TempDir(),
			"--sut-cmd", `sh -c "echo 'cannot read pilot.yaml: no such file' >&2; exit 7"`)
		Expect(code).To(Equal(3), "%s", out)
		Expect(out).To(ContainSubstring("cannot read pilot.yaml: no such file"))
		Expect(out).To(ContainSubstring("exit"))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("validate", func() {
	It("lists every problem with its line and exits 2", func(ctx SpecContext) {
		code, out := cli(ctx, "validate", "testdata/broken.yaml")
		Expect(code).To(Equal(2), "%s", out)
		Expect(out).To(MatchRegexp(`broken.yaml:10:\d+: .*duration`))
		Expect(out).To(MatchRegexp(`broken.yaml:12:\d+: .*latncy`))
		Expect(out).To(MatchRegexp(`broken.yaml:14:\d+: .*no-such-check`))
	}, SpecTimeout(time.Minute))

	It("accepts every scenario in the library", func(ctx SpecContext) {
		files, err := filepath.Glob("*.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		code, out := cli(ctx, append([]string{"validate"}, files...)...)
		Expect(code).To(Equal(0), "%s", out)
	}, SpecTimeout(time.Minute))
})
