package pagination

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
)

// MinSecretLen is the shortest HMAC-SHA256 secret a [Key] may have: the
// hash's own output size, below which the key, not the hash, bounds security.
const MinSecretLen = 32

// Key is one HMAC-SHA256 signing key. The ID travels in every cursor it
// signs, so that a cursor names the key to verify it with.
type Key struct {
	ID     uint32 // unique within a ring; small ids keep cursors short
	Secret []byte // at least MinSecretLen random bytes
}

// KeyRing holds the key that signs new cursors and the keys that still verify
// older ones. Rotation is: add the new key as a verify-only key everywhere,
// then make it primary, then drop the old one once its cursors no longer
// matter (see [Config.TTL]). A KeyRing is immutable and safe for concurrent
// use; build a new one to rotate and hand it to [Pager.SetKeyRing].
type KeyRing struct {
	primary *ringKey
	byID    map[uint32]*ringKey
}

type ringKey struct {
	id   uint32
	pool sync.Pool // of *macState; hmac.New costs more than a Reset
}

func (k *ringKey) get() *macState { return k.pool.Get().(*macState) }

func (k *ringKey) put(st *macState) {
	st.h.Reset()
	if cap(st.buf) > 4096 { // do not let one huge cursor pin memory
		st.buf = nil
	}
	k.pool.Put(st)
}

// macState is pooled per key: the HMAC and scratch space, so that signing
// and verifying allocate nothing beyond their result.
type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// NewKeyRing returns a ring that signs with primary and verifies with primary
// and every key in verifyOnly. Secrets are copied. It fails, wrapping
// [ErrInvalidConfig], when a secret is shorter than [MinSecretLen] or an id
// repeats.
func NewKeyRing(primary Key, verifyOnly ...Key) (*KeyRing, error) {
	r := &KeyRing{byID: make(map[uint32]*ringKey, 1+len(verifyOnly))}
	for i, k := range append([]Key{primary}, verifyOnly...) {
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("%w: key %d: secret is %d bytes, need at least %d",
				ErrInvalidConfig, k.ID, len(k.Secret), MinSecretLen)
		}
		if _, dup := r.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: key id %d appears twice", ErrInvalidConfig, k.ID)
		}
		secret := append([]byte(nil), k.Secret...)
		rk := &ringKey{id: k.ID}
		rk.pool.New = func() any {
			return &macState{h: hmac.New(sha256.New, secret), buf: make([]byte, 0, 256)}
		}
		r.byID[k.ID] = rk
		if i == 0 {
			r.primary = rk
		}
	}
	return r, nil
}

// PrimaryID returns the id of the key that signs new cursors.
func (r *KeyRing) PrimaryID() uint32 { return r.primary.id }
