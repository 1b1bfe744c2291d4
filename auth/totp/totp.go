package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/auth"
)

// Bounds on keys, whether generated, parsed from a URI or loaded by the
// caller.
const (
	// MinSecretLen is the shortest secret accepted, in bytes: 160 bits,
	// the length RFC 4226 §4 recommends and authenticator apps expect.
	MinSecretLen = 20
	// MaxSecretLen is the longest secret accepted, in bytes; it bounds the
	// work done for an untrusted URI.
	MaxSecretLen = 128
	// MaxPeriod is the longest time step accepted.
	MaxPeriod = 5 * time.Minute
	// MaxSkew is the largest Config.Skew accepted.
	MaxSkew = 5
	// maxLabel bounds the issuer and the account name.
	maxLabel = 256
)

var (
	// ErrInvalidConfig is returned by New for a Config it cannot use.
	ErrInvalidConfig = errors.New("totp: invalid config")
	// ErrInvalidKey means a Key's parameters are out of bounds (secret
	// length, digits, period or algorithm).
	ErrInvalidKey = errors.New("totp: invalid key")
	// ErrMalformedCode means the code presented does not have the key's
	// number of decimal digits. It wraps auth.ErrInvalidCredential.
	ErrMalformedCode = fmt.Errorf("totp: malformed code: %w", auth.ErrInvalidCredential)
	// ErrWrongCode means the code matches no step in the window. It wraps
	// auth.ErrInvalidCredential.
	ErrWrongCode = fmt.Errorf("totp: wrong code: %w", auth.ErrInvalidCredential)
	// ErrReplay means the code is right but its step is not later than the
	// last step used: a code is usable once. It wraps
	// auth.ErrInvalidCredential.
	ErrReplay = fmt.Errorf("totp: code already used: %w", auth.ErrInvalidCredential)
)

// Algorithm is the HMAC hash of a key. The zero value is SHA1.
type Algorithm uint8

// The algorithms of RFC 6238. SHA1 is what every authenticator app
// supports; SHA256 and SHA512 are for apps known to support them.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the name used in otpauth URIs: "SHA1", "SHA256" or
// "SHA512".
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return sha1.New
}

func (a Algorithm) valid() bool { return a <= SHA512 }

// secretLen is the generated secret length: the hash's output size, as
// RFC 6238 Appendix B does.
func (a Algorithm) secretLen() int {
	switch a {
	case SHA256:
		return 32
	case SHA512:
		return 64
	}
	return 20
}

// GenerateSecret returns a random secret for alg from crypto/rand: 20
// bytes for SHA1, 32 for SHA256 and 64 for SHA512, never less than
// MinSecretLen. It fails only for an unknown algorithm.
func GenerateSecret(alg Algorithm) ([]byte, error) {
	if !alg.valid() {
		return nil, fmt.Errorf("%w: unknown algorithm %v", ErrInvalidKey, alg)
	}
	b := make([]byte, alg.secretLen())
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b, nil
}

// Key is a user's TOTP secret with the parameters the authenticator app
// was given. Store Secret encrypted (see the package doc) and the rest as
// it is; Key.URI is what the app scans at enrollment.
type Key struct {
	// Issuer names the service in the app; it may not contain ':'.
	Issuer string
	// Account names the user in the app, such as an email address.
	Account string
	// Secret is the shared HMAC key, MinSecretLen to MaxSecretLen bytes.
	Secret []byte
	// Algorithm is the HMAC hash; the zero value is SHA1.
	Algorithm Algorithm
	// Digits is 6 or 8.
	Digits int
	// Period is the time step, whole seconds from 1 s to MaxPeriod.
	Period time.Duration
}

// Validate reports whether k can make codes, as an error wrapping
// ErrInvalidKey.
func (k *Key) Validate() error {
	switch {
	case k == nil:
		return fmt.Errorf("%w: nil key", ErrInvalidKey)
	case len(k.Secret) < MinSecretLen || len(k.Secret) > MaxSecretLen:
		return fmt.Errorf("%w: secret of %d bytes, want %d to %d", ErrInvalidKey, len(k.Secret), MinSecretLen, MaxSecretLen)
	case !k.Algorithm.valid():
		return fmt.Errorf("%w: unknown algorithm %v", ErrInvalidKey, k.Algorithm)
	case k.Digits != 6 && k.Digits != 8:
		return fmt.Errorf("%w: %d digits, want 6 or 8", ErrInvalidKey, k.Digits)
	case !validPeriod(k.Period):
		return fmt.Errorf("%w: period %v, want whole seconds from 1s to %v", ErrInvalidKey, k.Period, MaxPeriod)
	case strings.Contains(k.Issuer, ":") || len(k.Issuer) > maxLabel || len(k.Account) > maxLabel:
		return fmt.Errorf("%w: issuer has ':' or a label is longer than %d bytes", ErrInvalidKey, maxLabel)
	}
	return nil
}

func validPeriod(p time.Duration) bool {
	return p >= time.Second && p <= MaxPeriod && p%time.Second == 0
}

// Step returns the time step t falls in: floor(unix seconds / period).
func (k *Key) Step(t time.Time) int64 {
	s := t.Unix()
	p := int64(k.Period / time.Second)
	if p <= 0 {
		return 0
	}
	q := s / p
	if s < 0 && s%p != 0 {
		q--
	}
	return q
}

// Code returns the code of key at time t (RFC 6238), zero-padded to
// key.Digits. The error wraps ErrInvalidKey.
func Code(key *Key, t time.Time) (string, error) {
	if err := key.Validate(); err != nil {
		return "", err
	}
	var buf [8]byte
	return string(key.codeAt(hmac.New(key.Algorithm.hash(), key.Secret), &buf, key.Step(t))), nil
}

var pow10 = [...]uint32{6: 1_000_000, 8: 100_000_000}

// codeAt writes the code of step into buf (RFC 4226 §5.3: HMAC of the
// big-endian counter, dynamic truncation, modulo 10^digits). mac is an
// HMAC keyed with k.Secret, reset here so that Verify reuses one.
func (k *Key) codeAt(mac hash.Hash, buf *[8]byte, step int64) []byte {
	mac.Reset()
	var ctr [8]byte
	binary.BigEndian.PutUint64(ctr[:], uint64(step))
	mac.Write(ctr[:])
	var sum [sha512.Size]byte
	h := mac.Sum(sum[:0])
	off := h[len(h)-1] & 0x0f
	v := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	v %= pow10[k.Digits]
	out := buf[:k.Digits]
	for i := k.Digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return out
}
