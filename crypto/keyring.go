package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
)

// KeySize is the size in bytes of every AEAD key: AES-256.
const KeySize = 32

// DefaultMaxSealsPerKey is the number of messages one key may seal with
// random 96-bit nonces: 2^32, the bound NIST SP 800-38D sets so that the
// chance of a nonce collision, which would let an attacker forge messages
// and learn plaintext XORs, stays below 2^-32.
const DefaultMaxSealsPerKey uint64 = 1 << 32

// KeyRingConfig configures a [KeyRing]. The zero value is a ring that refuses
// to seal past DefaultMaxSealsPerKey under one key.
type KeyRingConfig struct {
	// MaxSealsPerKey caps the messages sealed under one key by this process.
	// Zero means DefaultMaxSealsPerKey; a larger value is refused. Counts
	// live in memory only: they restart at zero when a ring is loaded, so
	// services that seal more than a few hundred million messages per key
	// over their lifetime should also rotate on a schedule.
	MaxSealsPerKey uint64

	// RotateOnExhaustion makes Seal generate and promote a new key when the
	// primary reaches MaxSealsPerKey, instead of returning ErrKeyExhausted.
	// The new key exists only in this process: export the ring (or use
	// Hooks.OnRotate) so that readers elsewhere learn it.
	RotateOnExhaustion bool

	// Rand is the source of keys and nonces. Nil means crypto/rand, which is
	// what production code must use; other readers are for tests.
	Rand io.Reader

	// Hooks observe the ring. Nil fields cost nothing.
	Hooks KeyRingHooks
}

// KeyRingHooks are callbacks for instrumentation. They run synchronously
// and must be safe for concurrent use.
type KeyRingHooks struct {
	// OnRotate runs after a new primary is installed by Rotate, Promote or
	// rotation on exhaustion. old is zero if the ring had no primary.
	OnRotate func(old, new KeyID)
	// OnOpenFailure runs when Open, or a StreamReader using the ring,
	// rejects a ciphertext, with the error returned. I/O errors are not
	// reported.
	OnOpenFailure func(err error)
}

// aeadKey is one key's material; it is shared by every published copy of
// its ring entry so that the seal counter survives status changes.
type aeadKey struct {
	raw   []byte
	aead  cipher.AEAD
	seals atomic.Uint64
}

func newAEADKey(raw []byte) (*aeadKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: AEAD keys are %d bytes, got %d", ErrInvalidKey, KeySize, len(raw))
	}
	k := &aeadKey{raw: append([]byte(nil), raw...)}
	block, err := aes.NewCipher(k.raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return k, nil
}

// KeyRing holds AES-256-GCM keys, each with a [KeyID], exactly one of them
// primary once the ring is in use. [KeyRing.Seal] encrypts with the primary
// and writes its id into the ciphertext; [KeyRing.Open] picks the key by that
// id, so data sealed before a rotation stays readable until its key is
// retired.
//
// Most callers want [KeyRing.Seal] and [KeyRing.Open]; [KeyRing.Rotate]
// (or [KeyRing.Generate] then [KeyRing.Promote] where several processes
// share the ring) changes the primary.
//
// A KeyRing is safe for concurrent use; Seal and Open take no lock, and
// changes (Add, Promote, Retire, Rotate...) are atomic: a concurrent Seal
// uses either the old or the new primary, never a mix. The zero KeyRing is
// an empty ring with the zero KeyRingConfig; a KeyRing must not be copied
// after first use.
type KeyRing struct {
	set keySet[*aeadKey]
	// maxSeals is the configured budget; zero means DefaultMaxSealsPerKey,
	// so that the zero KeyRing is usable.
	maxSeals uint64
	rotate   bool
	rand     io.Reader
	hooks    KeyRingHooks
	ad       adPool
	chunks   chunkPool
}

// NewKeyRing returns an empty key ring. Add keys with [KeyRing.Add] or
// [KeyRing.Rotate] before sealing.
func NewKeyRing(cfg KeyRingConfig) (*KeyRing, error) {
	if cfg.MaxSealsPerKey > DefaultMaxSealsPerKey {
		return nil, fmt.Errorf("%w: MaxSealsPerKey %d exceeds the random-nonce bound %d",
			ErrInvalidConfig, cfg.MaxSealsPerKey, DefaultMaxSealsPerKey)
	}
	r := &KeyRing{
		maxSeals: cfg.MaxSealsPerKey,
		rotate:   cfg.RotateOnExhaustion,
		rand:     cfg.Rand,
		hooks:    cfg.Hooks,
	}
	return r, nil
}

// Add inserts a 32-byte key under id, enabled and not primary. The key is
// copied. It fails with ErrInvalidKey for a zero or duplicate id or a key of
// the wrong size.
func (r *KeyRing) Add(id KeyID, key []byte) error {
	k, err := newAEADKey(key)
	if err != nil {
		return &KeyError{ID: id, Err: err}
	}
	return r.set.add(id, k, StatusEnabled, false)
}

// Generate adds a new random key, enabled and not primary, and returns its
// id. Generating ahead of promotion lets every reader learn the key before
// any writer uses it.
func (r *KeyRing) Generate() (KeyID, error) {
	k, err := r.generateKey()
	if err != nil {
		return 0, err
	}
	return r.set.generate(r.rand, k)
}

// Promote makes an enabled key the primary. The previous primary stays
// enabled for Open.
func (r *KeyRing) Promote(id KeyID) error {
	old, err := r.set.promote(id)
	if err == nil && old != id && r.hooks.OnRotate != nil {
		r.hooks.OnRotate(old, id)
	}
	return err
}

// Retire disables a key: its ciphertexts then fail with ErrKeyRetired. The
// primary cannot be retired (ErrPrimaryKey): promote another key first.
func (r *KeyRing) Retire(id KeyID) error { return r.set.setStatus(id, StatusRetired) }

// Reinstate re-enables a retired key, for example to read old backups.
func (r *KeyRing) Reinstate(id KeyID) error { return r.set.setStatus(id, StatusEnabled) }

// Remove deletes a key; its ciphertexts then fail with ErrUnknownKey. The
// primary cannot be removed.
func (r *KeyRing) Remove(id KeyID) error { return r.set.remove(id) }

// Rotate generates a new key and makes it the primary in one step; the old
// primary stays enabled, so existing ciphertexts still open. On an empty
// ring it creates the first key. Where several processes share a ring,
// prefer Generate, distribute, then Promote.
func (r *KeyRing) Rotate() (KeyID, error) {
	old, id, _, err := r.set.rotate(r.rand, nil, r.generateKey)
	if err != nil {
		return 0, err
	}
	if r.hooks.OnRotate != nil {
		r.hooks.OnRotate(old, id)
	}
	return id, nil
}

func (r *KeyRing) generateKey() (*aeadKey, error) {
	var raw [KeySize]byte
	if err := readRandom(r.rand, raw[:]); err != nil {
		return nil, err
	}
	return newAEADKey(raw[:])
}

// Primary returns the id of the primary key, and false if there is none.
func (r *KeyRing) Primary() (KeyID, bool) {
	p := r.set.load().primary
	if p == nil {
		return 0, false
	}
	return p.id, true
}

// Keys lists the keys in the order they were added, without their material.
func (r *KeyRing) Keys() []KeyInfo {
	return r.set.load().info(func(k *aeadKey) uint64 { return k.seals.Load() })
}

// String describes the ring by key ids and statuses; it never prints key
// material.
func (r *KeyRing) String() string {
	if r == nil {
		return "crypto.KeyRing(nil)"
	}
	return r.set.load().describe("crypto.KeyRing")
}

// Format prints String for every verb, so no formatting of a ring reveals
// key material.
func (r *KeyRing) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// LogValue makes slog print the description, never the keys.
func (r *KeyRing) LogValue() slog.Value { return slog.StringValue(r.String()) }

// exhausted handles a primary key past its budget: rotate once (whichever
// goroutine gets there first) or fail. Under heavy contention with a tiny
// budget the new key can be used up before this goroutine reaches it, so it
// tries a bounded number of times.
func (r *KeyRing) exhausted(e *entry[*aeadKey]) (*entry[*aeadKey], error) {
	if !r.rotate {
		return nil, &KeyError{ID: e.id, Err: ErrKeyExhausted}
	}
	for range maxRotateAttempts {
		old, id, rotated, err := r.set.rotate(r.rand, e, r.generateKey)
		if err != nil {
			return nil, err
		}
		if rotated && r.hooks.OnRotate != nil {
			r.hooks.OnRotate(old, id)
		}
		e = r.set.load().primary
		if e.mat.seals.Add(1) <= r.sealLimit() {
			return e, nil
		}
	}
	return nil, &KeyError{ID: e.id, Err: ErrKeyExhausted}
}

const maxRotateAttempts = 64

func (r *KeyRing) sealLimit() uint64 {
	if r.maxSeals == 0 {
		return DefaultMaxSealsPerKey
	}
	return r.maxSeals
}
