package crypto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
)

// Sizes of Ed25519 encodings.
const (
	SeedSize      = ed25519.SeedSize
	PublicKeySize = ed25519.PublicKeySize
	SignatureSize = ed25519.SignatureSize
)

// SigningKey is an Ed25519 private key with its key id. It is safe for
// concurrent use. Formatting it (String, %v, %#v, slog) shows the id only.
type SigningKey struct {
	priv ed25519.PrivateKey
	pub  *VerifyingKey
}

// VerifyingKey is an Ed25519 public key with its key id. It is safe for
// concurrent use.
type VerifyingKey struct {
	pub ed25519.PublicKey
	kid string
}

// GenerateSigningKey returns a new random key. rnd nil means crypto/rand;
// other readers are for tests.
func GenerateSigningKey(rnd io.Reader) (*SigningKey, error) {
	var seed [SeedSize]byte
	defer clear(seed[:])
	if err := readRandom(rnd, seed[:]); err != nil {
		return nil, err
	}
	return NewSigningKey(seed[:])
}

// NewSigningKey returns the key for a 32-byte RFC 8032 seed (the raw
// private key encoding, as returned by [SigningKey.Seed]).
func NewSigningKey(seed []byte) (*SigningKey, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("%w: Ed25519 seed is %d bytes, got %d", ErrInvalidKey, SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub, _ := NewVerifyingKey(priv.Public().(ed25519.PublicKey))
	return &SigningKey{priv: priv, pub: pub}, nil
}

// NewVerifyingKey returns the key for a 32-byte raw public key.
func NewVerifyingKey(raw []byte) (*VerifyingKey, error) {
	if len(raw) != PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 public key is %d bytes, got %d", ErrInvalidKey, PublicKeySize, len(raw))
	}
	pub := ed25519.PublicKey(append([]byte(nil), raw...))
	return &VerifyingKey{pub: pub, kid: thumbprint(pub)}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 key (RFC 8037
// section 2): SHA-256 over the required members in lexicographic order,
// base64url without padding, so the id matches what JOSE libraries compute.
func thumbprint(pub ed25519.PublicKey) string {
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Sign returns the Ed25519 signature of msg.
func (k *SigningKey) Sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// Public returns the verifying key.
func (k *SigningKey) Public() *VerifyingKey { return k.pub }

// KeyID returns the RFC 7638 thumbprint of the public key.
func (k *SigningKey) KeyID() string { return k.pub.kid }

// Seed returns a copy of the 32-byte seed, the raw private key encoding.
// Treat it as a secret.
func (k *SigningKey) Seed() []byte { return append([]byte(nil), k.priv.Seed()...) }

// MarshalPEM encodes the private key as a PKCS #8 "PRIVATE KEY" PEM block.
// Treat it as a secret.
func (k *SigningKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("crypto: encoding PKCS #8: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// String returns a description with the key id only. It and Format have
// value receivers so that printing a SigningKey value is as safe as
// printing a pointer.
func (k SigningKey) String() string { return "crypto.SigningKey{kid=" + k.pub.kid + "}" }

// Format prints String for every verb.
func (k SigningKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue makes slog print the key id only.
func (k SigningKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Verify checks sig over msg; it returns nil or ErrSignature.
func (v *VerifyingKey) Verify(msg, sig []byte) error {
	if len(sig) != SignatureSize || !ed25519.Verify(v.pub, msg, sig) {
		return ErrSignature
	}
	return nil
}

// KeyID returns the RFC 7638 thumbprint of the key.
func (v *VerifyingKey) KeyID() string { return v.kid }

// Bytes returns a copy of the 32-byte raw public key.
func (v *VerifyingKey) Bytes() []byte { return append([]byte(nil), v.pub...) }

// MarshalPEM encodes the key as a PKIX "PUBLIC KEY" PEM block.
func (v *VerifyingKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(v.pub)
	if err != nil {
		return nil, fmt.Errorf("crypto: encoding PKIX: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// String returns a description with the key id.
func (v *VerifyingKey) String() string { return "crypto.VerifyingKey{kid=" + v.kid + "}" }

// ParseSigningKeyPEM decodes a PKCS #8 "PRIVATE KEY" PEM block holding an
// Ed25519 key. Anything else, including trailing data, fails with an error
// wrapping ErrFormat or ErrInvalidKey.
func ParseSigningKeyPEM(data []byte) (*SigningKey, error) {
	der, err := onePEM(data, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS #8: %v", ErrFormat, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: PKCS #8 key is %T, not Ed25519", ErrInvalidKey, key)
	}
	return NewSigningKey(priv.Seed())
}

// ParseVerifyingKeyPEM decodes a PKIX "PUBLIC KEY" PEM block holding an
// Ed25519 key. Anything else fails with an error wrapping ErrFormat or
// ErrInvalidKey.
func ParseVerifyingKeyPEM(data []byte) (*VerifyingKey, error) {
	der, err := onePEM(data, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: PKIX: %v", ErrFormat, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: PKIX key is %T, not Ed25519", ErrInvalidKey, key)
	}
	return NewVerifyingKey(pub)
}

func onePEM(data []byte, typ string) ([]byte, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrFormat)
	}
	if block.Type != typ {
		return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrFormat, block.Type, typ)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: PEM headers are not allowed (encrypted keys are not supported)", ErrFormat)
	}
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return nil, fmt.Errorf("%w: data after the PEM block", ErrFormat)
		}
	}
	return block.Bytes, nil
}
