package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Modes the gateway can run in.
const (
	modeNaive     = "naive"
	modeResilient = "resilient"
)

// Environment variables the harness sets (DESIGN.md §4).
const (
	envListen           = "SHAKEDOWN_SUT_ADDR"
	envERSURL           = "SHAKEDOWN_ERS_URL"
	envStateDir         = "SHAKEDOWN_SUT_STATE_DIR"
	envToken            = "SHAKEDOWN_ERS_TOKEN"
	envODSCode          = "SHAKEDOWN_ERS_ODS_CODE"
	envBusinessFunction = "SHAKEDOWN_ERS_BUSINESS_FUNCTION"
)

// config is the gateway's whole configuration, after flags and environment.
type config struct {
	mode     string
	listen   string
	ersURL   string // base URL including /referrals/FHIR, no trailing slash
	stateDir string

	token            string
	odsCode          string
	businessFunction string

	logLevel slog.Level

	// Resilient tuning.
	workers        int
	attemptTimeout time.Duration
	backoffBase    time.Duration
	backoffCap     time.Duration
	// settle is how long after an uncertain attempt started the gateway
	// keeps looking for it in the worklist before concluding that it never
	// reached e-RS and sending again. It covers a request that e-RS is still
	// processing after the client gave up on it.
	settle time.Duration
	// shutdownGrace bounds graceful shutdown.
	shutdownGrace time.Duration
}

// errHelp is returned when -h or --help was asked for; main exits 0.
var errHelp = flag.ErrHelp

// configError is a usage or configuration problem; main exits 2.
type configError struct{ problems []string }

func (e *configError) Error() string {
	if len(e.problems) == 1 {
		return "configuration: " + e.problems[0]
	}
	return "configuration:\n  - " + strings.Join(e.problems, "\n  - ")
}

// parseConfig reads flags from args (without the program name) over the
// environment given by getenv. Every problem is reported at once.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	cfg := config{
		workers:        4,
		attemptTimeout: 3 * time.Second,
		backoffBase:    250 * time.Millisecond,
		backoffCap:     5 * time.Second,
		settle:         20 * time.Second,
		shutdownGrace:  10 * time.Second,
	}
	fs := flag.NewFlagSet("referral-gateway", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.mode, "mode", "", "naive | resilient (required)")
	fs.StringVar(&cfg.listen, "listen", getenv(envListen), "address to listen on (default $"+envListen+")")
	fs.StringVar(&cfg.ersURL, "ers-url", getenv(envERSURL), "e-RS base URL including /referrals/FHIR (default $"+envERSURL+")")
	fs.StringVar(&cfg.stateDir, "state-dir", getenv(envStateDir), "outbox directory, required in resilient mode (default $"+envStateDir+")")
	logLevel := fs.String("log-level", "info", "debug | info | warn | error")
	fs.IntVar(&cfg.workers, "workers", cfg.workers, "resilient: number of sender workers")
	fs.DurationVar(&cfg.attemptTimeout, "attempt-timeout", cfg.attemptTimeout, "resilient: timeout for each e-RS call")
	fs.DurationVar(&cfg.backoffBase, "backoff-base", cfg.backoffBase, "resilient: first retry delay (doubles per failure)")
	fs.DurationVar(&cfg.backoffCap, "backoff-cap", cfg.backoffCap, "resilient: longest retry delay")
	fs.DurationVar(&cfg.settle, "uncertain-settle", cfg.settle, "resilient: how long an uncertain send is looked for in the worklist before it is sent again")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", cfg.shutdownGrace, "time allowed for a graceful shutdown")
	fs.Usage = func() {
		fmt.Fprintf(usage, "usage: referral-gateway --mode naive|resilient [flags]\n\n"+
			"Credentials come from the environment: $%s, $%s, $%s.\n\nFlags:\n",
			envToken, envODSCode, envBusinessFunction)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelp
		}
		return cfg, &configError{problems: []string{err.Error()}}
	}

	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	switch cfg.mode {
	case modeNaive, modeResilient:
	case "":
		problems = append(problems, "mode is missing: set --mode naive or --mode resilient")
	default:
		problems = append(problems, fmt.Sprintf("mode %q is not known: set --mode naive or --mode resilient", cfg.mode))
	}
	if cfg.listen == "" {
		problems = append(problems, "listen address is missing: set --listen or $"+envListen+" (for example 127.0.0.1:9000)")
	}
	if cfg.ersURL == "" {
		problems = append(problems, "e-RS URL is missing: set --ers-url or $"+envERSURL+" (the base URL including /referrals/FHIR)")
	} else if err := checkERSURL(cfg.ersURL); err != nil {
		problems = append(problems, "--ers-url / $"+envERSURL+": "+err.Error())
	} else {
		cfg.ersURL = strings.TrimRight(cfg.ersURL, "/")
	}
	if cfg.mode == modeResilient && cfg.stateDir == "" {
		problems = append(problems, "state directory is missing: resilient mode keeps its outbox on disk; set --state-dir or $"+envStateDir)
	}
	cfg.token = getenv(envToken)
	cfg.odsCode = getenv(envODSCode)
	cfg.businessFunction = getenv(envBusinessFunction)
	if cfg.token == "" {
		problems = append(problems, "e-RS access token is missing: set $"+envToken+" (sent as Authorization: Bearer)")
	}
	if cfg.odsCode == "" {
		problems = append(problems, "e-RS ODS code is missing: set $"+envODSCode+" (sent as NHSD-End-User-Organisation-ODS)")
	}
	if cfg.businessFunction == "" {
		problems = append(problems, "e-RS business function is missing: set $"+envBusinessFunction+" (sent as NHSD-eRS-Business-Function, e.g. REFERRING_CLINICIAN)")
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		problems = append(problems, fmt.Sprintf("--log-level %q is not one of debug, info, warn, error", *logLevel))
	}
	if cfg.workers < 1 {
		problems = append(problems, "--workers must be at least 1")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--attempt-timeout", cfg.attemptTimeout},
		{"--backoff-base", cfg.backoffBase},
		{"--backoff-cap", cfg.backoffCap},
		{"--shutdown-grace", cfg.shutdownGrace},
	} {
		if d.v <= 0 {
			problems = append(problems, d.name+" must be positive")
		}
	}
	if cfg.settle < 0 {
		problems = append(problems, "--uncertain-settle must not be negative")
	}
	if cfg.backoffCap < cfg.backoffBase {
		problems = append(problems, "--backoff-cap must not be shorter than --backoff-base")
	}
	if len(problems) > 0 {
		return cfg, &configError{problems: problems}
	}
	return cfg, nil
}

// checkERSURL accepts an absolute http(s) URL and refuses anything that looks
// like a real NHS endpoint: this example must only ever talk to a mock.
func checkERSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must be an absolute http or https URL", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	host := strings.ToLower(u.Hostname())
	if host == "nhs.uk" || strings.HasSuffix(host, ".nhs.uk") || strings.HasSuffix(host, ".nhs.net") {
		return fmt.Errorf("%q is a real NHS host; this reference integration only talks to mocks", raw)
	}
	return nil
}
