package redisclient

import (
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Requirement is the sentence every Redis-backed package's config error
// ends with when a client does not honour context deadlines.
const Requirement = "the Redis client must set ContextTimeoutEnabled: true " +
	"(without it go-redis ignores context deadlines and cancellation, so no time budget " +
	"and no cancelled request can interrupt a slow Redis)"

// Check returns an error wrapping invalid (the calling package's
// ErrInvalidConfig) when client is nil or is a go-redis client
// (*redis.Client, *redis.ClusterClient, *redis.Ring) without
// ContextTimeoutEnabled. Other implementations of redis.UniversalClient,
// such as a caller's wrapper, are trusted to honour deadlines.
//
// The rule holds for every package, whatever its own timeouts: a caller's
// context deadline is a budget too, and without the option it reaches
// neither a dial nor a read.
func Check(client redis.UniversalClient, invalid error) error {
	enabled := true
	switch c := client.(type) {
	case nil:
		return fmt.Errorf("%w: nil Redis client", invalid)
	case *redis.Client:
		if c == nil {
			return fmt.Errorf("%w: nil Redis client", invalid)
		}
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		if c == nil {
			return fmt.Errorf("%w: nil Redis client", invalid)
		}
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		if c == nil {
			return fmt.Errorf("%w: nil Redis client", invalid)
		}
		enabled = c.Options().ContextTimeoutEnabled
	}
	if !enabled {
		return fmt.Errorf("%w: %s", invalid, Requirement)
	}
	return nil
}
