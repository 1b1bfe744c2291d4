package redisidem_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/idempotency/idempotencytest"
	"github.com/bedrock-go/bedrock/idempotency/redisidem"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// TestStore_ConformanceOnRedisCluster runs the suite on a Redis Cluster,
// whose nodes' clocks decide expiry, so the suite sleeps for real as on the
// single server.
func TestStore_ConformanceOnRedisCluster(t *testing.T) {
	idempotencytest.Run(t, idempotencytest.Harness{
		NewStore: func(t *testing.T) idempotency.Store {
			client, prefix := testenv.RedisCluster(t)
			s, err := redisidem.New(client, redisidem.Config{Prefix: prefix})
			require.NoError(t, err)
			return s
		},
		Sleep: time.Sleep,
	})
}
