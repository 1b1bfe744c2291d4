package pagination

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
)

// Signer signs cursors and checks them. SignTo appends the tag of msg to
// dst; Verify returns nil when tag is a tag of msg, and an error otherwise.
// Both must be safe for concurrent use.
//
// A *MACKeyRing of github.com/bedrock-go/bedrock/crypto satisfies Signer
// as it is, without either package importing the other, and brings key
// rotation: its tags name the key that made them, so a cursor signed before
// the ring promoted a new key still verifies until its key is retired or
// removed. [NewSecretSigner] is the simple Signer for a service with one
// secret and no rotation.
//
// A tag must be 16 to 255 bytes long: [New] signs once to check.
type Signer interface {
	SignTo(dst, msg []byte) ([]byte, error)
	Verify(msg, tag []byte) error
}

// Bounds of a [Signer]'s tag. Below 16 bytes a forgery is within reach of
// an attacker who can try cursors at will; the length travels in one byte.
const (
	minTagLen = 16
	maxTagLen = 255
)

// MinSecretLen is the shortest secret [NewSecretSigner] accepts: the size
// of HMAC-SHA256's output, below which the secret, not the hash, bounds
// security.
const MinSecretLen = 32

// SecretSigner is a [Signer] with one secret: HMAC-SHA256, truncated to 16
// bytes (the usual truncation, which leaves forgery at 2^-128 per attempt).
// Changing its secret invalidates every cursor it signed; a service that
// rotates keys uses a key ring such as crypto.MACKeyRing instead. It is
// safe for concurrent use.
type SecretSigner struct {
	pool sync.Pool // of *macState; hmac.New costs more than a Reset
}

// macState is an HMAC and the scratch space for its sum.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// NewSecretSigner returns a Signer keyed with secret, which is copied. It
// fails, wrapping [ErrInvalidConfig], for a secret shorter than
// [MinSecretLen].
func NewSecretSigner(secret []byte) (*SecretSigner, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("%w: the secret is %d bytes, need at least %d", ErrInvalidConfig, len(secret), MinSecretLen)
	}
	key := append([]byte(nil), secret...)
	s := &SecretSigner{}
	s.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return s, nil
}

func (s *SecretSigner) mac(msg []byte) (*macState, []byte) {
	st := s.pool.Get().(*macState)
	st.h.Reset()
	st.h.Write(msg)
	return st, st.h.Sum(st.sum[:0])[:minTagLen]
}

// SignTo appends the 16-byte tag of msg to dst. It never fails.
func (s *SecretSigner) SignTo(dst, msg []byte) ([]byte, error) {
	st, tag := s.mac(msg)
	dst = append(dst, tag...)
	s.pool.Put(st)
	return dst, nil
}

// Verify checks tag against msg in constant time and returns nil or
// [ErrCursorSignature].
func (s *SecretSigner) Verify(msg, tag []byte) error {
	st, want := s.mac(msg)
	ok := hmac.Equal(want, tag)
	s.pool.Put(st)
	if !ok {
		return ErrCursorSignature
	}
	return nil
}
