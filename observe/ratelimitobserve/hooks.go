package ratelimitobserve

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/ratelimit"
)

// Attribute keys of the rate-limit adapters.
const (
	attrLimiter  = attribute.Key("bedrock.ratelimit.limiter")
	attrPolicy   = attribute.Key("bedrock.ratelimit.policy")
	attrDecision = attribute.Key("bedrock.ratelimit.decision")
	attrDegraded = attribute.Key("bedrock.ratelimit.degraded")
	attrActive   = attribute.Key("bedrock.ratelimit.active")
)

// decisionKey is what a decision's attribute set depends on.
type decisionKey struct {
	policy            string
	allowed, degraded bool
}

// Hooks returns hooks that record the decisions of the Limiter
// called name (a constant: it becomes the bedrock.ratelimit.limiter
// attribute). The key being limited is never recorded. A nil mp means the
// global provider.
//
// Metrics:
//   - bedrock.ratelimit.decisions ({decision}, counter): with
//     bedrock.ratelimit.policy (the Limit's Name, "unnamed" when empty),
//     bedrock.ratelimit.decision ("allowed" or "limited") and
//     bedrock.ratelimit.degraded (true when the store's failure policy
//     decided). Past 256 distinct combinations, further ones are recorded
//     with the policy "_OTHER", so that names built from request data
//     cannot grow the series without bound.
//   - bedrock.ratelimit.errors ({error}, counter): store failures, with
//     error.type: canceled, deadline_exceeded or _OTHER.
//
// It fails only if the instruments cannot be created.
func Hooks(mp metric.MeterProvider, name string) (ratelimit.Hooks, error) {
	b := otelhook.New(mp, "ratelimitobserve")
	decisions := b.Counter("bedrock.ratelimit.decisions", "{decision}", "Rate-limit decisions.")
	failures := b.Counter("bedrock.ratelimit.errors", "{error}", "Rate-limit store failures.")
	if err := b.Check("rate limit"); err != nil {
		return ratelimit.Hooks{}, err
	}
	n := attrLimiter.String(name)
	build := func(k decisionKey) otelhook.Opts {
		d := "limited"
		if k.allowed {
			d = "allowed"
		}
		return otelhook.OptsOf(n, attrPolicy.String(k.policy), attrDecision.String(d), attrDegraded.Bool(k.degraded))
	}
	sets := otelhook.NewBoundedSets(build, func(k decisionKey) decisionKey { k.policy = "_OTHER"; return k })
	byError := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(), n)
	return ratelimit.Hooks{
		OnDecision: func(_ string, r ratelimit.Result) {
			p := r.Limit.Name
			if p == "" {
				p = "unnamed"
			}
			o := sets.Get(decisionKey{policy: p, allowed: r.Allowed, degraded: r.Degraded})
			decisions.Add(context.Background(), 1, o.Add...)
		},
		OnError: func(_ string, err error) {
			failures.Add(context.Background(), 1, byError.Of(err).Add...)
		},
	}, nil
}

// MemoryHooks returns hooks that count the evictions of the
// in-memory store of the Limiter called name, as
// bedrock.ratelimit.memory.evictions ({key}, counter) with
// bedrock.ratelimit.active: true when the evicted key was still limited,
// which means the store is too small for the traffic (MaxKeys). A nil mp
// means the global provider. It fails only if the instrument cannot be
// created.
func MemoryHooks(mp metric.MeterProvider, name string) (ratelimit.MemoryHooks, error) {
	b := otelhook.New(mp, "ratelimitobserve")
	evictions := b.Counter("bedrock.ratelimit.memory.evictions", "{key}", "Keys evicted from the in-memory rate-limit store.")
	if err := b.Check("rate limit store"); err != nil {
		return ratelimit.MemoryHooks{}, err
	}
	n := attrLimiter.String(name)
	idle, active := otelhook.OptsOf(n, attrActive.Bool(false)), otelhook.OptsOf(n, attrActive.Bool(true))
	return ratelimit.MemoryHooks{
		OnEvict: func(_ string, isActive bool) {
			o := idle
			if isActive {
				o = active
			}
			evictions.Add(context.Background(), 1, o.Add...)
		},
	}, nil
}

// ConcurrencyHooks returns hooks that count the leases refused by the
// Concurrency quota called name, as bedrock.ratelimit.concurrency.rejections
// ({lease}, counter). The key is never recorded. A nil mp means the global
// provider. It fails only if the instrument cannot be created.
func ConcurrencyHooks(mp metric.MeterProvider, name string) (ratelimit.ConcurrencyHooks, error) {
	b := otelhook.New(mp, "ratelimitobserve")
	rejections := b.Counter("bedrock.ratelimit.concurrency.rejections", "{lease}", "Leases refused by a concurrency quota.")
	if err := b.Check("concurrency quota"); err != nil {
		return ratelimit.ConcurrencyHooks{}, err
	}
	o := otelhook.OptsOf(attrLimiter.String(name))
	return ratelimit.ConcurrencyHooks{
		OnReject: func() { rejections.Add(context.Background(), 1, o.Add...) },
	}, nil
}
