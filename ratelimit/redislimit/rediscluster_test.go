package redislimit_test

import (
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/ratelimittest"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// TestStore_ConformsOnRedisCluster runs the suite on a Redis Cluster: every
// limit of a key shares the key's hash tag, so one script names them all
// without a CROSSSLOT error, and the keys of the suite spread over the
// masters.
func TestStore_ConformsOnRedisCluster(t *testing.T) {
	rdb, prefix := testenv.RedisCluster(t)
	s := newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed})
	ratelimittest.Run(t, func(*testing.T) ratelimit.Store { return s })
}

// TestStore_LeasesConformOnRedisCluster runs the lease suite on a Redis
// Cluster: a key's lease set carries its hash tag.
func TestStore_LeasesConformOnRedisCluster(t *testing.T) {
	rdb, prefix := testenv.RedisCluster(t)
	s := newStore(t, rdb, redislimit.Config{Prefix: prefix, Timeout: 5 * time.Second, WhenUnavailable: redislimit.FailClosed})
	ratelimittest.RunLeases(t, func(*testing.T) ratelimit.LeaseStore { return s })
}
