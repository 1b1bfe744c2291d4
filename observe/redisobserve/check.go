package redisobserve

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/observe"
)

// Check returns a readiness check for [observe.Health.Register] that sends
// PING through c. On a *redis.ClusterClient it pings every master the
// client knows and fails, naming the node, when one does not answer: a
// single PING reaches one node, and would pass while the slots of a dead
// master fail. Once a replica has taken over and the client has reloaded
// its slot map, the check passes again. On a *redis.Ring it pings every
// shard likewise.
//
// It honours the check's timeout only when the client was built with
// ContextTimeoutEnabled; without it, go-redis applies its own read and
// write timeouts instead of the context's deadline.
func Check(c redis.UniversalClient) observe.Check {
	ping := func(ctx context.Context, node *redis.Client) error {
		if err := node.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis node %s: %w", node.Options().Addr, err)
		}
		return nil
	}
	switch c := c.(type) {
	case *redis.ClusterClient:
		return func(ctx context.Context) error { return c.ForEachMaster(ctx, ping) }
	case *redis.Ring:
		return func(ctx context.Context) error { return c.ForEachShard(ctx, ping) }
	default:
		return func(ctx context.Context) error { return c.Ping(ctx).Err() }
	}
}
