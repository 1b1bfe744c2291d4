package totp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/auth/totp"
)

func FuzzVerify(f *testing.F) {
	for _, s := range []string{"", "123456", "12345678", "94287082", "1234a6", "٣٣٣٣٣٣", "\x00\x00\x00\x00\x00\x00"} {
		f.Add(s, int64(0))
	}
	key := rfcKey(totp.SHA1)
	at := time.Unix(59, 0)
	a, err := totp.New(totp.Config{Issuer: "x", Now: func() time.Time { return at }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code string, last int64) {
		step, err := a.Verify(key, code, last)
		if err == nil {
			if step <= last || step < 0 || step > 2 {
				t.Fatalf("accepted step %d with last %d", step, last)
			}
			return
		}
		if !errors.Is(err, totp.ErrMalformedCode) && !errors.Is(err, totp.ErrWrongCode) && !errors.Is(err, totp.ErrReplay) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	f.Add("otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&algorithm=SHA256&digits=8&period=60")
	f.Add("otpauth://totp/a?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq====")
	f.Add("otpauth://hotp/a?secret=A")
	f.Add("otpauth://totp/%zz")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := totp.ParseURI(s)
		if err != nil {
			if !errors.Is(err, totp.ErrInvalidURI) && !errors.Is(err, totp.ErrInvalidKey) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("parsed an invalid key: %v", err)
		}
		again, err := totp.ParseURI(k.URI())
		if err != nil {
			t.Fatalf("own URI %q refused: %v", k.URI(), err)
		}
		if again.URI() != k.URI() {
			t.Fatalf("round trip changed %q to %q", k.URI(), again.URI())
		}
	})
}

func FuzzRecoveryMatch(f *testing.F) {
	f.Add("abcd-efgh-jkmn")
	f.Add("OOOO IIII LLLL")
	f.Add("")
	h, err := totp.NewRecoveryHasher(serverKey)
	if err != nil {
		f.Fatal(err)
	}
	_, hashes := h.Generate()
	f.Fuzz(func(t *testing.T, s string) {
		i, err := h.Match(s, hashes)
		if err == nil && (i < 0 || i >= len(hashes)) {
			t.Fatalf("index %d", i)
		}
		if err != nil && !errors.Is(err, totp.ErrMalformedRecoveryCode) && !errors.Is(err, totp.ErrWrongRecoveryCode) {
			t.Fatalf("untyped error %v", err)
		}
		if norm, ok := totp.NormalizeRecoveryCode(s); ok {
			if again, ok := totp.NormalizeRecoveryCode(norm); !ok || again != norm {
				t.Fatalf("normalisation not idempotent: %q -> %q", norm, again)
			}
		}
	})
}
