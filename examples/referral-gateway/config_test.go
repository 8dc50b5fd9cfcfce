package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	fullEnv := map[string]string{
		envListen:           "127.0.0.1:9000",
		envERSURL:           "http://127.0.0.1:8100/referrals/FHIR/",
		envStateDir:         "/tmp/state",
		envToken:            "tok",
		envODSCode:          "A12345",
		envBusinessFunction: "REFERRING_CLINICIAN",
	}
	without := func(keys ...string) map[string]string {
		env := map[string]string{}
		for k, v := range fullEnv {
			env[k] = v
		}
		for _, k := range keys {
			delete(env, k)
		}
		return env
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr []string // substrings of the error; nil means success
		check   func(t *testing.T, c config)
	}{
		{
			name: "naive from the environment",
			args: []string{"--mode", "naive"},
			env:  fullEnv,
			check: func(t *testing.T, c config) {
				require.Equal(t, "127.0.0.1:9000", c.listen)
				require.Equal(t, "http://127.0.0.1:8100/referrals/FHIR", c.ersURL, "trailing slash trimmed")
				require.Equal(t, "tok", c.token)
				require.Equal(t, "A12345", c.odsCode)
				require.Equal(t, "REFERRING_CLINICIAN", c.businessFunction)
				require.Equal(t, 4, c.workers)
				require.Equal(t, 3*time.Second, c.attemptTimeout)
			},
		},
		{
			name: "flags override the environment",
			args: []string{"--mode=resilient", "--listen", "127.0.0.1:9100", "--ers-url", "http://localhost:1/referrals/FHIR",
				"--state-dir", "/tmp/other", "--workers", "8"},
			env: fullEnv,
			check: func(t *testing.T, c config) {
				require.Equal(t, "127.0.0.1:9100", c.listen)
				require.Equal(t, "http://localhost:1/referrals/FHIR", c.ersURL)
				require.Equal(t, "/tmp/other", c.stateDir)
				require.Equal(t, 8, c.workers)
			},
		},
		{
			name: "naive needs no state directory",
			args: []string{"--mode", "naive"},
			env:  without(envStateDir),
		},
		{name: "mode missing", env: fullEnv, wantErr: []string{"--mode naive or --mode resilient"}},
		{name: "mode unknown", args: []string{"--mode", "clever"}, env: fullEnv, wantErr: []string{`"clever"`, "--mode"}},
		{
			name: "listen missing", args: []string{"--mode", "naive"}, env: without(envListen),
			wantErr: []string{"--listen", "$SHAKEDOWN_SUT_ADDR"},
		},
		{
			name: "e-RS URL missing", args: []string{"--mode", "naive"}, env: without(envERSURL),
			wantErr: []string{"--ers-url", "$SHAKEDOWN_ERS_URL"},
		},
		{
			name: "e-RS URL not absolute", args: []string{"--mode", "naive", "--ers-url", "localhost:8100"}, env: fullEnv,
			wantErr: []string{"--ers-url", "absolute http or https"},
		},
		{
			name: "real NHS host refused", args: []string{"--mode", "naive", "--ers-url", "https://sandbox.api.service.nhs.uk/referrals/FHIR"},
			env: fullEnv, wantErr: []string{"real NHS host"},
		},
		{
			name: "resilient without a state directory", args: []string{"--mode", "resilient"}, env: without(envStateDir),
			wantErr: []string{"--state-dir", "$SHAKEDOWN_SUT_STATE_DIR"},
		},
		{
			name: "credentials missing", args: []string{"--mode", "naive"}, env: without(envToken, envODSCode, envBusinessFunction),
			wantErr: []string{"$SHAKEDOWN_ERS_TOKEN", "$SHAKEDOWN_ERS_ODS_CODE", "$SHAKEDOWN_ERS_BUSINESS_FUNCTION"},
		},
		{
			name: "every problem at once", env: map[string]string{},
			wantErr: []string{"--mode", "--listen", "--ers-url", "$SHAKEDOWN_ERS_ODS_CODE"},
		},
		{
			name: "bad tuning", args: []string{"--mode", "naive", "--workers", "0", "--attempt-timeout", "0s"}, env: fullEnv,
			wantErr: []string{"--workers", "--attempt-timeout"},
		},
		{name: "unknown flag", args: []string{"--mode", "naive", "--bogus"}, env: fullEnv, wantErr: []string{"bogus"}},
		{name: "stray argument", args: []string{"--mode", "naive", "extra"}, env: fullEnv, wantErr: []string{"unexpected arguments"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			cfg, err := parseConfig(tc.args, getenv, io.Discard)
			if tc.wantErr == nil {
				require.NoError(t, err)
				if tc.check != nil {
					tc.check(t, cfg)
				}
				return
			}
			require.Error(t, err)
			var ce *configError
			require.ErrorAs(t, err, &ce)
			for _, want := range tc.wantErr {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "help", args: []string{"-h"}, want: 0},
		{name: "configuration error", args: []string{"--mode", "naive"}, want: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, run(tc.args, func(string) string { return "" }, io.Discard))
		})
	}
}
