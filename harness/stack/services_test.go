package stack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/harness/stack"
	"github.com/shakedown-harness/shakedown/harness/stack/stacktest"
	"github.com/shakedown-harness/shakedown/mocks/gpconnect"
)

func TestDefaultFactories(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{
		Services:  []string{"ers", "gpconnect"},
		Factories: stack.DefaultFactories(),
		Seed:      11,
		Options: map[string]map[string]string{
			"gpconnect": {"patients": "7", "large_records": "0.5", "large_record_bytes": "20000"},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, st.Close(ctx))
	})

	env := st.Env()
	for _, k := range []string{
		"SHAKEDOWN_ERS_URL", "SHAKEDOWN_ERS_TOKEN", "SHAKEDOWN_ERS_ODS_CODE",
		"SHAKEDOWN_GPCONNECT_URL", "SHAKEDOWN_GPCONNECT_ADDR",
		"SHAKEDOWN_GPCONNECT_ODS_CODE", "SHAKEDOWN_GPCONNECT_PROVIDER_ASID",
		"SHAKEDOWN_GPCONNECT_CONSUMER_ASID", "SHAKEDOWN_GPCONNECT_CONSUMER_ODS",
	} {
		require.NotEmpty(t, env[k], k)
	}

	svc, ok := st.Service("gpconnect")
	require.True(t, ok)
	m, ok := svc.(*gpconnect.Mock)
	require.True(t, ok, "the engine reaches the clinical mock itself, got %T", svc)
	require.Len(t, m.Patients(), 7, "service_options.gpconnect.patients reached the mock")
	c := m.Credentials()
	require.Equal(t, c.ODSCode, env["SHAKEDOWN_GPCONNECT_ODS_CODE"])
	require.Equal(t, c.ProviderASID, env["SHAKEDOWN_GPCONNECT_PROVIDER_ASID"])
	require.Equal(t, c.ConsumerASID, env["SHAKEDOWN_GPCONNECT_CONSUMER_ASID"])
	require.Equal(t, c.ConsumerODS, env["SHAKEDOWN_GPCONNECT_CONSUMER_ODS"])
	require.True(t, strings.HasSuffix(env["SHAKEDOWN_GPCONNECT_URL"], m.BasePath()), "the URL carries the FHIR base path")

	_, ok = st.Service("mesh")
	require.False(t, ok)
}

func TestDefaultFactoriesSeeded(t *testing.T) {
	build := func() (stack.Service, map[string]string) {
		svc, env, err := stack.DefaultFactories()["gpconnect"](stack.ServiceConfig{Seed: 5, Now: time.Now})
		require.NoError(t, err)
		return svc, env
	}
	a, envA := build()
	b, envB := build()
	require.Equal(t, envA, envB, "one seed, one practice and one set of credentials")
	require.Equal(t, a.(*gpconnect.Mock).Patients(), b.(*gpconnect.Mock).Patients())
	require.Len(t, a.(*gpconnect.Mock).Patients(), gpconnect.DefaultPatients, "no options: the mock's defaults")
}

func TestDefaultFactoryOptionErrors(t *testing.T) {
	tests := []struct {
		name    string
		service string
		options map[string]string
		want    []string
	}{
		{name: "unknown option", service: "gpconnect", options: map[string]string{"patiens": "5"},
			want: []string{`start mock gpconnect: unknown option "patiens" (the gpconnect mock takes patients, large_records, large_record_bytes)`, "fix service_options.gpconnect"}},
		{name: "every problem at once", service: "gpconnect", options: map[string]string{"patients": "lots", "large_records": "2"},
			want: []string{`option patients: want a whole number, got "lots"; fix service_options.gpconnect.patients`, "option large_records: 2 is not between 0 and 1"}},
		{name: "out of range", service: "gpconnect", options: map[string]string{"patients": "0"},
			want: []string{"option patients: 0 is out of range 1 to 100000"}},
		{name: "ers takes none", service: "ers", options: map[string]string{"patients": "5"},
			want: []string{`start mock ers: unknown option "patients" (the ers mock takes no options)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, env, err := stack.DefaultFactories()[tt.service](stack.ServiceConfig{Seed: 1, Options: tt.options})
			require.Nil(t, svc)
			require.Nil(t, env)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestOptionsReachTheirFactory(t *testing.T) {
	got := map[string]map[string]string{}
	factory := func(name string) stack.ServiceFactory {
		return func(cfg stack.ServiceConfig) (stack.Service, map[string]string, error) {
			got[name] = cfg.Options
			return stacktest.NewEcho(name, cfg), nil, nil
		}
	}
	opts := map[string]map[string]string{"a": {"k": "v"}}
	st, err := stack.Start(context.Background(), stack.Config{
		Services:  []string{"a", "b"},
		Factories: map[string]stack.ServiceFactory{"a": factory("a"), "b": factory("b")},
		Options:   opts,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close(context.Background())) })
	require.Equal(t, map[string]string{"k": "v"}, got["a"])
	require.Nil(t, got["b"])
	got["a"]["k"] = "scribbled"
	require.Equal(t, "v", opts["a"]["k"], "a factory gets its own copy")

	svc, ok := st.Service("a")
	require.True(t, ok)
	require.Equal(t, "a", svc.Name())

	_, err = stack.Start(context.Background(), stack.Config{
		Services:  []string{"a"},
		Factories: map[string]stack.ServiceFactory{"a": factory("a")},
		Options:   map[string]map[string]string{"gpconnect": {"patients": "5"}},
	})
	require.ErrorContains(t, err, `options given for service "gpconnect", which is not started (services: a); list it in the scenario's services or remove its service_options`)
}
