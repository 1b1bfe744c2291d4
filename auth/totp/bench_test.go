package totp_test

import (
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/auth/totp"
)

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []totp.Algorithm{totp.SHA1, totp.SHA256, totp.SHA512} {
		b.Run(alg.String(), func(b *testing.B) {
			key := rfcKey(alg)
			at := time.Unix(now, 0)
			a, err := totp.New(totp.Config{Issuer: "x", Now: func() time.Time { return at }})
			if err != nil {
				b.Fatal(err)
			}
			code, err := totp.Code(key, at)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(key, code, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRecoveryMatch(b *testing.B) {
	h := newHasher(b)
	codes, hashes := h.Generate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Match(codes[9], hashes); err != nil {
			b.Fatal(err)
		}
	}
}
