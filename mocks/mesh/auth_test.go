package mesh

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The spec's Python example: build_auth_header for X26AB1234. Recomputed
// here with the documented algorithm: the shape of every example token in
// the spec parses.
func TestParseAuthorizationSpecExamples(t *testing.T) {
	examples := []string{
		"NHSMESH X26HC005:1c820cd4-be3e-43ff-807f-e65362892722:0:202006041718:3cded68a9e0f9b83f2c5de1b79fc4dac45004523e6658d46145156fa6a03eced",
		"NHSMESH NONFUNC01:2c001608-5f09-4840-9611-bea43e666a30:1:201511201038:3cded68a9e0f9b83f2c5de1b79fc4dac45004523e6658d46145156fa6a03eced",
		"NHSMESH X26HC006:c1f2df9c-fe9e-4d11-ba78-49a8bc705eb4:0:202006041718:3cded68a9e0f9b83f2c5de1b79fc4dac45004523e6658d46145156fa6a03eced",
	}
	for _, h := range examples {
		a, err := ParseAuthorization(h)
		require.NoError(t, err, h)
		require.Equal(t, h, "NHSMESH "+a.Mailbox+":"+a.Nonce+":"+a.NonceCount+":"+a.RawTimestamp+":"+a.HMAC)
	}
	a, err := ParseAuthorization(examples[0])
	require.NoError(t, err)
	require.Equal(t, time.Date(2020, 6, 4, 17, 18, 0, 0, time.UTC), a.Timestamp)
	require.Equal(t, "X26HC005", a.Mailbox)
}

// Sign matches an HMAC-SHA256 computed independently (openssl dgst
// -sha256 -hmac TestKey over the message).
func TestSignVector(t *testing.T) {
	got := Sign("TestKey", "X26ABC1", "4a6b6a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "0", "password", "202603020930")
	require.Equal(t, signVector, got)
	tok := Token("TestKey", "X26ABC1", "password", "4a6b6a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", 0, time.Date(2026, 3, 2, 9, 30, 59, 0, time.UTC))
	require.Equal(t, "NHSMESH X26ABC1:4a6b6a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b:0:202603020930:"+signVector, tok)
	a, err := ParseAuthorization(tok)
	require.NoError(t, err)
	require.True(t, a.Verify("TestKey", "password"))
	require.False(t, a.Verify("TestKey", "wrong"))
	require.False(t, a.Verify("Banana", "password"))
}

func TestParseAuthorizationMalformed(t *testing.T) {
	good := Token("k", "X26ABC1", "p", "n", 0, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rows := map[string]string{
		"empty":            "",
		"bearer":           "Bearer abc",
		"no space":         "NHSMESHX26ABC1:n:0:202601010000:" + strings.Repeat("a", 64),
		"lowercase scheme": strings.Replace(good, "NHSMESH", "nhsmesh", 1),
		"four parts":       "NHSMESH X26ABC1:n:0:" + strings.Repeat("a", 64),
		"six parts":        good + ":x",
		"count not digits": "NHSMESH X26ABC1:n:x:202601010000:" + strings.Repeat("a", 64),
		"short timestamp":  "NHSMESH X26ABC1:n:0:2026010100:" + strings.Repeat("a", 64),
		"bad month":        "NHSMESH X26ABC1:n:0:202613010000:" + strings.Repeat("a", 64),
		"hmac not hex":     "NHSMESH X26ABC1:n:0:202601010000:" + strings.Repeat("z", 64),
		"hmac short":       "NHSMESH X26ABC1:n:0:202601010000:abc",
		"empty mailbox":    "NHSMESH :n:0:202601010000:" + strings.Repeat("a", 64),
		"empty nonce":      "NHSMESH X26ABC1::0:202601010000:" + strings.Repeat("a", 64),
	}
	for name, h := range rows {
		t.Run(name, func(t *testing.T) {
			_, err := ParseAuthorization(h)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrMalformedAuth))
		})
	}
}

func TestAuthTable(t *testing.T) {
	e := start(t)
	now := e.clock.Now()
	key := e.m.SharedKey()
	reused := Token(key, "X26ABC1", "password", "reuse-me", 0, now)
	hs := map[string]string{"mex-ClientVersion": "test==1", "mex-OSName": "Linux", "mex-OSVersion": "6"}
	rows := []struct {
		name, path, auth string
		want             int
		detail           string
	}{
		{"good", "/X26ABC1", Token(key, "X26ABC1", "password", "n-1", 0, now), http.StatusOK, ""},
		{"nonce count distinguishes", "/X26ABC1", Token(key, "X26ABC1", "password", "n-1", 1, now), http.StatusOK, ""},
		{"first use of token", "/X26ABC1", reused, http.StatusOK, ""},
		{"reused token", "/X26ABC1", reused, http.StatusForbidden, authErrInvalid},
		{"skew just under 2h", "/X26ABC1", Token(key, "X26ABC1", "password", "n-2", 0, now.Add(-119*time.Minute)), http.StatusOK, ""},
		{"skew over 2h behind", "/X26ABC1", Token(key, "X26ABC1", "password", "n-3", 0, now.Add(-121*time.Minute)), http.StatusForbidden, authErrInvalid},
		{"skew over 2h ahead", "/X26ABC1", Token(key, "X26ABC1", "password", "n-4", 0, now.Add(121*time.Minute)), http.StatusForbidden, authErrInvalid},
		{"mailbox mismatch", "/X26ABC2", Token(key, "X26ABC1", "password", "n-5", 0, now), http.StatusForbidden, authErrMismatch},
		{"mailbox case mismatch", "/x26abc1", Token(key, "X26ABC1", "password", "n-6", 0, now), http.StatusForbidden, authErrMismatch},
		{"wrong password", "/X26ABC1", Token(key, "X26ABC1", "nope", "n-7", 0, now), http.StatusForbidden, authErrInvalid},
		{"wrong shared key", "/X26ABC1", Token("Banana", "X26ABC1", "password", "n-8", 0, now), http.StatusForbidden, authErrInvalid},
		{"unknown mailbox", "/X26ZZZ9", Token(key, "X26ZZZ9", "password", "n-9", 0, now), http.StatusForbidden, authErrNoMbx},
		{"malformed header", "/X26ABC1", "NHSMESH X26ABC1:broken", http.StatusForbidden, authErrRead},
		{"missing header", "/X26ABC1", "-", http.StatusForbidden, authErrRead},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := map[string]string{"Authorization": row.auth}
			for k, v := range hs {
				h[k] = v
			}
			r := e.do(http.MethodPost, "X26ABC1", row.path, h, nil)
			require.Equal(t, row.want, r.status, "body: %s", r.body)
			if row.detail != "" {
				require.Equal(t, row.detail, r.json(t)["detail"])
			}
		})
	}
}

const signVector = "500d4eabc3004828241ad2c7a2a8b2f421e9b2c68e9c5de0e5a32154262959d4"
