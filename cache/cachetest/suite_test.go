package cachetest_test

import (
	"testing"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
)

func TestMemoryStore_Conforms(t *testing.T) {
	cachetest.Run(t, cachetest.Harness{
		NewStore: func(*testing.T) cache.Store { return cachetest.NewMemoryStore(cachetest.MemoryStoreConfig{}) },
		Connect:  func(_ *testing.T, s cache.Store) cache.Store { return s },
	})
}
