package cdshooks

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// TokenLifetime is how long a host bearer token is valid (exp = iat + 5m, as
// the CDS Hooks spec recommends).
const TokenLifetime = 5 * time.Minute

// MaxIssuedAtSkew is how far in the future a token's iat may be before
// VerifyToken refuses it.
const MaxIssuedAtSkew = time.Minute

const (
	algES384    = "ES384"
	p384KeySize = 48 // bytes per coordinate and per signature half
)

var b64 = base64.RawURLEncoding

// Signer holds the host's ES384 (P-384) signing key and its key id.
type Signer struct {
	key *ecdsa.PrivateKey
	kid string
}

// NewSigner makes a fresh P-384 key. The kid is the key's RFC 7638 JWK
// thumbprint.
func NewSigner() (*Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cdshooks: generate P-384 key: %w", err)
	}
	s := &Signer{key: key}
	x, y, err := coordinates(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	// RFC 7638: required members in lexicographic order, no whitespace.
	thumb := sha256.Sum256(fmt.Appendf(nil, `{"crv":"P-384","kty":"EC","x":"%s","y":"%s"}`, x, y))
	s.kid = b64.EncodeToString(thumb[:])
	return s, nil
}

// KeyID returns the kid put in every token header and in the JWKS.
func (s *Signer) KeyID() string { return s.kid }

// coordinates returns the base64url x and y of a P-384 public key.
func coordinates(pub *ecdsa.PublicKey) (x, y string, err error) {
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return "", "", fmt.Errorf("cdshooks: encode public key: %w", err)
	}
	if len(raw) != 1+2*p384KeySize {
		return "", "", fmt.Errorf("cdshooks: public key is %d bytes, not a P-384 point", len(raw))
	}
	return b64.EncodeToString(raw[1 : 1+p384KeySize]), b64.EncodeToString(raw[1+p384KeySize:]), nil
}

// JWK is one key of a JSON Web Key Set, as this package writes and reads it.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// JWKS returns the public key set the host publishes at its jku:
// {"keys":[{kty:EC,crv:P-384,x,y,kid,alg:ES384,use:sig}]}.
func (s *Signer) JWKS() []byte {
	x, y, err := coordinates(&s.key.PublicKey)
	if err != nil { // cannot happen for a key made by NewSigner
		return []byte(`{"keys":[]}`)
	}
	b, _ := json.Marshal(struct {
		Keys []JWK `json:"keys"`
	}{Keys: []JWK{{Kty: "EC", Crv: "P-384", X: x, Y: y, Kid: s.kid, Alg: algES384, Use: "sig"}}})
	return b
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
	Jku string `json:"jku,omitempty"`
}

// audience accepts a JWT aud that is a string or an array of strings.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

type jwtClaims struct {
	Iss    string   `json:"iss"`
	Aud    audience `json:"aud"`
	Exp    int64    `json:"exp"`
	Iat    int64    `json:"iat"`
	Jti    string   `json:"jti"`
	Tenant string   `json:"tenant,omitempty"`
}

// Claims is what VerifyToken learned from a valid token.
type Claims struct {
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	ID        string // jti
	Tenant    string
	KeyID     string // header kid
	JKU       string // header jku
}

// Token signs a CDS Hooks bearer JWT: header {alg ES384, typ JWT, kid, jku}
// (jku omitted when empty); claims iss, aud (the service endpoint URL), iat
// now, exp now+5m, and a unique jti.
func (s *Signer) Token(iss, aud, jku string, now time.Time) (string, error) {
	if iss == "" || aud == "" {
		return "", errors.New("cdshooks: token needs an issuer and an audience")
	}
	h, err := json.Marshal(jwtHeader{Alg: algES384, Typ: "JWT", Kid: s.kid, Jku: jku})
	if err != nil {
		return "", err
	}
	jti, err := newUUID()
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(jwtClaims{Iss: iss, Aud: audience{aud}, Iat: now.Unix(), Exp: now.Add(TokenLifetime).Unix(), Jti: jti})
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	digest := sha512.Sum384([]byte(signing))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("cdshooks: sign token: %w", err)
	}
	sig := make([]byte, 2*p384KeySize)
	r.FillBytes(sig[:p384KeySize])
	sv.FillBytes(sig[p384KeySize:])
	return signing + "." + b64.EncodeToString(sig), nil
}

// VerifyToken checks a CDS Hooks bearer JWT against a JWKS the way a careful
// CDS service should: alg must be ES384 (never none or HMAC), the kid must
// name a P-384 key in jwks, the signature must verify, aud must contain
// wantAud, exp must be after now, iat must not be more than MaxIssuedAtSkew
// in the future, and iss and jti must be present.
func VerifyToken(token string, jwks []byte, wantAud string, now time.Time) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, fmt.Errorf("token has %d parts, want 3", len(parts))
	}
	var h jwtHeader
	if err := decodeSegment(parts[0], &h); err != nil {
		return Claims{}, fmt.Errorf("token header: %w", err)
	}
	if h.Alg != algES384 {
		return Claims{}, fmt.Errorf("token alg is %q, want %s", h.Alg, algES384)
	}
	if h.Typ != "" && h.Typ != "JWT" {
		return Claims{}, fmt.Errorf("token typ is %q, want JWT", h.Typ)
	}
	if h.Kid == "" {
		return Claims{}, errors.New("token header has no kid")
	}
	pub, err := findKey(jwks, h.Kid)
	if err != nil {
		return Claims{}, err
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 2*p384KeySize {
		return Claims{}, errors.New("token signature is not a 96-byte ES384 signature")
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r := new(big.Int).SetBytes(sig[:p384KeySize])
	s := new(big.Int).SetBytes(sig[p384KeySize:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return Claims{}, errors.New("token signature does not verify")
	}
	var c jwtClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return Claims{}, fmt.Errorf("token claims: %w", err)
	}
	out := Claims{
		Issuer: c.Iss, Audience: c.Aud, IssuedAt: time.Unix(c.Iat, 0), ExpiresAt: time.Unix(c.Exp, 0),
		ID: c.Jti, Tenant: c.Tenant, KeyID: h.Kid, JKU: h.Jku,
	}
	switch {
	case c.Iss == "":
		return out, errors.New("token has no iss")
	case c.Jti == "":
		return out, errors.New("token has no jti")
	case c.Exp == 0:
		return out, errors.New("token has no exp")
	case !containsAud(c.Aud, wantAud):
		return out, fmt.Errorf("token aud %q does not include %q", []string(c.Aud), wantAud)
	case !now.Before(out.ExpiresAt):
		return out, fmt.Errorf("token expired at %s (now %s)", out.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case out.IssuedAt.After(now.Add(MaxIssuedAtSkew)):
		return out, fmt.Errorf("token issued in the future (iat %s, now %s)", out.IssuedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return out, nil
}

func containsAud(aud audience, want string) bool {
	for _, a := range aud {
		if a == want {
			return true
		}
	}
	return false
}

func decodeSegment(seg string, v any) error {
	b, err := b64.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("not base64url: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return nil
}

// findKey returns the P-384 public key with kid from a JWKS.
func findKey(jwks []byte, kid string) (*ecdsa.PublicKey, error) {
	var set struct {
		Keys []JWK `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	for _, k := range set.Keys {
		if k.Kid != kid {
			continue
		}
		if k.Kty != "EC" || k.Crv != "P-384" {
			return nil, fmt.Errorf("jwks key %q is %s/%s, not EC/P-384", kid, k.Kty, k.Crv)
		}
		if k.Alg != "" && k.Alg != algES384 {
			return nil, fmt.Errorf("jwks key %q is for %s, not %s", kid, k.Alg, algES384)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, fmt.Errorf("jwks key %q has use %q, not sig", kid, k.Use)
		}
		x, errX := b64.DecodeString(k.X)
		y, errY := b64.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != p384KeySize || len(y) != p384KeySize {
			return nil, fmt.Errorf("jwks key %q has malformed x/y", kid)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("jwks key %q: %w", kid, err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("jwks has no key with kid %q", kid)
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cdshooks: random uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
