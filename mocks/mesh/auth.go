package mesh

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AuthScheme is the custom authentication scheme, followed by one space.
const AuthScheme = "NHSMESH"

// TimestampLayout is the token timestamp format, yyyyMMddHHmm in UTC.
const TimestampLayout = "200601021504"

// MaxClockSkew is how far a token's timestamp may be from the mock's clock.
const MaxClockSkew = 2 * time.Hour

// Auth is a parsed NHSMESH Authorization header:
// "NHSMESH {mailbox}:{nonce}:{nonce_count}:{timestamp}:{hmac}".
type Auth struct {
	Mailbox    string
	Nonce      string
	NonceCount string
	Timestamp  time.Time
	// RawTimestamp is the timestamp exactly as sent (yyyyMMddHHmm).
	RawTimestamp string
	// HMAC is the lowercase hex HMAC-SHA256 as sent.
	HMAC string
}

// ErrMalformedAuth is wrapped by every ParseAuthorization error.
var ErrMalformedAuth = errors.New("mesh: malformed NHSMESH authorization header")

// ParseAuthorization parses an NHSMESH Authorization header. It checks the
// shape only (scheme, five colon-separated parts, a digit nonce count, a
// yyyyMMddHHmm timestamp, a 64-digit hex HMAC); Verify checks the HMAC.
func ParseAuthorization(header string) (Auth, error) {
	rest, ok := strings.CutPrefix(header, AuthScheme+" ")
	if !ok {
		return Auth{}, fmt.Errorf("%w: scheme must be %q", ErrMalformedAuth, AuthScheme+" ")
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 5 {
		return Auth{}, fmt.Errorf("%w: want 5 colon-separated parts, got %d", ErrMalformedAuth, len(parts))
	}
	a := Auth{Mailbox: parts[0], Nonce: parts[1], NonceCount: parts[2], RawTimestamp: parts[3], HMAC: parts[4]}
	if a.Mailbox == "" || len(a.Mailbox) > 100 {
		return Auth{}, fmt.Errorf("%w: mailbox id must be 1..100 characters", ErrMalformedAuth)
	}
	if a.Nonce == "" || len(a.Nonce) > 100 {
		return Auth{}, fmt.Errorf("%w: nonce must be 1..100 characters", ErrMalformedAuth)
	}
	if a.NonceCount == "" || len(a.NonceCount) > 10 || strings.Trim(a.NonceCount, "0123456789") != "" {
		return Auth{}, fmt.Errorf("%w: nonce count must be digits", ErrMalformedAuth)
	}
	if len(a.RawTimestamp) != len(TimestampLayout) || strings.Trim(a.RawTimestamp, "0123456789") != "" {
		return Auth{}, fmt.Errorf("%w: timestamp must be yyyyMMddHHmm", ErrMalformedAuth)
	}
	ts, err := time.Parse(TimestampLayout, a.RawTimestamp)
	if err != nil {
		return Auth{}, fmt.Errorf("%w: timestamp: %v", ErrMalformedAuth, err)
	}
	a.Timestamp = ts.UTC()
	if len(a.HMAC) != sha256.Size*2 {
		return Auth{}, fmt.Errorf("%w: hmac must be %d hex digits", ErrMalformedAuth, sha256.Size*2)
	}
	if _, err := hex.DecodeString(a.HMAC); err != nil {
		return Auth{}, fmt.Errorf("%w: hmac is not hex", ErrMalformedAuth)
	}
	return a, nil
}

// Sign returns the lowercase hex HMAC-SHA256, keyed with sharedKey, of
// "mailbox:nonce:nonce_count:password:timestamp".
func Sign(sharedKey, mailbox, nonce, nonceCount, password, timestamp string) string {
	h := hmac.New(sha256.New, []byte(sharedKey))
	h.Write([]byte(mailbox + ":" + nonce + ":" + nonceCount + ":" + password + ":" + timestamp))
	return hex.EncodeToString(h.Sum(nil))
}

// Token builds a complete Authorization header value the way NHS clients
// do, for tests and workloads that talk to the mock.
func Token(sharedKey, mailbox, password, nonce string, nonceCount int, at time.Time) string {
	ts := at.UTC().Format(TimestampLayout)
	nc := fmt.Sprint(nonceCount)
	return AuthScheme + " " + mailbox + ":" + nonce + ":" + nc + ":" + ts + ":" + Sign(sharedKey, mailbox, nonce, nc, password, ts)
}

// Verify reports whether a's HMAC was made with sharedKey and password.
func (a Auth) Verify(sharedKey, password string) bool {
	want := Sign(sharedKey, a.Mailbox, a.Nonce, a.NonceCount, password, a.RawTimestamp)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(a.HMAC)))
}

// Reasons a request is refused with 403, as the MESH sandbox words them.
const (
	authErrRead     = "Error reading from Authorization header"
	authErrMismatch = "Mailbox id does not match token"
	authErrInvalid  = "Invalid Authentication Token"
	authErrNoMbx    = "No mailbox matched"
)

// authenticate checks the request's token against the path mailbox and
// returns the 403 detail when it is refused.
func (m *Mock) authenticate(header, pathMailbox string) (string, bool) {
	a, err := ParseAuthorization(header)
	if err != nil {
		return authErrRead, false
	}
	if a.Mailbox != pathMailbox {
		return authErrMismatch, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mb, ok := m.mailboxes[a.Mailbox]
	if !ok {
		return authErrNoMbx, false
	}
	if !a.Verify(m.sharedKey, mb.Password) {
		return authErrInvalid, false
	}
	now := m.now().UTC()
	if d := now.Sub(a.Timestamp); d > MaxClockSkew || d < -MaxClockSkew {
		return authErrInvalid, false
	}
	key := a.Mailbox + ":" + a.Nonce + ":" + a.NonceCount
	if _, used := m.nonces[key]; used {
		return authErrInvalid, false
	}
	m.nonces[key] = a.Timestamp
	// Forget tokens that the skew check would refuse anyway.
	if len(m.nonces) > 4096 {
		for k, t := range m.nonces {
			if now.Sub(t) > 2*MaxClockSkew {
				delete(m.nonces, k)
			}
		}
	}
	return "", true
}
