package crypto

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// KeyWrapper encrypts (wraps) and decrypts (unwraps) data keys under a key
// encryption key that never leaves it: a cloud KMS, an HSM, or a local
// [KeyRing] through [NewLocalWrapper]. aad is the caller's context; an
// implementation must bind it so that Unwrap with a different aad fails.
// Implementations must be safe for concurrent use and honour ctx.
type KeyWrapper interface {
	Wrap(ctx context.Context, dek, aad []byte) (wrapped []byte, err error)
	Unwrap(ctx context.Context, wrapped, aad []byte) (dek []byte, err error)
}

// LocalWrapper is a [KeyWrapper] backed by a [KeyRing]: the key encryption
// keys rotate with the ring, and data keys wrapped under an old key unwrap
// until it is retired.
type LocalWrapper struct{ ring *KeyRing }

// NewLocalWrapper returns a KeyWrapper that seals data keys with ring,
// which must not be nil.
func NewLocalWrapper(ring *KeyRing) *LocalWrapper { return &LocalWrapper{ring: ring} }

// wrapDomain separates wrapped keys from ordinary ring ciphertexts, so that
// neither can be passed off as the other even under the same ring and aad.
const wrapDomain = "bedrock/crypto envelope data key\x00"

// Wrap seals dek with the ring's primary key, with aad bound.
func (l *LocalWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return l.ring.Seal(dek, append([]byte(wrapDomain), aad...))
}

// Unwrap opens a data key sealed by Wrap with the same aad.
func (l *LocalWrapper) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return l.ring.Open(wrapped, append([]byte(wrapDomain), aad...))
}

// Envelope layout:
//
//	version (1) | wrapped key length (2, big-endian) | wrapped key | nonce (12) | ciphertext | tag (16)
//
// The payload's associated data is everything before the nonce followed by
// the caller's aad, so the wrapped key cannot be swapped.
const (
	envVersion    = 0x45
	envHeaderSize = 3

	// DefaultMaxWrappedKeySize bounds the wrapped data key read from an
	// envelope; cloud KMS ciphertexts of a 32-byte key are a few hundred
	// bytes.
	DefaultMaxWrappedKeySize = 1024
	maxWrappedKeySize        = 1<<16 - 1

	// DefaultDataKeyCacheEntries bounds the data-key cache when it is on.
	DefaultDataKeyCacheEntries = 1024
	defaultCacheMaxAge         = 5 * time.Minute
	defaultCacheMaxUses        = 1 << 20
)

// EnvelopeConfig configures an [Envelope]. The zero value calls the
// KeyWrapper once per message and accepts wrapped keys up to
// DefaultMaxWrappedKeySize bytes.
type EnvelopeConfig struct {
	// MaxWrappedKeySize bounds the wrapped key Seal accepts from the wrapper
	// and Open accepts from an envelope. Zero means DefaultMaxWrappedKeySize;
	// the format caps it at 65535.
	MaxWrappedKeySize int

	// CacheMaxUses and CacheMaxAge turn on the data-key cache: Seal reuses a
	// data key (one per distinct aad) for at most CacheMaxUses messages and
	// CacheMaxAge, so the wrapper is called at most once per that many
	// messages or that long; Open reuses unwrapped keys for CacheMaxAge.
	// Cached data keys stay in memory until they expire, are evicted, or
	// [Envelope.Flush] drops them.
	// Both zero means no cache. If only one is set the other defaults to
	// 1<<20 uses or 5 minutes. CacheMaxUses may not exceed
	// DefaultMaxSealsPerKey, the random-nonce bound.
	CacheMaxUses uint64
	CacheMaxAge  time.Duration

	// CacheMaxEntries bounds the cached keys of each of Seal and Open. Zero
	// means DefaultDataKeyCacheEntries.
	CacheMaxEntries int

	// Now is the clock for cache ages. Nil means time.Now.
	Now func() time.Time

	// Rand is the source of data keys and nonces. Nil means crypto/rand;
	// other readers are for tests.
	Rand io.Reader

	// Hooks observe calls to the KeyWrapper. Nil fields cost nothing.
	Hooks EnvelopeHooks
}

// EnvelopeHooks are callbacks for instrumentation, run synchronously; they
// must be safe for concurrent use.
type EnvelopeHooks struct {
	// OnWrap runs after each KeyWrapper.Wrap call with its error.
	OnWrap func(err error)
	// OnUnwrap runs after each KeyWrapper.Unwrap call with its error.
	OnUnwrap func(err error)
	// OnCacheHit runs when Seal (sealing true) or Open reuses a cached key.
	OnCacheHit func(sealing bool)
}

// Envelope encrypts payloads with fresh data keys that it wraps with a
// [KeyWrapper], producing one self-describing blob per message: only the
// small data key travels to the KMS, and the caller's aad is bound both to
// the wrapped key and to the payload.
//
// Most callers want [Envelope.Seal] and [Envelope.Open]. An Envelope is
// safe for concurrent use. Create it with [NewEnvelope].
type Envelope struct {
	w          KeyWrapper
	maxWrapped int
	maxUses    uint64
	maxAge     time.Duration
	maxEntries int
	now        func() time.Time
	rand       io.Reader
	hooks      EnvelopeHooks
	ad         adPool

	mu        sync.Mutex
	sealCache *keyCache // by aad
	openCache *keyCache // by len(wrapped) | wrapped | aad
}

type dataKey struct {
	aead    cipher.AEAD
	wrapped []byte
	created time.Time
	uses    uint64
}

// NewEnvelope returns an Envelope that wraps data keys with w.
func NewEnvelope(w KeyWrapper, cfg EnvelopeConfig) (*Envelope, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: nil KeyWrapper", ErrInvalidConfig)
	}
	switch {
	case cfg.MaxWrappedKeySize < 0 || cfg.MaxWrappedKeySize > maxWrappedKeySize:
		return nil, fmt.Errorf("%w: MaxWrappedKeySize %d outside [0, %d]", ErrInvalidConfig, cfg.MaxWrappedKeySize, maxWrappedKeySize)
	case cfg.CacheMaxAge < 0:
		return nil, fmt.Errorf("%w: negative CacheMaxAge", ErrInvalidConfig)
	case cfg.CacheMaxUses > DefaultMaxSealsPerKey:
		return nil, fmt.Errorf("%w: CacheMaxUses %d exceeds the random-nonce bound", ErrInvalidConfig, cfg.CacheMaxUses)
	case cfg.CacheMaxEntries < 0:
		return nil, fmt.Errorf("%w: negative CacheMaxEntries", ErrInvalidConfig)
	}
	e := &Envelope{
		w: w, maxWrapped: cfg.MaxWrappedKeySize, maxUses: cfg.CacheMaxUses, maxAge: cfg.CacheMaxAge,
		maxEntries: cfg.CacheMaxEntries, now: cfg.Now, rand: cfg.Rand, hooks: cfg.Hooks,
	}
	if e.maxWrapped == 0 {
		e.maxWrapped = DefaultMaxWrappedKeySize
	}
	if e.maxUses != 0 || e.maxAge != 0 {
		if e.maxUses == 0 {
			e.maxUses = defaultCacheMaxUses
		}
		if e.maxAge == 0 {
			e.maxAge = defaultCacheMaxAge
		}
		if e.maxEntries == 0 {
			e.maxEntries = DefaultDataKeyCacheEntries
		}
		e.sealCache = &keyCache{entries: map[string]*dataKey{}, pending: map[string]*flight{}}
		e.openCache = &keyCache{entries: map[string]*dataKey{}, pending: map[string]*flight{}}
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e, nil
}

// EnvelopeSeal seals plaintext under a fresh data key wrapped by w, without
// caching; see [Envelope.Seal].
func EnvelopeSeal(ctx context.Context, w KeyWrapper, plaintext, aad []byte) ([]byte, error) {
	e, err := NewEnvelope(w, EnvelopeConfig{})
	if err != nil {
		return nil, err
	}
	return e.Seal(ctx, plaintext, aad)
}

// EnvelopeOpen opens an envelope made by EnvelopeSeal or [Envelope.Seal]
// with the same aad; see [Envelope.Open].
func EnvelopeOpen(ctx context.Context, w KeyWrapper, envelope, aad []byte) ([]byte, error) {
	e, err := NewEnvelope(w, EnvelopeConfig{})
	if err != nil {
		return nil, err
	}
	return e.Open(ctx, envelope, aad)
}

// Seal encrypts plaintext under a data key (fresh, or cached per aad when
// the cache is on) and returns the envelope. Errors from the KeyWrapper,
// including ctx's, are returned wrapped.
func (e *Envelope) Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	if err := checkSize(uint64(len(plaintext))); err != nil {
		return nil, err
	}
	dk, err := e.sealKey(ctx, aad)
	if err != nil {
		return nil, err
	}
	wl := len(dk.wrapped)
	out := make([]byte, envHeaderSize+wl+nonceSize+len(plaintext)+tagSize)
	out[0] = envVersion
	binary.BigEndian.PutUint16(out[1:envHeaderSize], uint16(wl))
	copy(out[envHeaderSize:], dk.wrapped)
	hdr := out[:envHeaderSize+wl]
	nonce := out[len(hdr) : len(hdr)+nonceSize]
	if err := readRandom(e.rand, nonce); err != nil {
		return nil, err
	}
	ad := e.ad.get(hdr, aad)
	dk.aead.Seal(out[len(hdr)+nonceSize:len(hdr)+nonceSize], nonce, plaintext, *ad)
	e.ad.put(ad)
	return out, nil
}

// Open decrypts an envelope sealed with the same aad. A malformed envelope,
// including a wrapped key of length zero or above MaxWrappedKeySize, fails
// with ErrFormat; a failed unwrap returns the wrapper's error wrapped (for a
// LocalWrapper: ErrDecrypt, or a *KeyError for an unknown or retired key);
// a tampered payload fails with ErrDecrypt. No plaintext is returned on
// error.
func (e *Envelope) Open(ctx context.Context, envelope, aad []byte) ([]byte, error) {
	if len(envelope) < envHeaderSize {
		return nil, fmt.Errorf("%w: envelope shorter than its header", ErrFormat)
	}
	if envelope[0] != envVersion {
		return nil, fmt.Errorf("%w: unknown envelope version %d", ErrFormat, envelope[0])
	}
	wl := int(binary.BigEndian.Uint16(envelope[1:envHeaderSize]))
	if wl == 0 || wl > e.maxWrapped {
		return nil, fmt.Errorf("%w: wrapped key length %d outside [1, %d]", ErrFormat, wl, e.maxWrapped)
	}
	if len(envelope) < envHeaderSize+wl+nonceSize+tagSize {
		return nil, fmt.Errorf("%w: envelope truncated", ErrFormat)
	}
	hdr := envelope[:envHeaderSize+wl]
	dk, err := e.openKey(ctx, hdr[1:], aad)
	if err != nil {
		return nil, err
	}
	nonce := envelope[len(hdr) : len(hdr)+nonceSize]
	body := envelope[len(hdr)+nonceSize:]
	ad := e.ad.get(hdr, aad)
	pt, err := dk.aead.Open(make([]byte, 0, len(body)-tagSize), nonce, body, *ad)
	e.ad.put(ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Flush drops every cached data key, so that the next Seal wraps a fresh
// one: call it after rotating the key encryption key, or when the cached
// keys should leave memory. It does nothing without a cache.
func (e *Envelope) Flush() {
	if e.sealCache == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.sealCache.entries)
	clear(e.openCache.entries)
}

func (e *Envelope) sealKey(ctx context.Context, aad []byte) (*dataKey, error) {
	if e.sealCache == nil {
		return e.wrapNew(ctx, aad)
	}
	return e.cached(ctx, e.sealCache, string(aad), true, func(ctx context.Context) (*dataKey, error) {
		return e.wrapNew(ctx, aad)
	})
}

func (e *Envelope) openKey(ctx context.Context, lenAndWrapped, aad []byte) (*dataKey, error) {
	if e.openCache == nil {
		return e.unwrap(ctx, lenAndWrapped[2:], aad)
	}
	return e.cached(ctx, e.openCache, string(lenAndWrapped)+string(aad), false, func(ctx context.Context) (*dataKey, error) {
		return e.unwrap(ctx, lenAndWrapped[2:], aad)
	})
}

// keyCache holds data keys and the wrapper calls in flight for them.
type keyCache struct {
	entries map[string]*dataKey
	pending map[string]*flight
}

// flight is one wrapper call that concurrent misses for the same key wait
// for, so that a burst of messages in a new context costs one KMS call.
type flight struct {
	done chan struct{}
	err  error
}

// cached returns a usable cached key, counting a use when sealing, or
// fetches one: only one goroutine per key calls the wrapper at a time, the
// others wait for it (or for their ctx). If that call fails for a reason
// other than its own caller's context, the waiters get the same error
// rather than calling a failing KMS again.
func (e *Envelope) cached(ctx context.Context, c *keyCache, key string, sealing bool, fetch func(context.Context) (*dataKey, error)) (*dataKey, error) {
	for {
		now := e.now()
		e.mu.Lock()
		if dk := c.entries[key]; dk != nil && now.Sub(dk.created) < e.maxAge && (!sealing || dk.uses < e.maxUses) {
			if sealing {
				dk.uses++
			}
			e.mu.Unlock()
			if e.hooks.OnCacheHit != nil {
				e.hooks.OnCacheHit(sealing)
			}
			return dk, nil
		}
		if f := c.pending[key]; f != nil {
			e.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
				return nil, f.err
			}
			continue
		}
		f := &flight{done: make(chan struct{})}
		c.pending[key] = f
		e.mu.Unlock()

		dk, err := fetch(ctx)
		e.mu.Lock()
		delete(c.pending, key)
		if err == nil {
			dk.created = e.now()
			e.insert(c.entries, key, dk)
		}
		f.err = err
		e.mu.Unlock()
		close(f.done)
		return dk, err
	}
}

func (e *Envelope) wrapNew(ctx context.Context, aad []byte) (*dataKey, error) {
	var dek [KeySize]byte
	defer clear(dek[:])
	if err := readRandom(e.rand, dek[:]); err != nil {
		return nil, err
	}
	wrapped, err := e.w.Wrap(ctx, dek[:], aad)
	if e.hooks.OnWrap != nil {
		e.hooks.OnWrap(err)
	}
	if err != nil {
		return nil, fmt.Errorf("crypto: wrapping data key: %w", err)
	}
	if len(wrapped) == 0 || len(wrapped) > e.maxWrapped {
		return nil, fmt.Errorf("%w: wrapper returned a %d-byte wrapped key, want 1 to %d", ErrFormat, len(wrapped), e.maxWrapped)
	}
	dk, err := newDataKeyAEAD(dek[:])
	if err != nil {
		return nil, err
	}
	dk.wrapped = wrapped
	dk.uses = 1
	return dk, nil
}

func (e *Envelope) unwrap(ctx context.Context, wrapped, aad []byte) (*dataKey, error) {
	dek, err := e.w.Unwrap(ctx, wrapped, aad)
	if e.hooks.OnUnwrap != nil {
		e.hooks.OnUnwrap(err)
	}
	if err != nil {
		return nil, fmt.Errorf("crypto: unwrapping data key: %w", err)
	}
	defer clear(dek)
	if len(dek) != KeySize {
		return nil, fmt.Errorf("%w: unwrapped data key is %d bytes", ErrDecrypt, len(dek))
	}
	return newDataKeyAEAD(dek)
}

// insert adds dk, evicting expired entries and then the oldest when full.
// The scan is linear but runs only on a cache miss, which already paid for
// a KMS round trip.
func (e *Envelope) insert(m map[string]*dataKey, key string, dk *dataKey) {
	if _, ok := m[key]; !ok && len(m) >= e.maxEntries {
		var oldestKey string
		var oldest *dataKey
		for k, v := range m {
			if dk.created.Sub(v.created) >= e.maxAge {
				delete(m, k)
				continue
			}
			if oldest == nil || v.created.Before(oldest.created) {
				oldestKey, oldest = k, v
			}
		}
		if len(m) >= e.maxEntries && oldest != nil {
			delete(m, oldestKey)
		}
	}
	m[key] = dk
}

func newDataKeyAEAD(dek []byte) (*dataKey, error) {
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return &dataKey{aead: a}, nil
}
