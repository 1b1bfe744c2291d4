package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
)

// allowVolatileEnv names the override that accepts, in production, a Redis
// that does not persist the idempotency keys.
const allowVolatileEnv = "IDEMPOTENCY_ALLOW_VOLATILE"

// checkIdempotencyDurability checks that the Redis holding the idempotency
// keys persists every write (appendonly yes, on every master of a
// cluster). A Redis that restarts without its data forgets which requests
// were answered, and a client retrying a 201 with the same Idempotency-Key
// then places a second order (issue 23). With ENV=production such a Redis
// stops the start unless IDEMPOTENCY_ALLOW_VOLATILE=true accepts it; in
// development it is a warning. A Redis that refuses CONFIG GET (a managed
// one, the embedded development Redis) cannot be checked: refused in
// production without the override, a warning otherwise.
func checkIdempotencyDurability(ctx context.Context, rdb redis.UniversalClient, env string, getenv func(string) string, log *slog.Logger) error {
	allow := false
	if v := getenv(allowVolatileEnv); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s must be true or false, not %q", allowVolatileEnv, v)
		}
		allow = b
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	problem := appendOnlyProblem(ctx, rdb)
	if problem == "" {
		return nil
	}
	consequence := "idempotency keys are lost when Redis restarts, and a client retrying an order that was answered 201 places it again"
	switch {
	case env == config.Production && !allow:
		return fmt.Errorf("the Redis of the idempotency keys %s: %s; enable AOF (appendonly yes, appendfsync everysec or always) or set %s=true to accept it", problem, consequence, allowVolatileEnv)
	case env == config.Production:
		log.Warn("the Redis of the idempotency keys "+problem+"; accepted by "+allowVolatileEnv+"=true", slog.String("consequence", consequence))
	default:
		log.Warn("the Redis of the idempotency keys "+problem+"; ENV=production would refuse to start (or set "+allowVolatileEnv+"=true)", slog.String("consequence", consequence))
	}
	return nil
}

// appendOnlyProblem returns "" when every master of rdb has appendonly yes,
// else what is wrong, as a phrase.
func appendOnlyProblem(ctx context.Context, rdb redis.UniversalClient) string {
	check := func(ctx context.Context, c *redis.Client) error {
		m, err := c.ConfigGet(ctx, "appendonly").Result()
		if err != nil {
			return fmt.Errorf("cannot be checked (CONFIG GET appendonly at %s: %v)", c.Options().Addr, oneLine(err))
		}
		if v := strings.ToLower(m["appendonly"]); v != "yes" {
			if v == "" {
				v = "unset"
			}
			return fmt.Errorf("does not persist every write (appendonly is %s at %s)", v, c.Options().Addr)
		}
		return nil
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, check)
	case *redis.Client:
		err = check(ctx, c)
	default:
		err = fmt.Errorf("cannot be checked (a %T)", rdb)
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
