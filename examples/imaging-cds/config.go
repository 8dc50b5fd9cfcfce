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

// Modes the service can run in.
const (
	modeNaive     = "naive"
	modeResilient = "resilient"
)

// Environment variables the harness sets (DESIGN.md §4).
const (
	envListen       = "SHAKEDOWN_SUT_ADDR"
	envSelfURL      = "SHAKEDOWN_SUT_URL"
	envGPCURL       = "SHAKEDOWN_GPCONNECT_URL"
	envJWKSURL      = "SHAKEDOWN_GPCONNECT_JWKS_URL"
	envIssuer       = "SHAKEDOWN_GPCONNECT_ISSUER"
	envConsumerASID = "SHAKEDOWN_GPCONNECT_CONSUMER_ASID"
	envProviderASID = "SHAKEDOWN_GPCONNECT_PROVIDER_ASID"
	envConsumerODS  = "SHAKEDOWN_GPCONNECT_CONSUMER_ODS"
)

// defaultConsumerODS is the requesting organisation's ODS code when
// $SHAKEDOWN_GPCONNECT_CONSUMER_ODS is not set. Y-codes are test and
// non-standard organisations.
const defaultConsumerODS = "Y00001"

// config is the service's whole configuration, after flags and environment.
type config struct {
	mode   string
	listen string
	// selfURL is this service's base URL as the host calls it (no trailing
	// slash); the aud of the host's JWT is selfURL + "/cds-services/" + id.
	// Empty means "derive it from the listen address once listening".
	selfURL      string
	gpconnectURL string // fallback GP Connect FHIR base when a hook names no fhirServer
	jwksURL      string
	issuer       string // expected iss of the host's JWT; empty accepts any

	consumerASID string
	providerASID string
	consumerODS  string

	logLevel      slog.Level
	shutdownGrace time.Duration

	// Resilient tuning.
	budget          time.Duration
	cacheTTL        time.Duration
	maxRecordBytes  int64
	breakerFailures int
	breakerCooldown time.Duration
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

// parseConfig reads flags from args (without the program name) over the
// environment given by getenv. Every problem is reported at once.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	cfg := config{
		shutdownGrace:   10 * time.Second,
		budget:          1200 * time.Millisecond,
		cacheTTL:        5 * time.Minute,
		maxRecordBytes:  4 << 20,
		breakerFailures: 5,
		// Short: while open, a probe every few seconds is cheap, and a clinician
		// should get guidance back soon after GP Connect recovers.
		breakerCooldown: 5 * time.Second,
	}
	fs := flag.NewFlagSet("imaging-cds", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.mode, "mode", "", "naive | resilient (required)")
	fs.StringVar(&cfg.listen, "listen", getenv(envListen), "address to listen on (default $"+envListen+")")
	fs.StringVar(&cfg.selfURL, "self-url", getenv(envSelfURL), "this service's base URL, for the JWT aud check (default $"+envSelfURL+", else http://<listen address>)")
	fs.StringVar(&cfg.gpconnectURL, "gpconnect-url", getenv(envGPCURL), "GP Connect FHIR base used when a hook names no fhirServer (default $"+envGPCURL+")")
	fs.StringVar(&cfg.jwksURL, "jwks-url", getenv(envJWKSURL), "the CDS host's JWKS URL (default $"+envJWKSURL+")")
	logLevel := fs.String("log-level", "info", "debug | info | warn | error")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", cfg.shutdownGrace, "time allowed for a graceful shutdown")
	fs.DurationVar(&cfg.budget, "budget", cfg.budget, "resilient: overall time budget per hook call, GP Connect included")
	fs.DurationVar(&cfg.cacheTTL, "cache-ttl", cfg.cacheTTL, "resilient: how long a patient's record is reused")
	fs.Int64Var(&cfg.maxRecordBytes, "max-record-bytes", cfg.maxRecordBytes, "resilient: largest structured record read, in bytes")
	fs.IntVar(&cfg.breakerFailures, "breaker-failures", cfg.breakerFailures, "resilient: consecutive GP Connect failures that open the circuit breaker")
	fs.DurationVar(&cfg.breakerCooldown, "breaker-cooldown", cfg.breakerCooldown, "resilient: how long the breaker stays open before one probe")
	fs.Usage = func() {
		fmt.Fprintf(usage, "usage: imaging-cds --mode naive|resilient [flags]\n\n"+
			"From the environment only: $%s and $%s (required, Ssp-From / Ssp-To), $%s (requesting organisation, default %s), "+
			"$%s (expected iss of the host's JWT; unset accepts any).\n\nFlags:\n",
			envConsumerASID, envProviderASID, envConsumerODS, defaultConsumerODS, envIssuer)
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
	checkURL := func(v *string, what, flagName, env string, required bool) {
		if *v == "" {
			if required {
				problems = append(problems, what+" is missing: set "+flagName+" or $"+env)
			}
			return
		}
		if err := checkMockURL(*v); err != nil {
			problems = append(problems, flagName+" / $"+env+": "+err.Error())
			return
		}
		*v = strings.TrimRight(*v, "/")
	}
	checkURL(&cfg.gpconnectURL, "GP Connect URL", "--gpconnect-url", envGPCURL, true)
	checkURL(&cfg.jwksURL, "the host's JWKS URL", "--jwks-url", envJWKSURL, true)
	checkURL(&cfg.selfURL, "self URL", "--self-url", envSelfURL, false)

	cfg.issuer = getenv(envIssuer)
	cfg.consumerASID = strings.TrimSpace(getenv(envConsumerASID))
	cfg.providerASID = strings.TrimSpace(getenv(envProviderASID))
	cfg.consumerODS = strings.TrimSpace(getenv(envConsumerODS))
	if cfg.consumerODS == "" {
		cfg.consumerODS = defaultConsumerODS
	}
	if cfg.consumerASID == "" {
		problems = append(problems, "consumer ASID is missing: set $"+envConsumerASID+" (sent as Ssp-From)")
	}
	if cfg.providerASID == "" {
		problems = append(problems, "provider ASID is missing: set $"+envProviderASID+" (sent as Ssp-To)")
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		problems = append(problems, fmt.Sprintf("--log-level %q is not one of debug, info, warn, error", *logLevel))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--shutdown-grace", cfg.shutdownGrace},
		{"--budget", cfg.budget},
		{"--cache-ttl", cfg.cacheTTL},
		{"--breaker-cooldown", cfg.breakerCooldown},
	} {
		if d.v <= 0 {
			problems = append(problems, d.name+" must be positive")
		}
	}
	if cfg.maxRecordBytes <= 0 {
		problems = append(problems, "--max-record-bytes must be positive")
	}
	if cfg.breakerFailures < 1 {
		problems = append(problems, "--breaker-failures must be at least 1")
	}
	if len(problems) > 0 {
		return cfg, &configError{problems: problems}
	}
	return cfg, nil
}

// checkMockURL accepts an absolute http(s) URL and refuses anything that
// looks like a real NHS endpoint: this example must only ever talk to mocks.
func checkMockURL(raw string) error {
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
	if isNHSHost(u.Hostname()) {
		return fmt.Errorf("%q is a real NHS host; this reference integration only talks to mocks", raw)
	}
	return nil
}

func isNHSHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range []string{"nhs.uk", "nhs.net"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
