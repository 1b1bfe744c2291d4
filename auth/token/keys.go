package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Algorithm is a JWS signing algorithm.
type Algorithm string

// Supported algorithms. RS256 is verify-only, for identity providers that
// still sign with RSA; Bedrock never issues it.
const (
	EdDSA Algorithm = "EdDSA"
	ES256 Algorithm = "ES256"
	HS256 Algorithm = "HS256"
	RS256 Algorithm = "RS256"
)

// ErrKey is wrapped by errors about constructing or using a key.
var ErrKey = errors.New("token: invalid key")

// Key is a signing or verification key bound to one algorithm and one key
// id. The algorithm of a token is checked against its key's, never taken
// from the token. Most callers never call its methods: they make keys with
// [GenerateEd25519] or a New function (or [KeyRing.Generate]) and put them
// in a [KeyRing]. A Key is immutable and safe for concurrent use.
type Key struct {
	id  string
	alg Algorithm

	edPriv ed25519.PrivateKey
	edPub  ed25519.PublicKey
	ecPriv *ecdsa.PrivateKey
	ecPub  *ecdsa.PublicKey
	rsaPub *rsa.PublicKey
	secret []byte
	macs   *sync.Pool // of *macState, for HS256
}

type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// ID returns the key id (kid).
func (k *Key) ID() string { return k.id }

// Algorithm returns the algorithm the key is bound to.
func (k *Key) Algorithm() Algorithm { return k.alg }

// CanSign reports whether k holds private (or secret) material.
func (k *Key) CanSign() bool { return k.edPriv != nil || k.ecPriv != nil || k.secret != nil }

// Public returns a verification-only copy of k. For HS256 there is no public
// half: it returns an error.
func (k *Key) Public() (*Key, error) {
	switch k.alg {
	case EdDSA:
		return &Key{id: k.id, alg: EdDSA, edPub: k.edPub}, nil
	case ES256:
		return &Key{id: k.id, alg: ES256, ecPub: k.ecPub}, nil
	case RS256:
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s keys have no public half", ErrKey, k.alg)
}

// checkID enforces the key ids of keys that can sign: printable ASCII
// without '"' and '\\', so that the issuer writes them without escapes and
// any JSON decoder reads back the same bytes.
func checkID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: key id must be 1 to 128 bytes", ErrKey)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("%w: key id has byte %#x", ErrKey, c)
		}
	}
	return nil
}

// checkVerifyID enforces the key ids of verification-only keys, which
// another issuer chose: 1 to 128 bytes of valid UTF-8 without control
// characters. They are never written by the issuer, and header kids are
// unescaped before lookup, so any such string can be matched.
func checkVerifyID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: key id must be 1 to 128 bytes", ErrKey)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: key id is not valid UTF-8", ErrKey)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: key id has control character %U", ErrKey, r)
		}
	}
	return nil
}

// GenerateEd25519 returns a new Ed25519 signing key with id.
func GenerateEd25519(id string) (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return NewEd25519(id, priv)
}

// NewEd25519 returns an EdDSA signing key.
func NewEd25519(id string, priv ed25519.PrivateKey) (*Key, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrKey, len(priv))
	}
	return &Key{id: id, alg: EdDSA, edPriv: priv, edPub: priv.Public().(ed25519.PublicKey)}, nil
}

// NewEd25519Public returns an EdDSA verification key. The id of a
// verification-only key may be any valid UTF-8 of 1 to 128 bytes without
// control characters, since another issuer chose it.
func NewEd25519Public(id string, pub ed25519.PublicKey) (*Key, error) {
	if err := checkVerifyID(id); err != nil {
		return nil, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 public key of %d bytes", ErrKey, len(pub))
	}
	return &Key{id: id, alg: EdDSA, edPub: slices.Clone(pub)}, nil
}

// GenerateES256 returns a new P-256 ECDSA signing key with id.
func GenerateES256(id string) (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return NewES256(id, priv)
}

// NewES256 returns an ES256 signing key; priv must be on P-256.
func NewES256(id string, priv *ecdsa.PrivateKey) (*Key, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: ES256 needs a P-256 key", ErrKey)
	}
	return &Key{id: id, alg: ES256, ecPriv: priv, ecPub: &priv.PublicKey}, nil
}

// NewES256Public returns an ES256 verification key; its id follows the
// rule of [NewEd25519Public].
func NewES256Public(id string, pub *ecdsa.PublicKey) (*Key, error) {
	if err := checkVerifyID(id); err != nil {
		return nil, err
	}
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: ES256 needs a P-256 key", ErrKey)
	}
	return &Key{id: id, alg: ES256, ecPub: pub}, nil
}

// NewRS256Public returns an RS256 verification key; the modulus must have at
// least 2048 bits, and the id follows the rule of [NewEd25519Public].
func NewRS256Public(id string, pub *rsa.PublicKey) (*Key, error) {
	if err := checkVerifyID(id); err != nil {
		return nil, err
	}
	if pub == nil || pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
		return nil, fmt.Errorf("%w: RS256 needs an RSA key of at least 2048 bits", ErrKey)
	}
	return &Key{id: id, alg: RS256, rsaPub: pub}, nil
}

// NewHS256 returns an HS256 key; the secret must have at least 32 bytes
// (RFC 7518 §3.2). HS256 suits a single service that both issues and
// verifies; prefer EdDSA when anyone else verifies.
func NewHS256(id string, secret []byte) (*Key, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("%w: HS256 secret of %d bytes, want at least 32", ErrKey, len(secret))
	}
	s := slices.Clone(secret)
	return &Key{id: id, alg: HS256, secret: s, macs: &sync.Pool{New: func() any {
		return &macState{h: hmac.New(sha256.New, s)}
	}}}, nil
}

// sign returns the signature of signingInput.
func (k *Key) sign(signingInput []byte) ([]byte, error) {
	switch {
	case k.edPriv != nil:
		return ed25519.Sign(k.edPriv, signingInput), nil
	case k.ecPriv != nil:
		digest := sha256.Sum256(signingInput)
		r, s, err := ecdsa.Sign(rand.Reader, k.ecPriv, digest[:])
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	case k.secret != nil:
		m := k.macs.Get().(*macState)
		m.h.Reset()
		m.h.Write(signingInput)
		sig := m.h.Sum(nil)
		k.macs.Put(m)
		return sig, nil
	}
	return nil, fmt.Errorf("%w: %s is verification-only", ErrKey, k.id)
}

// verify reports whether sig is a valid signature of signingInput.
func (k *Key) verify(signingInput, sig []byte) bool {
	switch k.alg {
	case EdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.edPub, signingInput, sig)
	case ES256:
		if len(sig) != 64 {
			return false
		}
		digest := sha256.Sum256(signingInput)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		// ecdsa.Verify refuses r or s of zero or beyond the order.
		return ecdsa.Verify(k.ecPub, digest[:], r, s)
	case RS256:
		digest := sha256.Sum256(signingInput)
		return rsa.VerifyPKCS1v15(k.rsaPub, crypto.SHA256, digest[:], sig) == nil
	case HS256:
		if len(sig) != sha256.Size {
			return false
		}
		m := k.macs.Get().(*macState)
		m.h.Reset()
		m.h.Write(signingInput)
		ok := hmac.Equal(m.h.Sum(m.sum[:0]), sig)
		k.macs.Put(m)
		return ok
	}
	return false
}

// KeySource finds verification keys by key id. [KeyRing] and [RemoteKeySet]
// implement it.
type KeySource interface {
	// Key returns the key with id, or an error wrapping ErrUnknownKey.
	Key(ctx context.Context, id string) (*Key, error)
}

// KeyRing holds the keys of an issuer: one primary key, which signs new
// tokens, and any number of other keys, which only verify, by id. Most
// callers build it once with [NewKeyRing] and hand it to an [Issuer], a
// [Verifier] and [JWKSHandler]; rotation without downtime then speaks the
// module's key-ring vocabulary:
//
//  1. [KeyRing.Generate] (or [KeyRing.Add]) the next key: it verifies and
//     is published by JWKSHandler, but signs nothing yet;
//  2. once verifiers have fetched it (after the JWKS max-age),
//     [KeyRing.Promote] it: new tokens are signed with it, and the old
//     primary keeps verifying the tokens it signed;
//  3. [KeyRing.Remove] the old key after the longest token lifetime.
//
// [KeyRing.Rotate] does steps 1 and 2 at once, for a single process that
// issues and verifies its own tokens. A KeyRing is safe for concurrent use.
type KeyRing struct {
	mu      sync.RWMutex
	keys    map[string]*Key
	order   []*Key // the keys in the order they were added, for Keys
	primary *Key
}

// NewKeyRing returns a ring whose primary key is primary (nil for a
// verify-only ring), also holding others for verification.
func NewKeyRing(primary *Key, others ...*Key) (*KeyRing, error) {
	r := &KeyRing{keys: make(map[string]*Key)}
	for _, k := range append([]*Key{primary}, others...) {
		if k == nil {
			continue
		}
		if err := r.Add(k); err != nil {
			return nil, err
		}
	}
	if primary != nil {
		if err := r.Promote(primary.ID()); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Add adds a key for verification; it signs nothing until promoted. A key
// id may be used once.
func (r *KeyRing) Add(k *Key) error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrKey)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.keys[k.id]; ok {
		return fmt.Errorf("%w: key id %q already in the ring", ErrKey, k.id)
	}
	r.keys[k.id] = k
	r.order = append(r.order, k)
	return nil
}

// Generate adds a new signing key of alg (EdDSA, ES256 or HS256) with a
// random id, not primary, and returns it. Generating ahead of promotion
// lets every verifier learn the key before any token is signed with it.
func (r *KeyRing) Generate(alg Algorithm) (*Key, error) {
	for {
		k, err := generate(alg)
		if err != nil {
			return nil, err
		}
		err = r.Add(k)
		if err == nil {
			return k, nil
		}
		r.mu.RLock()
		_, taken := r.keys[k.id]
		r.mu.RUnlock()
		if !taken { // the id was not the problem
			return nil, err
		}
	}
}

// generate returns a new signing key of alg with a random id.
func generate(alg Algorithm) (*Key, error) {
	var raw [12]byte
	rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	switch alg {
	case EdDSA:
		return GenerateEd25519(id)
	case ES256:
		return GenerateES256(id)
	case HS256:
		secret := make([]byte, 32)
		rand.Read(secret)
		return NewHS256(id, secret)
	}
	return nil, fmt.Errorf("%w: cannot generate %q keys", ErrKey, alg)
}

// Rotate generates a new key of alg and promotes it in one step, and
// returns it; the old primary stays, verifying the tokens it signed. Where
// other services verify the tokens, prefer Generate, wait for them to
// fetch the key, then Promote.
func (r *KeyRing) Rotate(alg Algorithm) (*Key, error) {
	k, err := r.Generate(alg)
	if err != nil {
		return nil, err
	}
	if err := r.Promote(k.id); err != nil {
		return nil, err
	}
	return k, nil
}

// Promote makes the key with id the primary: new tokens are signed with
// it. The previous primary stays in the ring and keeps verifying.
func (r *KeyRing) Promote(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[id]
	if !ok {
		return fmt.Errorf("%w: no key %q", ErrKey, id)
	}
	if !k.CanSign() {
		return fmt.Errorf("%w: key %q cannot sign", ErrKey, id)
	}
	r.primary = k
	return nil
}

// Remove drops the key with id: tokens it signed no longer verify. The
// primary cannot be removed (promote another key first), and an id the
// ring does not hold is an error wrapping ErrKey, as for Promote.
func (r *KeyRing) Remove(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[id]
	if !ok {
		return fmt.Errorf("%w: no key %q", ErrKey, id)
	}
	if r.primary == k {
		return fmt.Errorf("%w: %q is the primary key", ErrKey, id)
	}
	delete(r.keys, id)
	r.order = slices.DeleteFunc(r.order, func(x *Key) bool { return x == k })
	return nil
}

// Primary returns the key that signs new tokens, or nil for a verify-only
// ring.
func (r *KeyRing) Primary() *Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.primary
}

// Key implements [KeySource].
func (r *KeyRing) Key(_ context.Context, id string) (*Key, error) {
	r.mu.RLock()
	k, ok := r.keys[id]
	r.mu.RUnlock()
	if !ok {
		return nil, ErrUnknownKey
	}
	return k, nil
}

// Keys returns every key in the ring in the order they were added, oldest
// first, as crypto's key rings list theirs.
func (r *KeyRing) Keys() []*Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.order)
}
