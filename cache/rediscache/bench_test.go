package rediscache_test

import (
	"context"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// BenchmarkStore measures the Redis tier's two hot operations against the
// real server: a hit (one script, value and remaining TTL in one round
// trip) and a leased miss followed by the write-if-lease.
func BenchmarkStore(b *testing.B) {
	client, prefix := testenv.Redis(b) // unique prefix, cleaned up afterwards
	store, err := rediscache.New(client, rediscache.Config{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	value := []byte(`{"id":42,"name":"tea","price_cents":450}`)
	if _, err := store.Write(ctx, []cache.Write{{Key: "hot", Value: value, TTL: time.Hour}}); err != nil {
		b.Fatal(err)
	}

	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			items, err := store.Fetch(ctx, []string{"hot"}, cache.FetchOptions{})
			if err != nil || items[0].Value == nil {
				b.Fatal("miss", err)
			}
		}
	})
	b.Run("miss-lease-write", func(b *testing.B) {
		b.ReportAllocs()
		keys := []string{"cold"}
		for b.Loop() {
			items, err := store.Fetch(ctx, keys, cache.FetchOptions{Lease: cache.LeaseIfMissing})
			if err != nil || items[0].Lease != cache.LeaseGranted {
				b.Fatal("no lease", err)
			}
			if _, err := store.Write(ctx, []cache.Write{{Key: "cold", Value: value, TTL: time.Hour, Token: items[0].Token}}); err != nil {
				b.Fatal(err)
			}
			if err := store.Delete(ctx, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
}
