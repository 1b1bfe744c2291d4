package cachetest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
)

func TestMemoryStore_Conforms(t *testing.T) {
	cachetest.Run(t, cachetest.Harness{
		NewStore: func(t *testing.T) cache.Store {
			s, err := cachetest.NewMemoryStore(cachetest.MemoryStoreConfig{})
			require.NoError(t, err)
			return s
		},
		Connect: func(_ *testing.T, s cache.Store) cache.Store { return s },
	})
}

// TestNewMemoryStore_RefusesANegativeLeaseTTL: zero means the default, a
// negative duration is a mistake, as in rediscache.
func TestNewMemoryStore_RefusesANegativeLeaseTTL(t *testing.T) {
	_, err := cachetest.NewMemoryStore(cachetest.MemoryStoreConfig{LeaseTTL: -time.Second})
	assert.ErrorIs(t, err, cachetest.ErrInvalidConfig)
	assert.ErrorContains(t, err, "LeaseTTL")
	s, err := cachetest.NewMemoryStore(cachetest.MemoryStoreConfig{})
	require.NoError(t, err)
	assert.NotNil(t, s)
}
