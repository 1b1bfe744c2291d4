package benchmarks

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"io"
	"testing"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// The anchors: the plain standard library (AES-256-GCM with a random nonce
// per message, as every hand-rolled helper does it) and Tink's keyset AEAD
// and streaming AEAD, the library Bedrock's key ring competes with.

var cryptoAAD = []byte("tenant=42")

func cryptoRing(b *testing.B) *bcrypto.KeyRing {
	b.Helper()
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Rotate(); err != nil {
		b.Fatal(err)
	}
	return r
}

func stdlibGCM(b *testing.B) cipher.AEAD {
	b.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func tinkAEAD(b *testing.B) tink.AEAD {
	b.Helper()
	kh, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		b.Fatal(err)
	}
	a, err := aead.New(kh)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func BenchmarkAEADSeal1K(b *testing.B) {
	pt := make([]byte, 1<<10)
	b.Run("bedrock", func(b *testing.B) {
		r := cryptoRing(b)
		buf := make([]byte, 0, len(pt)+bcrypto.Overhead)
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.SealTo(buf[:0], pt, cryptoAAD); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		a := stdlibGCM(b)
		buf := make([]byte, a.NonceSize(), a.NonceSize()+len(pt)+a.Overhead())
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rand.Read(buf[:a.NonceSize()])
			a.Seal(buf[:a.NonceSize()], buf[:a.NonceSize()], pt, cryptoAAD)
		}
	})
	b.Run("tink", func(b *testing.B) {
		a := tinkAEAD(b)
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Encrypt(pt, cryptoAAD); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAEADOpen1K(b *testing.B) {
	pt := make([]byte, 1<<10)
	b.Run("bedrock", func(b *testing.B) {
		r := cryptoRing(b)
		ct, err := r.Seal(pt, cryptoAAD)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, len(pt))
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.OpenTo(buf[:0], ct, cryptoAAD); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		a := stdlibGCM(b)
		ns := a.NonceSize()
		ct := make([]byte, ns)
		_, _ = rand.Read(ct)
		ct = a.Seal(ct, ct, pt, cryptoAAD)
		buf := make([]byte, 0, len(pt))
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Open(buf[:0], ct[:ns], ct[ns:], cryptoAAD); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tink", func(b *testing.B) {
		a := tinkAEAD(b)
		ct, err := a.Encrypt(pt, cryptoAAD)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Decrypt(ct, cryptoAAD); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStream1M encrypts 1 MiB to io.Discard. The raw-GCM anchor seals
// the whole MiB in one call, the ceiling any chunked format is measured
// against; Tink uses its 1 MB-segment AES-GCM-HKDF streaming AEAD.
func BenchmarkStream1M(b *testing.B) {
	pt := make([]byte, 1<<20)
	b.Run("bedrock", func(b *testing.B) {
		r := cryptoRing(b)
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			w, err := bcrypto.NewStreamWriter(io.Discard, r, cryptoAAD, bcrypto.StreamConfig{})
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
	})
	b.Run("stdlib", func(b *testing.B) {
		a := stdlibGCM(b)
		ns := a.NonceSize()
		buf := make([]byte, ns, ns+len(pt)+a.Overhead())
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rand.Read(buf[:ns])
			ct := a.Seal(buf[:ns], buf[:ns], pt, cryptoAAD)
			_, _ = io.Discard.Write(ct)
		}
	})
	b.Run("tink", func(b *testing.B) {
		kh, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
		if err != nil {
			b.Fatal(err)
		}
		s, err := streamingaead.New(kh)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			w, err := s.NewEncryptingWriter(io.Discard, cryptoAAD)
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
	})
}

// BenchmarkStreamOpen1M decrypts 1 MiB read from a bytes.Reader into
// io.Discard.
func BenchmarkStreamOpen1M(b *testing.B) {
	pt := make([]byte, 1<<20)
	b.Run("bedrock", func(b *testing.B) {
		r := cryptoRing(b)
		var sealed bytes.Buffer
		w, _ := bcrypto.NewStreamWriter(&sealed, r, cryptoAAD, bcrypto.StreamConfig{})
		_, _ = w.Write(pt)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		src := bytes.NewReader(nil)
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			src.Reset(sealed.Bytes())
			sr, err := bcrypto.NewStreamReader(src, r, cryptoAAD, bcrypto.StreamConfig{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, sr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		a := stdlibGCM(b)
		ns := a.NonceSize()
		ct := make([]byte, ns)
		_, _ = rand.Read(ct)
		ct = a.Seal(ct, ct, pt, cryptoAAD)
		// Like the stream readers, the anchor gets its ciphertext from an
		// io.Reader, then opens it in place.
		buf := make([]byte, len(ct))
		src := bytes.NewReader(nil)
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			src.Reset(ct)
			if _, err := io.ReadFull(src, buf); err != nil {
				b.Fatal(err)
			}
			out, err := a.Open(buf[ns:ns], buf[:ns], buf[ns:], cryptoAAD)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Discard.Write(out)
		}
	})
	b.Run("tink", func(b *testing.B) {
		kh, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
		if err != nil {
			b.Fatal(err)
		}
		s, err := streamingaead.New(kh)
		if err != nil {
			b.Fatal(err)
		}
		var sealed bytes.Buffer
		w, _ := s.NewEncryptingWriter(&sealed, cryptoAAD)
		_, _ = w.Write(pt)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		src := bytes.NewReader(nil)
		b.SetBytes(int64(len(pt)))
		b.ReportAllocs()
		for b.Loop() {
			src.Reset(sealed.Bytes())
			r, err := s.NewDecryptingReader(src, cryptoAAD)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
