package harness

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Option configures a run. Options can fail; Run reports the first error.
type Option func(*config) error

type config struct {
	outDir      string
	seed        uint64
	sutCommand  []string
	examplesDir string
	mode        string
	logger      *slog.Logger
	progress    io.Writer
	artifacts   []Artifact
	expectFail  []string
	drainCap    time.Duration
	minLoad     float64
}

func defaults() config {
	return config{
		outDir:   "out",
		mode:     "embedded",
		logger:   slog.New(slog.DiscardHandler),
		progress: io.Discard,
		drainCap: 5 * time.Minute,
		minLoad:  0.95,
	}
}

// WithOutDir sets the parent directory of run directories (default "out").
func WithOutDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("output directory must not be empty")
		}
		c.outDir = dir
		return nil
	}
}

// WithSeed overrides the scenario's seed (0 keeps the scenario's choice).
func WithSeed(seed uint64) Option {
	return func(c *config) error { c.seed = seed; return nil }
}

// WithSUTCommand replaces the scenario's SUT with a command (argv), so a
// supplier can point a scenario at their own build.
func WithSUTCommand(argv []string) Option {
	return func(c *config) error {
		if len(argv) == 0 {
			return errors.New("SUT command must not be empty")
		}
		c.sutCommand = argv
		return nil
	}
}

// WithExamplesDir sets what {{ .examples }} expands to in SUT commands: the
// directory holding the built reference integrations.
func WithExamplesDir(dir string) Option {
	return func(c *config) error { c.examplesDir = dir; return nil }
}

// WithMode selects embedded (default) or containers mode.
func WithMode(mode string) Option {
	return func(c *config) error {
		switch mode {
		case "", "embedded":
			c.mode = "embedded"
			return nil
		case "containers":
			return fmt.Errorf("mode %q is not available yet: containers mode (testcontainers-go with locally built images) is planned; use --mode embedded", mode)
		}
		return fmt.Errorf("unknown mode %q: use embedded", mode)
	}
}

// WithLogger sets the structured logger for the harness's own diagnostics.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	}
}

// WithProgress makes the run print one line per milestone (stack up, fault
// injected, ...) to w as it goes.
func WithProgress(w io.Writer) Option {
	return func(c *config) error {
		if w != nil {
			c.progress = w
		}
		return nil
	}
}

// WithExpectFail declares which checks are expected to fail (a known-bad
// integration used as a control). The run then passes exactly when every one
// of those checks fails; other checks failing too are further catches, shown
// in the report.
func WithExpectFail(checks []string) Option {
	return func(c *config) error { c.expectFail = checks; return nil }
}

// WithMinLoadRatio sets the fraction of planned arrivals that must be issued
// for the run to count (default 0.95).
func WithMinLoadRatio(r float64) Option {
	return func(c *config) error {
		if r <= 0 || r > 1 {
			return fmt.Errorf("minimum load ratio must be within (0,1], got %v", r)
		}
		c.minLoad = r
		return nil
	}
}
