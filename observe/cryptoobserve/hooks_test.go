package cryptoobserve_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/cryptoobserve"
)

func TestKeyRingHooks_CountRotationsAndOpenFailures(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "cryptoobserve")
	hooks, err := cryptoobserve.KeyRingHooks(m.MP, "pii")
	require.NoError(t, err)
	ring, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{Hooks: hooks})
	require.NoError(t, err)
	first, err := ring.Rotate()
	require.NoError(t, err)
	ct, err := ring.Seal([]byte("4111 1111 1111 1111"), []byte("card:42"))
	require.NoError(t, err)
	_, err = ring.Rotate()
	require.NoError(t, err)

	_, err = ring.Open(ct, []byte("card:43"))
	require.ErrorIs(t, err, bcrypto.ErrDecrypt)
	_, err = ring.Open([]byte("short"), nil)
	require.ErrorIs(t, err, bcrypto.ErrFormat)
	require.NoError(t, ring.Retire(first))
	_, err = ring.Open(ct, []byte("card:42"))
	require.ErrorIs(t, err, bcrypto.ErrKeyRetired)

	assert.Equal(t, map[string]int64{"bedrock.crypto.keyring=pii": 2},
		m.Counter(t, "bedrock.crypto.keyring.rotations", "{rotation}"))
	assert.Equal(t, map[string]int64{
		"bedrock.crypto.keyring=pii,bedrock.crypto.reason=decrypt":     1,
		"bedrock.crypto.keyring=pii,bedrock.crypto.reason=format":      1,
		"bedrock.crypto.keyring=pii,bedrock.crypto.reason=key_retired": 1,
	}, m.Counter(t, "bedrock.crypto.open_failures", "{message}"))
}

func TestEnvelopeHooks_CountKMSCallsAndCacheHits(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "cryptoobserve")
	hooks, err := cryptoobserve.EnvelopeHooks(m.MP)
	require.NoError(t, err)
	kek, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	_, err = kek.Rotate()
	require.NoError(t, err)
	env, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(kek), bcrypto.EnvelopeConfig{
		CacheMaxUses: 100, Hooks: hooks,
	})
	require.NoError(t, err)
	ctx := context.Background()
	var blobs [][]byte
	for range 3 {
		blob, err := env.Seal(ctx, []byte("record"), nil)
		require.NoError(t, err)
		blobs = append(blobs, blob)
	}
	for _, blob := range blobs {
		_, err := env.Open(ctx, blob, nil)
		require.NoError(t, err)
	}
	otherKEK, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{})
	require.NoError(t, err)
	_, err = otherKEK.Rotate()
	require.NoError(t, err)
	stranger, err := bcrypto.NewEnvelope(bcrypto.NewLocalWrapper(otherKEK), bcrypto.EnvelopeConfig{Hooks: hooks})
	require.NoError(t, err)
	_, err = stranger.Open(ctx, blobs[0], nil)
	require.Error(t, err)

	assert.Equal(t, map[string]int64{
		"bedrock.crypto.operation=wrap":                     1, // one data key for three seals
		"bedrock.crypto.operation=unwrap":                   1, // then cached for the next two opens
		"bedrock.crypto.operation=unwrap,error.type=_OTHER": 1,
	}, m.Counter(t, "bedrock.crypto.envelope.kms_calls", "{call}"))
	assert.Equal(t, map[string]int64{
		"bedrock.crypto.operation=seal": 2,
		"bedrock.crypto.operation=open": 2,
	}, m.Counter(t, "bedrock.crypto.envelope.cache_hits", "{hit}"))
}

// BenchmarkEnvelopeHooks_CacheHit is the hook every seal and open with a
// cached data key calls.
func BenchmarkEnvelopeHooks_CacheHit(b *testing.B) {
	hooks, err := cryptoobserve.EnvelopeHooks(otelhooktest.NewRecorder(b, "cryptoobserve").MP)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnCacheHit(true)
	}
}
