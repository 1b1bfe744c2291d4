package crypto_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// countingWrapper stands in for a KMS and counts round trips.
type countingWrapper struct {
	inner          bcrypto.KeyWrapper
	wraps, unwraps atomic.Int64
}

func (c *countingWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	c.wraps.Add(1)
	return c.inner.Wrap(ctx, dek, aad)
}

func (c *countingWrapper) Unwrap(ctx context.Context, w, aad []byte) ([]byte, error) {
	c.unwraps.Add(1)
	return c.inner.Unwrap(ctx, w, aad)
}

// fixedWrapper returns a canned wrapped key, to test bounds on what a
// wrapper may return.
type fixedWrapper struct{ wrapped []byte }

func (f fixedWrapper) Wrap(context.Context, []byte, []byte) ([]byte, error) { return f.wrapped, nil }
func (f fixedWrapper) Unwrap(context.Context, []byte, []byte) ([]byte, error) {
	return make([]byte, bcrypto.KeySize), nil
}

func newEnvelope(t testing.TB, cfg bcrypto.EnvelopeConfig) (*bcrypto.Envelope, *bcrypto.KeyRing, *countingWrapper) {
	t.Helper()
	ring := newRing(t, bcrypto.KeyRingConfig{})
	w := &countingWrapper{inner: bcrypto.NewLocalWrapper(ring)}
	e, err := bcrypto.NewEnvelope(w, cfg)
	require.NoError(t, err)
	return e, ring, w
}

func TestEnvelope_RoundTrip(t *testing.T) {
	ctx := context.Background()
	e, _, _ := newEnvelope(t, bcrypto.EnvelopeConfig{})
	for _, size := range []int{0, 1, 1000, 100 << 10} {
		for _, aad := range [][]byte{nil, []byte("tenant=7")} {
			t.Run(fmt.Sprintf("size=%d/aad=%d", size, len(aad)), func(t *testing.T) {
				pt := bytes.Repeat([]byte{3}, size)
				blob, err := e.Seal(ctx, pt, aad)
				require.NoError(t, err)
				got, err := e.Open(ctx, blob, aad)
				require.NoError(t, err)
				assert.Equal(t, pt, got)
			})
		}
	}
}

func TestEnvelopeSealOpen_Functions(t *testing.T) {
	ctx := context.Background()
	w := bcrypto.NewLocalWrapper(newRing(t, bcrypto.KeyRingConfig{}))
	blob, err := bcrypto.EnvelopeSeal(ctx, w, []byte("hi"), []byte("ctx"))
	require.NoError(t, err)
	pt, err := bcrypto.EnvelopeOpen(ctx, w, blob, []byte("ctx"))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(pt))
	_, err = bcrypto.EnvelopeSeal(ctx, nil, nil, nil)
	assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
}

func TestEnvelope_BindsContextToWrappedKey(t *testing.T) {
	ctx := context.Background()
	e, _, _ := newEnvelope(t, bcrypto.EnvelopeConfig{})
	blob, err := e.Seal(ctx, []byte("payload"), []byte("tenant=1"))
	require.NoError(t, err)
	_, err = e.Open(ctx, blob, []byte("tenant=2"))
	assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
}

func TestEnvelope_Tamper(t *testing.T) {
	ctx := context.Background()
	e, _, _ := newEnvelope(t, bcrypto.EnvelopeConfig{})
	aad := []byte("aad")
	blob, err := e.Seal(ctx, []byte("the payload"), aad)
	require.NoError(t, err)
	wl := int(binary.BigEndian.Uint16(blob[1:3]))

	t.Run("every truncation", func(t *testing.T) {
		for n := range len(blob) {
			got, err := e.Open(ctx, blob[:n], aad)
			require.Error(t, err, "length %d", n)
			assert.Nil(t, got)
			assert.True(t, errors.Is(err, bcrypto.ErrFormat) || errors.Is(err, bcrypto.ErrDecrypt), "length %d: %v", n, err)
		}
	})
	t.Run("one flipped bit in each byte", func(t *testing.T) {
		for i := range blob {
			bad := bytes.Clone(blob)
			bad[i] ^= 1 << (i % 8)
			got, err := e.Open(ctx, bad, aad)
			require.Error(t, err, "byte %d", i)
			assert.Nil(t, got)
			ok := errors.Is(err, bcrypto.ErrFormat) || errors.Is(err, bcrypto.ErrDecrypt) || errors.Is(err, bcrypto.ErrUnknownKey)
			assert.True(t, ok, "byte %d: %v", i, err)
		}
	})
	t.Run("wrapped key of length 0", func(t *testing.T) {
		bad := append([]byte{blob[0], 0, 0}, blob[3+wl:]...)
		_, err := e.Open(ctx, bad, aad)
		assert.ErrorIs(t, err, bcrypto.ErrFormat)
	})
	t.Run("oversize wrapped key", func(t *testing.T) {
		bad := bytes.Clone(blob)
		binary.BigEndian.PutUint16(bad[1:3], bcrypto.DefaultMaxWrappedKeySize+1)
		bad = append(bad, make([]byte, bcrypto.DefaultMaxWrappedKeySize)...)
		_, err := e.Open(ctx, bad, aad)
		assert.ErrorIs(t, err, bcrypto.ErrFormat)
	})
	t.Run("wrapped key swapped between envelopes", func(t *testing.T) {
		other, err := e.Seal(ctx, []byte("the payload"), aad)
		require.NoError(t, err)
		bad := append(bytes.Clone(other[:3+wl]), blob[3+wl:]...)
		_, err = e.Open(ctx, bad, aad)
		assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	})
	t.Run("unknown version", func(t *testing.T) {
		bad := bytes.Clone(blob)
		bad[0] = 0x01
		_, err := e.Open(ctx, bad, aad)
		assert.ErrorIs(t, err, bcrypto.ErrFormat)
	})
}

func TestEnvelope_RotationAndRetirementOfTheWrappingKey(t *testing.T) {
	ctx := context.Background()
	e, ring, _ := newEnvelope(t, bcrypto.EnvelopeConfig{})
	old, _ := ring.Primary()
	blob, err := e.Seal(ctx, []byte("v1"), nil)
	require.NoError(t, err)
	_, err = ring.Rotate()
	require.NoError(t, err)
	pt, err := e.Open(ctx, blob, nil)
	require.NoError(t, err)
	assert.Equal(t, "v1", string(pt))
	require.NoError(t, ring.Retire(old))
	_, err = e.Open(ctx, blob, nil)
	assert.ErrorIs(t, err, bcrypto.ErrKeyRetired)
}

func TestEnvelope_WrapperErrorsPropagate(t *testing.T) {
	e, _, _ := newEnvelope(t, bcrypto.EnvelopeConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	blob, err := e.Seal(ctx, []byte("x"), nil)
	require.NoError(t, err)
	cancel()
	_, err = e.Seal(ctx, []byte("x"), nil)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = e.Open(ctx, blob, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestEnvelope_RefusesBadWrappedKeysFromTheWrapper(t *testing.T) {
	for name, w := range map[string][]byte{"empty": nil, "oversize": make([]byte, 2000)} {
		t.Run(name, func(t *testing.T) {
			e, err := bcrypto.NewEnvelope(fixedWrapper{w}, bcrypto.EnvelopeConfig{})
			require.NoError(t, err)
			_, err = e.Seal(context.Background(), []byte("x"), nil)
			assert.ErrorIs(t, err, bcrypto.ErrFormat)
		})
	}
}

func TestEnvelope_WithoutCacheCallsTheWrapperPerMessage(t *testing.T) {
	ctx := context.Background()
	e, _, w := newEnvelope(t, bcrypto.EnvelopeConfig{})
	for range 5 {
		blob, err := e.Seal(ctx, []byte("m"), nil)
		require.NoError(t, err)
		_, err = e.Open(ctx, blob, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(5), w.wraps.Load())
	assert.Equal(t, int64(5), w.unwraps.Load())
}

func TestEnvelope_CacheBoundsUses(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int64
	e, _, w := newEnvelope(t, bcrypto.EnvelopeConfig{
		CacheMaxUses: 3,
		Hooks:        bcrypto.EnvelopeHooks{OnCacheHit: func(bool) { hits.Add(1) }},
	})
	var blobs [][]byte
	for range 10 {
		blob, err := e.Seal(ctx, []byte("m"), []byte("a"))
		require.NoError(t, err)
		blobs = append(blobs, blob)
	}
	assert.Equal(t, int64(4), w.wraps.Load(), "ceil(10/3) data keys")
	for _, b := range blobs {
		_, err := e.Open(ctx, b, []byte("a"))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(4), w.unwraps.Load(), "one unwrap per distinct wrapped key")
	assert.Equal(t, int64(6+6), hits.Load())

	// A different aad never reuses another context's key.
	_, err := e.Seal(ctx, []byte("m"), []byte("b"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), w.wraps.Load())
}

func TestEnvelope_CacheBoundsAge(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	e, _, w := newEnvelope(t, bcrypto.EnvelopeConfig{
		CacheMaxAge: time.Minute,
		Now:         func() time.Time { return now },
	})
	seal := func() []byte {
		b, err := e.Seal(ctx, []byte("m"), nil)
		require.NoError(t, err)
		return b
	}
	b1 := seal()
	now = now.Add(59 * time.Second)
	seal()
	assert.Equal(t, int64(1), w.wraps.Load())
	now = now.Add(time.Second)
	seal()
	assert.Equal(t, int64(2), w.wraps.Load(), "a key of CacheMaxAge is not reused")
	_, err := e.Open(ctx, b1, nil)
	require.NoError(t, err)
	_, err = e.Open(ctx, b1, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.unwraps.Load())
	now = now.Add(time.Minute)
	_, err = e.Open(ctx, b1, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), w.unwraps.Load(), "expired unwrapped keys are fetched again")
}

func TestEnvelope_CacheBoundsEntries(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	e, _, w := newEnvelope(t, bcrypto.EnvelopeConfig{
		CacheMaxUses: 100, CacheMaxEntries: 2,
		Now: func() time.Time { now = now.Add(time.Millisecond); return now },
	})
	for _, aad := range []string{"a", "b", "c", "a"} {
		_, err := e.Seal(ctx, []byte("m"), []byte(aad))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(4), w.wraps.Load(), "the oldest context was evicted when a third arrived")
}

func TestEnvelope_ConcurrentUseWithCache(t *testing.T) {
	ctx := context.Background()
	e, _, w := newEnvelope(t, bcrypto.EnvelopeConfig{CacheMaxUses: 50, CacheMaxAge: time.Hour})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 64 {
		wg.Go(func() {
			aad := []byte{byte(g % 4)}
			for i := range 20 {
				msg := []byte(fmt.Sprintf("%d/%d", g, i))
				blob, err := e.Seal(ctx, msg, aad)
				if err != nil {
					bad.Add(1)
					continue
				}
				pt, err := e.Open(ctx, blob, aad)
				if err != nil || !bytes.Equal(pt, msg) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, bad.Load())
	assert.Less(t, w.wraps.Load(), int64(64*20/10), "the cache spares most wrapper calls")
}

func TestNewEnvelope_ValidatesConfig(t *testing.T) {
	w := bcrypto.NewLocalWrapper(newRing(t, bcrypto.KeyRingConfig{}))
	tests := map[string]bcrypto.EnvelopeConfig{
		"negative wrapped size": {MaxWrappedKeySize: -1},
		"wrapped size too big":  {MaxWrappedKeySize: 1 << 16},
		"negative age":          {CacheMaxAge: -time.Second},
		"uses past nonce bound": {CacheMaxUses: bcrypto.DefaultMaxSealsPerKey + 1},
		"negative entries":      {CacheMaxEntries: -1},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := bcrypto.NewEnvelope(w, cfg)
			assert.ErrorIs(t, err, bcrypto.ErrInvalidConfig)
		})
	}
}

func TestEnvelope_HooksSeeWrapperCalls(t *testing.T) {
	var wrapped, unwrapped []error
	ring := newRing(t, bcrypto.KeyRingConfig{})
	e, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(ring), bcrypto.EnvelopeConfig{Hooks: bcrypto.EnvelopeHooks{
		OnWrap:   func(err error) { wrapped = append(wrapped, err) },
		OnUnwrap: func(err error) { unwrapped = append(unwrapped, err) },
	}})
	require.NoError(t, err)
	blob, err := e.Seal(context.Background(), []byte("x"), nil)
	require.NoError(t, err)
	_, err = e.Open(context.Background(), blob, []byte("wrong"))
	require.Error(t, err)
	assert.Equal(t, []error{nil}, wrapped)
	require.Len(t, unwrapped, 1)
	assert.ErrorIs(t, unwrapped[0], bcrypto.ErrDecrypt)
}

// A wrapped key is a ring ciphertext under a separate domain, so one cannot
// be opened as ordinary data of the same ring and aad.
func TestLocalWrapper_IsDomainSeparated(t *testing.T) {
	ring := newRing(t, bcrypto.KeyRingConfig{})
	w := bcrypto.NewLocalWrapper(ring)
	wrapped, err := w.Wrap(context.Background(), fixedKey(1), []byte("aad"))
	require.NoError(t, err)
	_, err = ring.Open(wrapped, []byte("aad"))
	assert.ErrorIs(t, err, bcrypto.ErrDecrypt)
	dek, err := w.Unwrap(context.Background(), wrapped, []byte("aad"))
	require.NoError(t, err)
	assert.Equal(t, fixedKey(1), dek)
}

func TestEnvelope_FlushDropsCachedKeys(t *testing.T) {
	ctx := context.Background()
	e, ring, w := newEnvelope(t, bcrypto.EnvelopeConfig{CacheMaxUses: 100})
	old, _ := ring.Primary()
	blob, err := e.Seal(ctx, []byte("m"), nil)
	require.NoError(t, err)
	_, err = e.Open(ctx, blob, nil)
	require.NoError(t, err)
	_, err = ring.Rotate()
	require.NoError(t, err)
	e.Flush()
	blob2, err := e.Seal(ctx, []byte("m"), nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), w.wraps.Load(), "a flushed cache wraps a new key, under the new primary")
	require.NoError(t, ring.Retire(old))
	_, err = e.Open(ctx, blob, nil)
	assert.ErrorIs(t, err, bcrypto.ErrKeyRetired, "flushed unwrapped keys are not reused")
	_, err = e.Open(ctx, blob2, nil)
	assert.NoError(t, err)
}

// gatedWrapper holds every Wrap until the gate opens, and counts calls.
type gatedWrapper struct {
	inner bcrypto.KeyWrapper
	gate  chan struct{}
	err   error
	calls atomic.Int64
}

func (g *gatedWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	g.calls.Add(1)
	<-g.gate
	if g.err != nil {
		return nil, g.err
	}
	return g.inner.Wrap(ctx, dek, aad)
}

func (g *gatedWrapper) Unwrap(ctx context.Context, w, aad []byte) ([]byte, error) {
	return g.inner.Unwrap(ctx, w, aad)
}

func TestEnvelope_ConcurrentMissesShareOneWrapperCall(t *testing.T) {
	boom := errors.New("kms unavailable")
	for name, wrapErr := range map[string]error{"success": nil, "failure": boom} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := &gatedWrapper{inner: bcrypto.NewLocalWrapper(newRing(t, bcrypto.KeyRingConfig{})), gate: make(chan struct{}), err: wrapErr}
				e, err := bcrypto.NewEnvelope(g, bcrypto.EnvelopeConfig{CacheMaxUses: 1000})
				require.NoError(t, err)
				const n = 50
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { _, errs[i] = e.Seal(context.Background(), []byte("m"), []byte("tenant")) })
				}
				synctest.Wait() // one goroutine in Wrap, the rest waiting for it
				assert.Equal(t, int64(1), g.calls.Load())
				close(g.gate)
				wg.Wait()
				assert.Equal(t, int64(1), g.calls.Load())
				for _, err := range errs {
					if wrapErr == nil {
						assert.NoError(t, err)
					} else {
						assert.ErrorIs(t, err, boom)
					}
				}
			})
		})
	}
}

func TestEnvelope_WaiterHonoursItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gatedWrapper{inner: bcrypto.NewLocalWrapper(newRing(t, bcrypto.KeyRingConfig{})), gate: make(chan struct{})}
		e, err := bcrypto.NewEnvelope(g, bcrypto.EnvelopeConfig{CacheMaxAge: time.Minute})
		require.NoError(t, err)
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = e.Seal(context.Background(), []byte("m"), nil) })
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = e.Seal(ctx, []byte("m"), nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		close(g.gate)
		wg.Wait()
		assert.Equal(t, int64(1), g.calls.Load())
	})
}
