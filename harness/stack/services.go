package stack

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/harness/scenario"
	"github.com/shakedown-harness/shakedown/mocks/ers"
	"github.com/shakedown-harness/shakedown/mocks/gpconnect"
	"github.com/shakedown-harness/shakedown/mocks/mesh"
)

// The MESH mailboxes the embedded stack registers: the SUT's own (it sends
// results from it) and the GP practice's (it receives them). The ids are
// fixed so reports and journals read the same run to run; the passwords
// and the shared key come from the seed.
const (
	MESHMailboxSUT      = "X26SUT01"
	MESHMailboxPractice = "X26GP001"
)

// DefaultFactories returns the mocks the embedded stack can start, by
// service name. Each factory also returns the credentials the SUT must send,
// as SHAKEDOWN_<SERVICE>_* environment variables.
func DefaultFactories() map[string]ServiceFactory {
	return map[string]ServiceFactory{
		"ers": func(cfg ServiceConfig) (Service, map[string]string, error) {
			if _, err := options("ers", cfg.Options); err != nil {
				return nil, nil, err
			}
			m := ers.New(ers.WithSeed(cfg.Seed), ers.WithClock(cfg.Now), ers.WithLogger(cfg.Logger))
			c := m.Credentials()
			return m, map[string]string{
				"SHAKEDOWN_ERS_TOKEN":             c.Token,
				"SHAKEDOWN_ERS_ODS_CODE":          c.ODSCode,
				"SHAKEDOWN_ERS_BUSINESS_FUNCTION": c.BusinessFunction,
				"SHAKEDOWN_ERS_USER_ID":           c.UserID,
			}, nil
		},
		"gpconnect": func(cfg ServiceConfig) (Service, map[string]string, error) {
			opts, err := options("gpconnect", cfg.Options)
			if err != nil {
				return nil, nil, err
			}
			mopts := []gpconnect.Option{gpconnect.WithSeed(cfg.Seed), gpconnect.WithClock(cfg.Now), gpconnect.WithLogger(cfg.Logger)}
			if n, ok := opts.int("patients"); ok {
				mopts = append(mopts, gpconnect.WithPatients(n))
			}
			if f, ok := opts.float("large_records"); ok {
				size, _ := opts.int("large_record_bytes") // defaulted from the catalog
				mopts = append(mopts, gpconnect.WithLargeRecords(f, size))
			}
			m := gpconnect.New(mopts...)
			c := m.Credentials()
			return m, map[string]string{
				"SHAKEDOWN_GPCONNECT_ODS_CODE":      c.ODSCode,
				"SHAKEDOWN_GPCONNECT_PROVIDER_ASID": c.ProviderASID,
				"SHAKEDOWN_GPCONNECT_CONSUMER_ASID": c.ConsumerASID,
				"SHAKEDOWN_GPCONNECT_CONSUMER_ODS":  c.ConsumerODS,
			}, nil
		},
		"mesh": newMESH,
	}
}

// newMESH starts the MESH mock with the SUT's mailbox and the practice's.
// The SUT gets its own mailbox, password and the shared key, and the
// practice's mailbox as SHAKEDOWN_MESH_TO. SHAKEDOWN_MESH_URL (set by the
// stack) ends in /messageexchange, the mock's base path; clients that want
// the bare base URL strip it (the pathology router does).
func newMESH(cfg ServiceConfig) (Service, map[string]string, error) {
	opts, err := options("mesh", cfg.Options)
	if err != nil {
		return nil, nil, err
	}
	secret := func(salt uint64) string { return fmt.Sprintf("%016x", splitmix64(cfg.Seed^salt)) }
	sutPassword, practicePassword, key := secret(0x5375_7450), secret(0x4750_5057), secret(0x4b65_7921)
	mopts := []mesh.Option{
		mesh.WithSeed(cfg.Seed), mesh.WithClock(cfg.Now), mesh.WithLogger(cfg.Logger),
		mesh.WithMailbox(MESHMailboxSUT, sutPassword),
		mesh.WithMailbox(MESHMailboxPractice, practicePassword),
		mesh.WithSharedKey(key),
	}
	if d, ok := opts.duration("delivery_delay"); ok {
		mopts = append(mopts, mesh.WithDeliveryDelay(d))
	}
	m := mesh.New(mopts...)
	return m, map[string]string{
		"SHAKEDOWN_MESH_MAILBOX":    MESHMailboxSUT,
		"SHAKEDOWN_MESH_PASSWORD":   sutPassword,
		"SHAKEDOWN_MESH_SHARED_KEY": key,
		"SHAKEDOWN_MESH_TO":         MESHMailboxPractice,
	}, nil
}

// splitmix64 is a seeded mixer for credentials (not for security: the
// mocks only ever run on loopback with synthetic data).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// serviceOptions are one service's options, parsed, with the catalog's
// defaults filled in for options that have one.
type serviceOptions struct {
	ints      map[string]int
	floats    map[string]float64
	durations map[string]time.Duration
}

func (o serviceOptions) duration(name string) (time.Duration, bool) {
	v, ok := o.durations[name]
	return v, ok
}

func (o serviceOptions) int(name string) (int, bool) {
	v, ok := o.ints[name]
	return v, ok
}

func (o serviceOptions) float(name string) (float64, bool) {
	v, ok := o.floats[name]
	return v, ok
}

// options parses a service's options against the scenario catalog, the one
// place that says which options each service takes. The scenario validator
// has already reported bad options with their line; this is the backstop
// for a scenario built in code, and every problem is reported at once.
func options(service string, given map[string]string) (serviceOptions, error) {
	out := serviceOptions{ints: map[string]int{}, floats: map[string]float64{}, durations: map[string]time.Duration{}}
	kind, ok := scenario.LookupService(service)
	if !ok {
		return out, fmt.Errorf("start mock %s: the scenario catalog has no service %q", service, service)
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(given)) {
		o, ok := kind.Option(name)
		if !ok {
			takes := "takes no options"
			if len(kind.Options) > 0 {
				takes = "takes " + strings.Join(kind.OptionNames(), ", ")
			}
			errs = append(errs, fmt.Errorf("unknown option %q (the %s mock %s); fix service_options.%s in the scenario",
				name, service, takes, service))
			continue
		}
		if err := parseOption(o, given[name], out); err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w; fix service_options.%s.%s in the scenario", name, err, service, name))
		}
	}
	for _, o := range kind.Options {
		if _, set := given[o.Name]; set || o.Default == "" {
			continue
		}
		if err := parseOption(o, o.Default, out); err != nil {
			errs = append(errs, fmt.Errorf("the catalog's default for option %s: %w (a bug in shakedown)", o.Name, err))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("start mock %s: %w", service, errors.Join(errs...))
	}
	return out, nil
}

func parseOption(o scenario.ServiceOption, text string, out serviceOptions) error {
	switch o.Type {
	case scenario.OptionCount, scenario.OptionBytes:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", text)
		}
		if n < o.Min || n > o.Max {
			return fmt.Errorf("%d is out of range %d to %d", n, o.Min, o.Max)
		}
		out.ints[o.Name] = int(n)
	case scenario.OptionFraction:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return fmt.Errorf("want a number from 0 to 1, got %q", text)
		}
		if !(f >= 0 && f <= 1) {
			return fmt.Errorf("%v is not between 0 and 1", f)
		}
		out.floats[o.Name] = f
	case scenario.OptionDuration:
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("want a duration with a unit, e.g. 5s, got %q", text)
		}
		if int64(d) < o.Min || (o.Max > 0 && int64(d) > o.Max) {
			return fmt.Errorf("%s is out of range %s to %s", d, time.Duration(o.Min), time.Duration(o.Max))
		}
		out.durations[o.Name] = d
	default:
		return fmt.Errorf("option type %q is not handled by the stack (a bug in shakedown)", o.Type)
	}
	return nil
}
