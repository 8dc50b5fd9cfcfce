package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// hostAuth verifies the CDS host's Authorization: Bearer JWT (CDS Hooks
// §"Trusting CDS Clients"): ES384 signed, key found by kid in the host's
// JWKS, iss as configured, aud this service's endpoint, exp not passed.
//
// Keys are cached. An unknown kid refetches the JWKS (the host may have
// rotated its key), at most once per jwksMinRefresh.
type hostAuth struct {
	jwksURL string
	issuer  string
	client  *http.Client
	now     func() time.Time

	mu        sync.RWMutex
	keys      map[string]*ecdsa.PublicKey
	fetchMu   sync.Mutex
	lastFetch time.Time
}

const (
	jwksMinRefresh = 2 * time.Second
	jwksMaxBytes   = 256 << 10
	// clockLeeway tolerates small clock differences on exp.
	clockLeeway = 5 * time.Second
)

func newHostAuth(jwksURL, issuer string, now func() time.Time) *hostAuth {
	return &hostAuth{
		jwksURL: jwksURL,
		issuer:  issuer,
		client:  &http.Client{Timeout: 5 * time.Second},
		now:     now,
		keys:    map[string]*ecdsa.PublicKey{},
	}
}

// authError is why a token was refused; it is safe to show the caller.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

func authErrorf(format string, a ...any) error { return &authError{msg: fmt.Sprintf(format, a...)} }

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

type hostClaims struct {
	Iss string          `json:"iss"`
	Aud json.RawMessage `json:"aud"`
	Exp *float64        `json:"exp"`
	Iat *float64        `json:"iat"`
	Jti string          `json:"jti"`
}

// verify checks the request's bearer token against each acceptable aud.
func (a *hostAuth) verify(ctx context.Context, r *http.Request, auds ...string) (hostClaims, error) {
	var claims hostClaims
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return claims, authErrorf("no Authorization header: the host must send a Bearer JWT")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return claims, authErrorf("Authorization is not a Bearer token")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims, authErrorf("the bearer token is not a JWS compact JWT")
	}
	var hdr jwtHeader
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return claims, authErrorf("JWT header: %v", err)
	}
	if hdr.Alg != "ES384" {
		return claims, authErrorf("JWT alg %q is not accepted (ES384 only)", hdr.Alg)
	}
	if hdr.Kid == "" {
		return claims, authErrorf("JWT header has no kid")
	}
	key, err := a.key(ctx, hdr.Kid)
	if err != nil {
		return claims, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 96 {
		return claims, authErrorf("JWT signature is not a 96-byte ES384 signature")
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	rr, ss := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(key, digest[:], rr, ss) {
		return claims, authErrorf("JWT signature does not verify with key %q", hdr.Kid)
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return claims, authErrorf("JWT claims: %v", err)
	}
	if a.issuer != "" && claims.Iss != a.issuer {
		return claims, authErrorf("JWT iss %q is not the expected issuer %q", claims.Iss, a.issuer)
	}
	tokenAuds, err := audiences(claims.Aud)
	if err != nil {
		return claims, err
	}
	if !slices.ContainsFunc(tokenAuds, func(s string) bool { return slices.Contains(auds, s) }) {
		return claims, authErrorf("JWT aud %q is not this service's endpoint %q", tokenAuds, auds[0])
	}
	if claims.Exp == nil {
		return claims, authErrorf("JWT has no exp")
	}
	exp := time.Unix(int64(*claims.Exp), 0)
	if a.now().After(exp.Add(clockLeeway)) {
		return claims, authErrorf("JWT expired at %s", exp.UTC().Format(time.RFC3339))
	}
	return claims, nil
}

func audiences(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err == nil {
		return many, nil
	}
	return nil, authErrorf("JWT aud is missing or not a string")
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("not a JSON object of the expected shape")
	}
	return nil
}

// key returns the host key named kid, fetching the JWKS when it is not
// cached (and not fetched within jwksMinRefresh).
func (a *hostAuth) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	a.mu.RLock()
	k := a.keys[kid]
	a.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	a.fetchMu.Lock()
	defer a.fetchMu.Unlock()
	a.mu.RLock()
	k, last := a.keys[kid], a.lastFetch
	a.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	if !last.IsZero() && a.now().Sub(last) < jwksMinRefresh {
		return nil, authErrorf("JWT kid %q is not in the host's JWKS", kid)
	}
	keys, err := a.fetch(ctx)
	if err != nil {
		return nil, authErrorf("cannot fetch the host's JWKS to check the token: %v", err)
	}
	a.mu.Lock()
	a.keys, a.lastFetch = keys, a.now()
	a.mu.Unlock()
	if k = keys[kid]; k == nil {
		return nil, authErrorf("JWT kid %q is not in the host's JWKS", kid)
	}
	return k, nil
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func (a *hostAuth) fetch(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS answered %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes))
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("JWKS is not a JSON key set: %v", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-384" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := ecKey(k)
		if err != nil {
			continue
		}
		keys[k.Kid] = pub
	}
	return keys, nil
}

func ecKey(k jwk) (*ecdsa.PublicKey, error) {
	x, err1 := base64.RawURLEncoding.DecodeString(k.X)
	y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
	if err1 != nil || err2 != nil || len(x) > 48 || len(y) > 48 {
		return nil, errors.New("bad coordinates")
	}
	point := make([]byte, 97)
	point[0] = 4
	copy(point[1+48-len(x):49], x)
	copy(point[49+48-len(y):], y)
	return ecdsa.ParseUncompressedPublicKey(elliptic.P384(), point)
}
