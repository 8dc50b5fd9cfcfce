package cdshooks_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/cdshooks"
)

var (
	t0  = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	aud = "http://127.0.0.1:8080/cds-services/pama-imaging"
	iss = "https://gp-system.shakedown.invalid"
	jku = "http://127.0.0.1:9/.well-known/jwks.json"
)

func segment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	require.NoError(t, err)
	return decodeMap(t, b)
}

func TestTokenShapeAndJWKS(t *testing.T) {
	s := newSigner(t)
	tok, err := s.Token(iss, aud, jku, t0)
	require.NoError(t, err)

	require.Equal(t, map[string]any{"alg": "ES384", "typ": "JWT", "kid": s.KeyID(), "jku": jku}, segment(t, tok, 0))
	claims := segment(t, tok, 1)
	require.Equal(t, iss, claims["iss"])
	require.Equal(t, aud, claims["aud"])
	require.EqualValues(t, t0.Unix(), claims["iat"])
	require.EqualValues(t, t0.Add(5*time.Minute).Unix(), claims["exp"])
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, claims["jti"])

	tok2, err := s.Token(iss, aud, "", t0)
	require.NoError(t, err)
	require.NotEqual(t, claims["jti"], segment(t, tok2, 1)["jti"], "jti is unique per token")
	require.NotContains(t, segment(t, tok2, 0), "jku", "jku is omitted when empty")

	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(s.JWKS(), &set))
	require.Len(t, set.Keys, 1)
	k := set.Keys[0]
	require.Equal(t, "EC", k["kty"])
	require.Equal(t, "P-384", k["crv"])
	require.Equal(t, "ES384", k["alg"])
	require.Equal(t, "sig", k["use"])
	require.Equal(t, s.KeyID(), k["kid"])
	for _, c := range []string{"x", "y"} {
		raw, err := base64.RawURLEncoding.DecodeString(k[c])
		require.NoError(t, err)
		require.Len(t, raw, 48, "P-384 coordinate %s", c)
	}
	require.NotContains(t, string(s.JWKS()), `"d"`, "the JWKS never carries the private key")
}

func TestVerifyToken(t *testing.T) {
	s := newSigner(t)
	other := newSigner(t)
	good, err := s.Token(iss, aud, jku, t0)
	require.NoError(t, err)

	// forge rewrites the header or claims and keeps the original signature.
	forge := func(i int, edit func(m map[string]any)) string {
		parts := strings.Split(good, ".")
		m := segment(t, good, i)
		edit(m)
		parts[i] = base64.RawURLEncoding.EncodeToString(mustJSON(t, m))
		return strings.Join(parts, ".")
	}
	tamperSig := func(tok string) string {
		parts := strings.Split(tok, ".")
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		require.NoError(t, err)
		sig[10] ^= 0x01
		parts[2] = base64.RawURLEncoding.EncodeToString(sig)
		return strings.Join(parts, ".")
	}
	otherTok, err := other.Token(iss, aud, jku, t0)
	require.NoError(t, err)
	// A JWKS that publishes another key under this signer's kid.
	wrongKeySameKid := strings.Replace(string(other.JWKS()), other.KeyID(), s.KeyID(), 1)

	tests := []struct {
		name    string
		token   string
		jwks    []byte
		aud     string
		now     time.Time
		wantErr string
	}{
		{name: "valid", token: good, jwks: s.JWKS(), aud: aud, now: t0.Add(time.Minute)},
		{name: "valid just before exp", token: good, jwks: s.JWKS(), aud: aud, now: t0.Add(5*time.Minute - time.Second)},
		{name: "wrong aud", token: good, jwks: s.JWKS(), aud: "http://127.0.0.1:8080/cds-services/other", now: t0, wantErr: "aud"},
		{name: "expired", token: good, jwks: s.JWKS(), aud: aud, now: t0.Add(5 * time.Minute), wantErr: "expired"},
		{name: "issued in the future", token: good, jwks: s.JWKS(), aud: aud, now: t0.Add(-2 * time.Minute), wantErr: "future"},
		{name: "tampered signature", token: tamperSig(good), jwks: s.JWKS(), aud: aud, now: t0, wantErr: "does not verify"},
		{name: "tampered claims", token: forge(1, func(m map[string]any) { m["iss"] = "https://evil.invalid" }), jwks: s.JWKS(), aud: aud, now: t0, wantErr: "does not verify"},
		{name: "wrong key (kid unknown to the JWKS)", token: otherTok, jwks: s.JWKS(), aud: aud, now: t0, wantErr: "no key with kid"},
		{name: "wrong key published under the right kid", token: good, jwks: []byte(wrongKeySameKid), aud: aud, now: t0, wantErr: "does not verify"},
		{name: "alg none", token: forge(0, func(m map[string]any) { m["alg"] = "none" }), jwks: s.JWKS(), aud: aud, now: t0, wantErr: "alg"},
		{name: "alg HS384", token: forge(0, func(m map[string]any) { m["alg"] = "HS384" }), jwks: s.JWKS(), aud: aud, now: t0, wantErr: "alg"},
		{name: "no kid", token: forge(0, func(m map[string]any) { delete(m, "kid") }), jwks: s.JWKS(), aud: aud, now: t0, wantErr: "kid"},
		{name: "not a JWT", token: "abc.def", jwks: s.JWKS(), aud: aud, now: t0, wantErr: "parts"},
		{name: "JWKS is not JSON", token: good, jwks: []byte("<html>"), aud: aud, now: t0, wantErr: "jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cdshooks.VerifyToken(tt.token, tt.jwks, tt.aud, tt.now)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, iss, c.Issuer)
			require.Equal(t, []string{aud}, c.Audience)
			require.Equal(t, s.KeyID(), c.KeyID)
			require.Equal(t, jku, c.JKU)
			require.Equal(t, t0.Unix(), c.IssuedAt.Unix())
			require.Equal(t, t0.Add(cdshooks.TokenLifetime).Unix(), c.ExpiresAt.Unix())
			require.NotEmpty(t, c.ID)
		})
	}
}
