package stack

import "github.com/shakedown-harness/shakedown/mocks/ers"

// DefaultFactories returns the mocks the embedded stack can start, by
// service name. Each factory also returns the credentials the SUT must send,
// as SHAKEDOWN_<SERVICE>_* environment variables.
func DefaultFactories() map[string]ServiceFactory {
	return map[string]ServiceFactory{
		"ers": func(cfg ServiceConfig) (Service, map[string]string, error) {
			m := ers.New(ers.WithSeed(cfg.Seed), ers.WithClock(cfg.Now), ers.WithLogger(cfg.Logger))
			c := m.Credentials()
			return m, map[string]string{
				"SHAKEDOWN_ERS_TOKEN":             c.Token,
				"SHAKEDOWN_ERS_ODS_CODE":          c.ODSCode,
				"SHAKEDOWN_ERS_BUSINESS_FUNCTION": c.BusinessFunction,
				"SHAKEDOWN_ERS_USER_ID":           c.UserID,
			}, nil
		},
	}
}
