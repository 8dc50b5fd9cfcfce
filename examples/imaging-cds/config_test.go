package main

import (
	"io"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	fullEnv := map[string]string{
		envListen:       "127.0.0.1:9000",
		envSelfURL:      "http://127.0.0.1:9000/",
		envGPCURL:       "http://127.0.0.1:8200/B82617/STU3/1/gpconnect/fhir/",
		envJWKSURL:      "http://127.0.0.1:8201/jwks.json",
		envIssuer:       testIssuer,
		envConsumerASID: testConsumerASID,
		envProviderASID: testProviderASID,
	}
	without := func(keys ...string) map[string]string {
		env := maps.Clone(fullEnv)
		for _, k := range keys {
			delete(env, k)
		}
		return env
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c config)
	}{
		{name: "resilient from the environment, defaults", args: []string{"--mode", "resilient"}, env: fullEnv, check: func(t *testing.T, c config) {
			require.Equal(t, "127.0.0.1:9000", c.listen)
			require.Equal(t, "http://127.0.0.1:9000", c.selfURL, "trailing slash trimmed")
			require.Equal(t, "http://127.0.0.1:8200/B82617/STU3/1/gpconnect/fhir", c.gpconnectURL)
			require.Equal(t, testIssuer, c.issuer)
			require.Equal(t, defaultConsumerODS, c.consumerODS)
			require.Equal(t, 1200*time.Millisecond, c.budget)
			require.Equal(t, 5*time.Minute, c.cacheTTL)
			require.EqualValues(t, 4<<20, c.maxRecordBytes)
		}},
		{name: "flags override the environment", args: []string{"--mode=naive", "--listen", "127.0.0.1:9100", "--gpconnect-url", "http://localhost:1/fhir",
			"--jwks-url", "http://localhost:2/jwks", "--self-url", "http://localhost:9100", "--budget", "800ms", "--max-record-bytes", "1024"},
			env: fullEnv, check: func(t *testing.T, c config) {
				require.Equal(t, "127.0.0.1:9100", c.listen)
				require.Equal(t, "http://localhost:1/fhir", c.gpconnectURL)
				require.Equal(t, "http://localhost:2/jwks", c.jwksURL)
				require.Equal(t, "http://localhost:9100", c.selfURL)
				require.Equal(t, 800*time.Millisecond, c.budget)
				require.EqualValues(t, 1024, c.maxRecordBytes)
			}},
		{name: "self URL may be left to the listen address", args: []string{"--mode", "naive"}, env: without(envSelfURL),
			check: func(t *testing.T, c config) { require.Empty(t, c.selfURL) }},
		{name: "consumer ODS from the environment", args: []string{"--mode", "naive"},
			env:   func() map[string]string { e := maps.Clone(fullEnv); e[envConsumerODS] = "A81001"; return e }(),
			check: func(t *testing.T, c config) { require.Equal(t, "A81001", c.consumerODS) }},
		{name: "mode missing", env: fullEnv, wantErr: []string{"--mode naive or --mode resilient"}},
		{name: "mode unknown", args: []string{"--mode", "clever"}, env: fullEnv, wantErr: []string{`"clever"`}},
		{name: "every problem at once", env: map[string]string{}, wantErr: []string{"--mode", "--listen or $SHAKEDOWN_SUT_ADDR",
			"--gpconnect-url or $SHAKEDOWN_GPCONNECT_URL", "--jwks-url or $SHAKEDOWN_GPCONNECT_JWKS_URL",
			"$SHAKEDOWN_GPCONNECT_CONSUMER_ASID", "$SHAKEDOWN_GPCONNECT_PROVIDER_ASID"}},
		{name: "real NHS hosts refused", args: []string{"--mode", "naive", "--gpconnect-url", "https://orange.testlab.nhs.uk/fhir",
			"--jwks-url", "https://host.nhs.net/jwks"}, env: fullEnv, wantErr: []string{"--gpconnect-url", "--jwks-url", "real NHS host"}},
		{name: "URL not absolute", args: []string{"--mode", "naive", "--self-url", "localhost:9000"}, env: fullEnv, wantErr: []string{"--self-url", "absolute http or https"}},
		{name: "bad tuning", args: []string{"--mode", "resilient", "--budget", "0s", "--max-record-bytes", "0", "--breaker-failures", "0", "--cache-ttl", "-1s"},
			env: fullEnv, wantErr: []string{"--budget", "--max-record-bytes", "--breaker-failures", "--cache-ttl"}},
		{name: "unknown flag", args: []string{"--mode", "naive", "--bogus"}, env: fullEnv, wantErr: []string{"bogus"}},
		{name: "stray argument", args: []string{"--mode", "naive", "extra"}, env: fullEnv, wantErr: []string{"unexpected arguments"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr == nil {
				require.NoError(t, err)
				if tc.check != nil {
					tc.check(t, cfg)
				}
				return
			}
			var ce *configError
			require.ErrorAs(t, err, &ce)
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{name: "help", args: []string{"-h"}, want: 0},
		{name: "configuration error", args: []string{"--mode", "naive"}, want: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, run(tc.args, func(string) string { return "" }, io.Discard))
		})
	}
}
