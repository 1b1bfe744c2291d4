package resilienceobserve

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/resilience"
)

const (
	attrPriority  = attribute.Key("bedrock.resilience.priority")
	attrDirection = attribute.Key("bedrock.resilience.limiter.direction")
)

var priorities = [...]resilience.Priority{resilience.PrioritySheddable, resilience.PriorityNormal, resilience.PriorityCritical}

// AdaptiveLimiterHooks returns hooks for the AdaptiveLimiter (or Shedder)
// called name:
//   - bedrock.resilience.limiter.rejections ({call}, counter): callers
//     refused (shed), per bedrock.resilience.priority (sheddable, normal,
//     critical), so that a dashboard shows that the lowest go first.
//   - bedrock.resilience.limiter.changes ({change}, counter): updates of the
//     limit, per bedrock.resilience.limiter.direction (up, down).
//
// The limit, in-flight and queued gauges come from [AdaptiveLimiter]. A nil
// mp means the global provider. It fails only if the instruments cannot be
// created.
func AdaptiveLimiterHooks(mp metric.MeterProvider, name string) (resilience.AdaptiveLimiterHooks, error) {
	b := otelhook.New(mp, "resilienceobserve")
	rejections := b.Counter("bedrock.resilience.limiter.rejections", "{call}", "Callers refused by an adaptive concurrency limiter.")
	changes := b.Counter("bedrock.resilience.limiter.changes", "{change}", "Changes of an adaptive concurrency limit.")
	if err := b.Check("adaptive limiter"); err != nil {
		return resilience.AdaptiveLimiterHooks{}, err
	}
	n := attrResilienceName.String(name)
	var byPriority [len(priorities)]otelhook.Opts
	for i, p := range priorities {
		byPriority[i] = otelhook.OptsOf(n, attrPriority.String(p.String()))
	}
	up := otelhook.OptsOf(n, attrDirection.String("up"))
	down := otelhook.OptsOf(n, attrDirection.String("down"))
	return resilience.AdaptiveLimiterHooks{
		OnReject: func(p resilience.Priority) {
			i := int(p - resilience.PrioritySheddable)
			if i < 0 || i >= len(byPriority) {
				i = int(resilience.PriorityNormal - resilience.PrioritySheddable)
			}
			rejections.Add(context.Background(), 1, byPriority[i].Add...)
		},
		OnLimitChange: func(c resilience.LimitChange) {
			o := up
			if c.New < c.Old {
				o = down
			}
			changes.Add(context.Background(), 1, o.Add...)
		},
	}, nil
}

// AdaptiveLimiter reports the state of the AdaptiveLimiter l, called name,
// at every collection: bedrock.resilience.limiter.limit ({call}, gauge),
// the current concurrency limit; bedrock.resilience.limiter.in_flight and
// bedrock.resilience.limiter.queued ({call}, up-down counters), the calls
// holding a slot and those waiting for one. A nil mp means the global
// provider. Unregister the returned registration when the limiter is
// discarded; it fails only if the instruments cannot be registered.
func AdaptiveLimiter(mp metric.MeterProvider, name string, l *resilience.AdaptiveLimiter) (metric.Registration, error) {
	m := otelhook.Meter(mp, "resilienceobserve")
	limit, err1 := m.Int64ObservableGauge("bedrock.resilience.limiter.limit",
		metric.WithUnit("{call}"), metric.WithDescription("Current adaptive concurrency limit."))
	inFlight, err2 := m.Int64ObservableUpDownCounter("bedrock.resilience.limiter.in_flight",
		metric.WithUnit("{call}"), metric.WithDescription("Calls holding an adaptive limiter slot."))
	queued, err3 := m.Int64ObservableUpDownCounter("bedrock.resilience.limiter.queued",
		metric.WithUnit("{call}"), metric.WithDescription("Calls waiting for an adaptive limiter slot."))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("resilienceobserve: creating the adaptive limiter gauges: %w", err)
	}
	o := metric.WithAttributeSet(attribute.NewSet(attrResilienceName.String(name)))
	reg, err := m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		obs.ObserveInt64(limit, int64(l.Limit()), o)
		obs.ObserveInt64(inFlight, int64(l.InFlight()), o)
		obs.ObserveInt64(queued, int64(l.Queued()), o)
		return nil
	}, limit, inFlight, queued)
	if err != nil {
		return nil, fmt.Errorf("resilienceobserve: registering the adaptive limiter gauges: %w", err)
	}
	return reg, nil
}

// ThrottlerHooks returns hooks that count the calls the Throttler called
// name refused locally, as bedrock.resilience.throttler.rejections ({call},
// counter). A nil mp means the global provider. It fails only if the
// instrument cannot be created.
func ThrottlerHooks(mp metric.MeterProvider, name string) (resilience.ThrottlerHooks, error) {
	b := otelhook.New(mp, "resilienceobserve")
	rejections := b.Counter("bedrock.resilience.throttler.rejections", "{call}", "Calls refused locally by client-side adaptive throttling.")
	if err := b.Check("throttler"); err != nil {
		return resilience.ThrottlerHooks{}, err
	}
	o := otelhook.OptsOf(attrResilienceName.String(name))
	return resilience.ThrottlerHooks{
		OnReject: func(float64) { rejections.Add(context.Background(), 1, o.Add...) },
	}, nil
}
