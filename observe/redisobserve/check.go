package redisobserve

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/observe"
)

// Check returns a readiness check that sends PING through c, for
// [observe.Health.Register]. It honours the check's timeout only when the
// client was built with ContextTimeoutEnabled; without it, go-redis
// applies its own read and write timeouts instead of the context's
// deadline.
func Check(c redis.UniversalClient) observe.Check {
	return func(ctx context.Context) error { return c.Ping(ctx).Err() }
}
