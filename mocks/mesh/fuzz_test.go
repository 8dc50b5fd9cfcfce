package mesh

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseAuthorization: the parser never panics, and anything it accepts
// round-trips to the same header.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("NHSMESH X26HC005:1c820cd4-be3e-43ff-807f-e65362892722:0:202006041718:3cded68a9e0f9b83f2c5de1b79fc4dac45004523e6658d46145156fa6a03eced")
	f.Add(Token("TestKey", "X26ABC1", "password", "n", 3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	f.Add("NHSMESH ::::")
	f.Add("NHSMESH a:b:c:d:e:f")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		back := AuthScheme + " " + strings.Join([]string{a.Mailbox, a.Nonce, a.NonceCount, a.RawTimestamp, a.HMAC}, ":")
		if back != h {
			t.Fatalf("round trip: %q -> %q", h, back)
		}
		if a.Timestamp.Format(TimestampLayout) != a.RawTimestamp {
			t.Fatalf("timestamp %q parsed as %v", a.RawTimestamp, a.Timestamp)
		}
	})
}
