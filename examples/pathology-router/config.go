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

// Modes the router can run in.
const (
	modeNaive     = "naive"
	modeResilient = "resilient"
)

// Environment variables the harness sets (DESIGN.md §4), plus
// SHAKEDOWN_SUT_HEALTH_ADDR and SHAKEDOWN_MESH_TO, which a scenario passes in
// its sut.env (MLLP and HTTP cannot share one port).
const (
	envListen       = "SHAKEDOWN_SUT_ADDR"
	envHealthListen = "SHAKEDOWN_SUT_HEALTH_ADDR"
	envStateDir     = "SHAKEDOWN_SUT_STATE_DIR"
	envMeshURL      = "SHAKEDOWN_MESH_URL"
	envMeshTo       = "SHAKEDOWN_MESH_TO"
	envMailbox      = "SHAKEDOWN_MESH_MAILBOX"
	envPassword     = "SHAKEDOWN_MESH_PASSWORD"
	envSharedKey    = "SHAKEDOWN_MESH_SHARED_KEY"
)

// workflowID is the MESH workflow for blood-sciences FHIR results
// (INTERFACES §4.2).
const workflowID = "PATH_BS_R4"

// config is the router's whole configuration, after flags and environment.
type config struct {
	mode         string
	listen       string
	healthListen string // "" disables the health endpoint
	stateDir     string

	meshURL   string // base URL without /messageexchange, no trailing slash
	meshTo    string
	mailbox   string
	password  string
	sharedKey string

	logLevel slog.Level
	maxFrame int

	attemptTimeout time.Duration
	backoffBase    time.Duration
	backoffCap     time.Duration
	// naiveAttempts bounds how often naive mode re-POSTs one result.
	naiveAttempts int
	shutdownGrace time.Duration
	// pollInterval is how often the router polls its own MESH inbox; 0
	// turns polling off.
	pollInterval time.Duration
}

var errHelp = flag.ErrHelp

// configError is a usage or configuration problem; main exits 2.
type configError struct{ problems []string }

func (e *configError) Error() string {
	if len(e.problems) == 1 {
		return "configuration: " + e.problems[0]
	}
	return "configuration:\n  - " + strings.Join(e.problems, "\n  - ")
}

// parseConfig reads flags from args over the environment given by getenv.
// Every problem is reported at once.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	cfg := config{
		maxFrame:       1 << 20,
		attemptTimeout: 5 * time.Second,
		backoffBase:    250 * time.Millisecond,
		backoffCap:     30 * time.Second,
		naiveAttempts:  5,
		shutdownGrace:  10 * time.Second,
		pollInterval:   time.Second,
	}
	fs := flag.NewFlagSet("pathology-router", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.mode, "mode", "", "naive | resilient (required)")
	fs.StringVar(&cfg.listen, "listen", getenv(envListen), "MLLP address to listen on (default $"+envListen+")")
	fs.StringVar(&cfg.healthListen, "health-listen", getenv(envHealthListen), "HTTP address for GET /health; empty disables it (default $"+envHealthListen+")")
	fs.StringVar(&cfg.stateDir, "state-dir", getenv(envStateDir), "outbox directory, required in resilient mode (default $"+envStateDir+")")
	fs.StringVar(&cfg.meshURL, "mesh-url", getenv(envMeshURL), "MESH base URL, without /messageexchange (default $"+envMeshURL+")")
	fs.StringVar(&cfg.meshTo, "mesh-to", getenv(envMeshTo), "the practice's MESH mailbox (default $"+envMeshTo+")")
	logLevel := fs.String("log-level", "info", "debug | info | warn | error")
	fs.IntVar(&cfg.maxFrame, "max-frame", cfg.maxFrame, "largest MLLP frame accepted, in bytes")
	fs.DurationVar(&cfg.attemptTimeout, "attempt-timeout", cfg.attemptTimeout, "timeout for each MESH call")
	fs.DurationVar(&cfg.backoffBase, "backoff-base", cfg.backoffBase, "resilient: first retry delay (doubles per failure)")
	fs.DurationVar(&cfg.backoffCap, "backoff-cap", cfg.backoffCap, "resilient: longest retry delay (a longer Retry-After is still honoured)")
	fs.IntVar(&cfg.naiveAttempts, "naive-attempts", cfg.naiveAttempts, "naive: POSTs per result before giving up")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", cfg.shutdownGrace, "time allowed for a graceful shutdown")
	fs.DurationVar(&cfg.pollInterval, "poll-interval", cfg.pollInterval, "how often to poll the router's own MESH inbox; 0 turns polling off")
	fs.Usage = func() {
		fmt.Fprintf(usage, "usage: pathology-router --mode naive|resilient [flags]\n\n"+
			"MESH credentials come from the environment: $%s, $%s, $%s.\n\nFlags:\n",
			envMailbox, envPassword, envSharedKey)
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
		problems = append(problems, "MLLP listen address is missing: set --listen or $"+envListen+" (for example 127.0.0.1:2575)")
	}
	if cfg.healthListen != "" && cfg.healthListen == cfg.listen && !strings.HasSuffix(cfg.listen, ":0") {
		problems = append(problems, "--health-listen must differ from --listen: MLLP and HTTP cannot share a port")
	}
	if cfg.meshURL == "" {
		problems = append(problems, "MESH URL is missing: set --mesh-url or $"+envMeshURL)
	} else if err := checkMeshURL(cfg.meshURL); err != nil {
		problems = append(problems, "--mesh-url / $"+envMeshURL+": "+err.Error())
	} else {
		cfg.meshURL = strings.TrimSuffix(strings.TrimRight(cfg.meshURL, "/"), "/messageexchange")
	}
	cfg.meshTo = strings.ToUpper(strings.TrimSpace(cfg.meshTo))
	if cfg.meshTo == "" {
		problems = append(problems, "recipient mailbox is missing: set --mesh-to or $"+envMeshTo+" (the practice's MESH mailbox)")
	}
	if cfg.mode == modeResilient && cfg.stateDir == "" {
		problems = append(problems, "state directory is missing: resilient mode keeps its outbox on disk; set --state-dir or $"+envStateDir)
	}
	cfg.mailbox = strings.ToUpper(getenv(envMailbox))
	cfg.password = getenv(envPassword)
	cfg.sharedKey = getenv(envSharedKey)
	if cfg.mailbox == "" {
		problems = append(problems, "MESH mailbox is missing: set $"+envMailbox)
	}
	if cfg.password == "" {
		problems = append(problems, "MESH mailbox password is missing: set $"+envPassword)
	}
	if cfg.sharedKey == "" {
		problems = append(problems, "MESH shared key is missing: set $"+envSharedKey)
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		problems = append(problems, fmt.Sprintf("--log-level %q is not one of debug, info, warn, error", *logLevel))
	}
	if cfg.maxFrame < 1024 {
		problems = append(problems, "--max-frame must be at least 1024")
	}
	if cfg.naiveAttempts < 1 {
		problems = append(problems, "--naive-attempts must be at least 1")
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
	if cfg.pollInterval < 0 {
		problems = append(problems, "--poll-interval must not be negative (0 turns inbox polling off)")
	}
	if cfg.backoffCap < cfg.backoffBase {
		problems = append(problems, "--backoff-cap must not be shorter than --backoff-base")
	}
	if len(problems) > 0 {
		return cfg, &configError{problems: problems}
	}
	return cfg, nil
}

// checkMeshURL accepts an absolute http(s) URL and refuses real NHS hosts:
// this example only ever talks to a mock.
func checkMeshURL(raw string) error {
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
