package crypto_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// Each target seeds the corpus with valid inputs made from fixed keys and a
// seeded random source, and asserts that nothing except those exact inputs
// is ever accepted: any mutation must fail, and must fail without panic.

func FuzzKeyRingOpen(f *testing.F) {
	r := fixedRing(f)
	valid := map[string]string{}
	for _, tc := range []struct{ pt, aad string }{{"", ""}, {"hello", ""}, {"hello", "aad"}, {string(pattern(100)), "tenant=1"}} {
		ct, err := r.Seal([]byte(tc.pt), []byte(tc.aad))
		if err != nil {
			f.Fatal(err)
		}
		valid[string(ct)] = tc.aad
		f.Add(ct, []byte(tc.aad))
	}
	f.Add([]byte{1, 0, 0, 0, 1}, []byte(nil))
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		pt, err := r.Open(ct, aad)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		if want, ok := valid[string(ct)]; !ok || want != string(aad) {
			t.Fatalf("forged ciphertext accepted: %x (aad %q)", ct, aad)
		}
		buf := make([]byte, 0, len(ct))
		if got, err := r.OpenTo(buf, ct, aad); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("OpenTo disagrees with Open: %v", err)
		}
	})
}

func FuzzEnvelopeOpen(f *testing.F) {
	ctx := context.Background()
	e, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(fixedRing(f)), bcrypto.EnvelopeConfig{Rand: seededRand(3)})
	if err != nil {
		f.Fatal(err)
	}
	valid := map[string]string{}
	for _, tc := range []struct{ pt, aad string }{{"", ""}, {"payload", "ctx"}, {string(pattern(300)), ""}} {
		blob, err := e.Seal(ctx, []byte(tc.pt), []byte(tc.aad))
		if err != nil {
			f.Fatal(err)
		}
		valid[string(blob)] = tc.aad
		f.Add(blob, []byte(tc.aad))
	}
	f.Add([]byte{0x45, 0xff, 0xff}, []byte(nil))
	f.Fuzz(func(t *testing.T, blob, aad []byte) {
		pt, err := e.Open(ctx, blob, aad)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		if want, ok := valid[string(blob)]; !ok || want != string(aad) {
			t.Fatalf("forged envelope accepted: %x (aad %q)", blob, aad)
		}
	})
}

func FuzzStreamReader(f *testing.F) {
	r := fixedRing(f)
	var valid [][]byte
	for _, tc := range []struct {
		n   int
		aad string
	}{{0, ""}, {10, "a"}, {16, ""}, {50, "aad"}} {
		var out bytes.Buffer
		w, err := bcrypto.NewStreamWriter(&out, r, []byte(tc.aad), bcrypto.StreamConfig{ChunkSize: bcrypto.MinChunkSize})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := w.Write(pattern(tc.n)); err != nil {
			f.Fatal(err)
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		valid = append(valid, out.Bytes())
		f.Add(out.Bytes(), []byte(tc.aad))
	}
	f.Fuzz(func(t *testing.T, data, aad []byte) {
		sr, err := bcrypto.NewStreamReader(bytes.NewReader(data), r, aad, bcrypto.StreamConfig{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(sr)
		if len(got) == 0 && err != nil {
			return
		}
		// Some plaintext was released: its chunks must be authentic, so the
		// input starts like a stream that was really written.
		const firstChunk = 41 + bcrypto.MinChunkSize + 16
		authentic := false
		for _, v := range valid {
			n := min(len(v), firstChunk)
			authentic = authentic || (len(data) >= n && bytes.Equal(data[:n], v[:n]))
			if err == nil && bytes.Equal(data, v) {
				authentic = true
			}
		}
		if !authentic || !bytes.Equal(got, pattern(len(got))) {
			t.Fatalf("unauthentic plaintext released: %x (err %v)", got, err)
		}
		if err == nil && !func() bool {
			for _, v := range valid {
				if bytes.Equal(data, v) {
					return true
				}
			}
			return false
		}() {
			t.Fatalf("forged stream accepted: %x", data)
		}
	})
}

func FuzzParseKeyRing(f *testing.F) {
	r := fixedRing(f)
	if _, err := r.Generate(); err != nil {
		f.Fatal(err)
	}
	data, err := r.Export()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"type":"aes256-gcm","keys":[]}`))
	f.Add([]byte(`{"type":"aes256-gcm","primary":1,"keys":[{"id":1,"status":"retired","key":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := bcrypto.ParseKeyRing(data, bcrypto.KeyRingConfig{})
		if err != nil {
			return
		}
		out, err := r.Export()
		if err != nil {
			t.Fatal(err)
		}
		again, err := bcrypto.ParseKeyRing(out, bcrypto.KeyRingConfig{})
		if err != nil || again.String() != r.String() {
			t.Fatalf("export does not round-trip: %v", err)
		}
	})
}

func FuzzMACVerify(f *testing.F) {
	m, err := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	if err != nil {
		f.Fatal(err)
	}
	if err := m.Add(1, fixedKey(2)); err != nil {
		f.Fatal(err)
	}
	if err := m.Promote(1); err != nil {
		f.Fatal(err)
	}
	valid := map[string]string{}
	for _, msg := range []string{"", "message", string(pattern(200))} {
		tag, err := m.Sign([]byte(msg))
		if err != nil {
			f.Fatal(err)
		}
		valid[string(tag)+"|"+msg] = msg
		f.Add([]byte(msg), tag)
	}
	f.Fuzz(func(t *testing.T, msg, tag []byte) {
		if m.Verify(msg, tag) == nil {
			if _, ok := valid[string(tag)+"|"+string(msg)]; !ok {
				t.Fatalf("forged tag accepted: %x over %q", tag, msg)
			}
		}
	})
}

func FuzzParsePEM(f *testing.F) {
	k, err := bcrypto.NewSigningKey(fixedKey(4))
	if err != nil {
		f.Fatal(err)
	}
	priv, _ := k.MarshalPEM()
	pub, _ := k.Public().MarshalPEM()
	f.Add(priv)
	f.Add(pub)
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if sk, err := bcrypto.ParseSigningKeyPEM(data); err == nil {
			sig := sk.Sign([]byte("m"))
			if sk.Public().Verify([]byte("m"), sig) != nil {
				t.Fatal("parsed key cannot verify its own signature")
			}
		}
		if vk, err := bcrypto.ParseVerifyingKeyPEM(data); err == nil {
			out, err := vk.MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			again, err := bcrypto.ParseVerifyingKeyPEM(out)
			if err != nil || again.KeyID() != vk.KeyID() {
				t.Fatalf("PEM does not round-trip: %v", err)
			}
		}
	})
}
