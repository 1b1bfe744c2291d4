package redislimitobserve

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// Attribute keys of the Redis rate-limit adapter; the limiter's is the
// one ratelimitobserve records, so both adapters' series join on it.
const (
	attrLimiter           = attribute.Key("bedrock.ratelimit.limiter")
	attrUnavailablePolicy = attribute.Key("bedrock.ratelimit.unavailable_policy")
)

// redisPolicies is the number of redislimit.Policy values, numbered from
// FailOpen (0).
const redisPolicies = int(redislimit.FallBack) + 1

// Hooks returns hooks that count the decisions the Redis
// rate-limit store of the Limiter called name could not make, as
// bedrock.ratelimit.redis.unavailable ({decision}, counter) with
// bedrock.ratelimit.unavailable_policy (fail-open, fail-closed or
// fall-back: what decided instead) and error.type (deadline_exceeded for
// the store's time budget, canceled or _OTHER). A fail-open limiter that
// counts here is not limiting at all. A nil mp means the global provider.
// It fails only if the instrument cannot be created.
func Hooks(mp metric.MeterProvider, name string) (redislimit.Hooks, error) {
	b := otelhook.New(mp, "redislimitobserve")
	unavailable := b.Counter("bedrock.ratelimit.redis.unavailable", "{decision}", "Rate-limit decisions Redis could not make, by fallback policy.")
	if err := b.Check("redis rate limit"); err != nil {
		return redislimit.Hooks{}, err
	}
	n := attrLimiter.String(name)
	var byPolicy [redisPolicies]*otelhook.Classifier
	for i := range byPolicy {
		byPolicy[i] = otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(),
			n, attrUnavailablePolicy.String(redislimit.Policy(i).String()))
	}
	return redislimit.Hooks{
		OnUnavailable: func(err error, p redislimit.Policy) {
			if int(p) < redisPolicies {
				unavailable.Add(context.Background(), 1, byPolicy[p].Of(err).Add...)
			}
		},
	}, nil
}
