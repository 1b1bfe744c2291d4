package crypto_test

import (
	"errors"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
)

// seededRand makes key and nonce generation reproducible, so fuzz seeds and
// examples are stable. Production code leaves Rand nil.
func seededRand(seed byte) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

func newRing(t testing.TB, cfg bcrypto.KeyRingConfig) *bcrypto.KeyRing {
	t.Helper()
	r, err := bcrypto.NewKeyRing(cfg)
	require.NoError(t, err)
	_, err = r.Rotate()
	require.NoError(t, err)
	return r
}

func fixedKey(b byte) []byte {
	k := make([]byte, bcrypto.KeySize)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// fixedRing holds fixedKey(1) under id 1 as primary, for fuzz targets whose
// seeds must open across runs.
func fixedRing(t testing.TB) *bcrypto.KeyRing {
	t.Helper()
	r, err := bcrypto.NewKeyRing(bcrypto.KeyRingConfig{Rand: seededRand(9)})
	require.NoError(t, err)
	require.NoError(t, r.Add(1, fixedKey(1)))
	require.NoError(t, r.Promote(1))
	return r
}

func keyErr(t testing.TB, err error) *bcrypto.KeyError {
	t.Helper()
	var ke *bcrypto.KeyError
	require.True(t, errors.As(err, &ke), "want *KeyError, got %v", err)
	return ke
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
