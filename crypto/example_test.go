package crypto_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// A ring with one generated key seals and opens; the associated data binds
// the ciphertext to its context (here, a row id).
func ExampleKeyRing() {
	ring, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	if err != nil {
		panic(err)
	}
	if _, err := ring.Rotate(); err != nil { // first key, made primary
		panic(err)
	}
	ct, err := ring.Seal([]byte("4111 1111 1111 1111"), []byte("card:42"))
	if err != nil {
		panic(err)
	}
	pt, err := ring.Open(ct, []byte("card:42"))
	fmt.Println(string(pt), err)
	_, err = ring.Open(ct, []byte("card:43"))
	fmt.Println(errors.Is(err, bcrypto.ErrDecrypt))
	// Output:
	// 4111 1111 1111 1111 <nil>
	// true
}

// Rotation keeps old ciphertexts readable; retiring their key makes them
// fail with a typed error that names the key. The keys here are fixed so
// that the output is stable; real keys come from Rotate or Generate, or
// from a secret store through ParseKeyRing.
func ExampleKeyRing_Rotate() {
	ring, _ := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	_ = ring.Add(1, bytes.Repeat([]byte{1}, bcrypto.KeySize))
	_ = ring.Promote(1)
	old, _ := ring.Seal([]byte("sealed under key 1"), nil)

	_ = ring.Add(2, bytes.Repeat([]byte{2}, bcrypto.KeySize))
	_ = ring.Promote(2)
	pt, _ := ring.Open(old, nil)
	fmt.Println(string(pt))

	_ = ring.Retire(1)
	_, err := ring.Open(old, nil)
	var ke *bcrypto.KeyError
	fmt.Println(errors.Is(err, bcrypto.ErrKeyRetired), errors.As(err, &ke) && ke.ID == 1)
	fmt.Println(ring)
	// Output:
	// sealed under key 1
	// true true
	// crypto.KeyRing{primary=2 keys=[1:retired 2:enabled]}
}

// SealTo and OpenTo reuse caller buffers: with room, they allocate nothing.
func ExampleKeyRing_SealTo() {
	ring, _ := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	_, _ = ring.Rotate()
	msg := []byte("hot path")
	ctBuf := make([]byte, 0, len(msg)+bcrypto.Overhead)
	ptBuf := make([]byte, 0, len(msg))
	ct, _ := ring.SealTo(ctBuf, msg, nil)
	pt, _ := ring.OpenTo(ptBuf, ct, nil)
	fmt.Println(len(ct)-len(msg), string(pt))
	// Output: 33 hot path
}

// A key ring is loaded from a secret store as JSON.
func ExampleParseKeyRing() {
	secret := `{"type":"aes256-gcm","primary":7,"keys":[
		{"id":7,"status":"enabled","key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]}`
	ring, err := bcrypto.ParseKeyRing([]byte(secret), bcrypto.KeyRingConfig{})
	fmt.Println(ring, err)
	// Output: crypto.KeyRing{primary=7 keys=[7:enabled]} <nil>
}

// Envelope encryption with a local key ring as the key encryption key; a
// cloud KMS client implementing KeyWrapper drops in the same way. The cache
// lets one data key serve up to 1000 messages or 5 minutes per context.
func ExampleEnvelope() {
	kek, _ := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	_, _ = kek.Rotate()
	env, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(kek), bcrypto.EnvelopeConfig{
		CacheMaxUses: 1000,
		CacheMaxAge:  5 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	blob, _ := env.Seal(ctx, []byte("medical record"), []byte("patient=17"))
	pt, err := env.Open(ctx, blob, []byte("patient=17"))
	fmt.Println(string(pt), err)
	_, err = env.Open(ctx, blob, []byte("patient=18"))
	fmt.Println(errors.Is(err, bcrypto.ErrDecrypt))
	// Output:
	// medical record <nil>
	// true
}

// Streams encrypt data of any size in authenticated chunks; the reader
// detects truncation.
func ExampleNewStreamWriter() {
	ring, _ := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	_, _ = ring.Rotate()

	var sealed bytes.Buffer
	w, _ := bcrypto.NewStreamWriter(&sealed, ring, []byte("backup-2026-11-25"), bcrypto.StreamConfig{})
	_, _ = io.Copy(w, strings.NewReader(strings.Repeat("row\n", 100_000)))
	if err := w.Close(); err != nil { // writes the final chunk
		panic(err)
	}

	r, _ := bcrypto.NewStreamReader(bytes.NewReader(sealed.Bytes()), ring, []byte("backup-2026-11-25"), bcrypto.StreamConfig{})
	n, err := io.Copy(io.Discard, r)
	fmt.Println(n, err)

	truncated := sealed.Bytes()[:sealed.Len()-100]
	r, _ = bcrypto.NewStreamReader(bytes.NewReader(truncated), ring, []byte("backup-2026-11-25"), bcrypto.StreamConfig{})
	_, err = io.Copy(io.Discard, r)
	fmt.Println(errors.Is(err, bcrypto.ErrDecrypt))
	// Output:
	// 400000 <nil>
	// true
}

// HMAC tags carry their key id, so verification keeps working across
// rotations.
func ExampleMACKeyRing() {
	macs, _ := bcrypto.NewMACKeyRing(bcrypto.MACKeyRingConfig{})
	_, _ = macs.Rotate()
	tag, _ := macs.Sign([]byte("user=42"))
	_, _ = macs.Rotate()
	fmt.Println(macs.Verify([]byte("user=42"), tag))
	fmt.Println(macs.Verify([]byte("user=43"), tag))
	// Output:
	// <nil>
	// crypto: invalid signature
}

// Ed25519 keys are identified by their RFC 7638 thumbprint. The seed is
// fixed so that the id printed is stable; use GenerateSigningKey.
func ExampleSigningKey() {
	seed := bytes.Repeat([]byte{9}, bcrypto.SeedSize)
	key, _ := bcrypto.NewSigningKey(seed)
	sig := key.Sign([]byte("release v1.2.3"))
	pubPEM, _ := key.Public().MarshalPEM()
	pub, _ := bcrypto.ParseVerifyingKeyPEM(pubPEM)
	fmt.Println(pub.Verify([]byte("release v1.2.3"), sig), pub.KeyID() == key.KeyID())
	fmt.Println(key) // prints the key id, never the key
	// Output:
	// <nil> true
	// crypto.SigningKey{kid=atZR63tNG3W2GhPpVleKnfrw1N7N6LAqOe5grE2SBR4}
}

func ExampleRandomString() {
	code, _ := bcrypto.RandomString(8, bcrypto.AlphabetCrockford)
	token, _ := bcrypto.RandomToken(0)
	fmt.Println(len(code), len(token))
	// Output: 8 43
}

// A ring can rotate by itself when its primary reaches its nonce budget
// (tiny here, to show it; the default is 2^32 messages per key). The hook
// is where a service would persist the new key.
func ExampleKeyRingConfig_rotateOnExhaustion() {
	var rotations int
	ring, _ := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{
		MaxSealsPerKey:     2,
		RotateOnExhaustion: true,
		Hooks:              bcrypto.KeyRingHooks{OnRotate: func(old, new bcrypto.KeyID) { rotations++ }},
	})
	_, _ = ring.Rotate()
	for range 5 {
		if _, err := ring.Seal([]byte("m"), nil); err != nil {
			panic(err)
		}
	}
	fmt.Println(rotations, len(ring.Keys()))
	// Output: 3 3
}
