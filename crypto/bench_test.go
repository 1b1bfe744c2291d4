package crypto_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

var benchSizes = []int{64, 1 << 10, 64 << 10}

func BenchmarkKeyRing_SealTo(b *testing.B) {
	r := newRing(b, bcrypto.KeyRingConfig{})
	aad := []byte("tenant=42")
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			pt := make([]byte, size)
			buf := make([]byte, 0, size+bcrypto.Overhead)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.SealTo(buf[:0], pt, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeyRing_OpenTo(b *testing.B) {
	r := newRing(b, bcrypto.KeyRingConfig{})
	aad := []byte("tenant=42")
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			ct, err := r.Seal(make([]byte, size), aad)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.OpenTo(buf[:0], ct, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeyRing_Seal(b *testing.B) {
	r := newRing(b, bcrypto.KeyRingConfig{})
	pt := make([]byte, 1<<10)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Seal(pt, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyRing_SealParallel(b *testing.B) {
	r := newRing(b, bcrypto.KeyRingConfig{})
	pt := make([]byte, 1<<10)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, len(pt)+bcrypto.Overhead)
		for pb.Next() {
			if _, err := r.SealTo(buf[:0], pt, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkStream_Write1MiB(b *testing.B) {
	r := newRing(b, bcrypto.KeyRingConfig{})
	pt := make([]byte, 1<<20)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := bcrypto.NewStreamWriter(io.Discard, r, nil, bcrypto.StreamConfig{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(pt); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStream_Read1MiB(b *testing.B) {
	r := newRing(b, bcrypto.KeyRingConfig{})
	var sealed bytes.Buffer
	w, err := bcrypto.NewStreamWriter(&sealed, r, nil, bcrypto.StreamConfig{})
	if err != nil {
		b.Fatal(err)
	}
	_, _ = w.Write(make([]byte, 1<<20))
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	src := bytes.NewReader(nil)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(sealed.Bytes())
		sr, err := bcrypto.NewStreamReader(src, r, nil, bcrypto.StreamConfig{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sr.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnvelope_Seal1KiB(b *testing.B) {
	ctx := context.Background()
	for name, cfg := range map[string]bcrypto.EnvelopeConfig{
		"nocache": {},
		"cached":  {CacheMaxUses: 1 << 20},
	} {
		b.Run(name, func(b *testing.B) {
			e, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(newRing(b, bcrypto.KeyRingConfig{})), cfg)
			if err != nil {
				b.Fatal(err)
			}
			pt := make([]byte, 1<<10)
			b.SetBytes(int64(len(pt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Seal(ctx, pt, []byte("tenant=1")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMACKeyRing(b *testing.B) {
	m := newMACRing(b)
	msg := make([]byte, 256)
	tag, err := m.Sign(msg)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, bcrypto.MACSize)
	b.Run("SignTo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = m.SignTo(buf[:0], msg)
		}
	})
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Verify(msg, tag); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSigningKey(b *testing.B) {
	k, err := bcrypto.GenerateSigningKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 256)
	sig := k.Sign(msg)
	b.Run("Sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Sign(msg)
		}
	})
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := k.Public().Verify(msg, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRandomToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bcrypto.RandomToken(0); err != nil {
			b.Fatal(err)
		}
	}
}
