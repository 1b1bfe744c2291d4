package resilienceobserve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/resilience"
)

// Attribute keys of the resilience adapters.
const (
	attrResilienceName = attribute.Key("bedrock.resilience.name")
	attrBreakerState   = attribute.Key("bedrock.resilience.breaker.state")
	attrBreakerFrom    = attribute.Key("bedrock.resilience.breaker.from")
	attrBreakerTo      = attribute.Key("bedrock.resilience.breaker.to")
	attrGiveUpReason   = attribute.Key("bedrock.resilience.retry.reason")
)

// breakerStates is the number of breaker states; they are numbered from
// StateClosed (0) to StateHalfOpen.
const breakerStates = int(resilience.StateHalfOpen) + 1

// BreakerHooks returns hooks that record the events of the circuit breaker
// called name (a constant such as the dependency it guards: it becomes the
// bedrock.resilience.name attribute). A nil mp means the global provider.
//
// Metrics:
//   - bedrock.resilience.breaker.transitions ({transition}, counter): one
//     per state change, with bedrock.resilience.breaker.from and .to.
//   - bedrock.resilience.breaker.rejections ({call}, counter): calls
//     refused while open or half-open, with the state.
//
// The current state is reported by [Breaker], read at collection:
// a gauge recorded from the hooks could show a stale state when two
// transitions race.
//
// It fails only if the instruments cannot be created.
func BreakerHooks(mp metric.MeterProvider, name string) (resilience.BreakerHooks, error) {
	b := otelhook.New(mp, "resilienceobserve")
	transitions := b.Counter("bedrock.resilience.breaker.transitions", "{transition}", "Circuit breaker state changes.")
	rejections := b.Counter("bedrock.resilience.breaker.rejections", "{call}", "Calls rejected by an open or half-open circuit breaker.")
	if err := b.Check("breaker"); err != nil {
		return resilience.BreakerHooks{}, err
	}
	n := attrResilienceName.String(name)
	var (
		moves   [breakerStates][breakerStates]otelhook.Opts
		inState [breakerStates]otelhook.Opts
	)
	for i := range breakerStates {
		from := resilience.State(i).String()
		inState[i] = otelhook.OptsOf(n, attrBreakerState.String(from))
		for j := range breakerStates {
			moves[i][j] = otelhook.OptsOf(n, attrBreakerFrom.String(from), attrBreakerTo.String(resilience.State(j).String()))
		}
	}
	known := func(s resilience.State) bool { return s >= 0 && int(s) < breakerStates }
	return resilience.BreakerHooks{
		OnStateChange: func(c resilience.StateChange) {
			if !known(c.From) || !known(c.To) {
				return
			}
			transitions.Add(context.Background(), 1, moves[c.From][c.To].Add...)
		},
		OnReject: func(s resilience.State) {
			if known(s) {
				rejections.Add(context.Background(), 1, inState[s].Add...)
			}
		},
	}, nil
}

// RetryHooks returns hooks that record the retries of the Retry called
// name. A nil mp means the global provider.
//
// Metrics:
//   - bedrock.resilience.retry.retries ({retry}, counter): one per retry,
//     with error.type, the class of the error that caused it: timeout,
//     breaker_open, bulkhead_full, injected, canceled, deadline_exceeded
//     or _OTHER.
//   - bedrock.resilience.retry.delay (s, histogram): the wait before each
//     retry.
//   - bedrock.resilience.retry.give_ups ({call}, counter): calls that
//     stopped on a retryable error, with bedrock.resilience.retry.reason:
//     max_attempts, max_elapsed, budget, retry_after, deadline or other.
//
// It fails only if the instruments cannot be created.
func RetryHooks(mp metric.MeterProvider, name string) (resilience.RetryHooks, error) {
	b := otelhook.New(mp, "resilienceobserve")
	retries := b.Counter("bedrock.resilience.retry.retries", "{retry}", "Retries, by class of the error retried.")
	delay := b.Duration("bedrock.resilience.retry.delay", "Wait before each retry.")
	giveUps := b.Counter("bedrock.resilience.retry.give_ups", "{call}", "Calls whose retries stopped on a retryable error.")
	if err := b.Check("retry"); err != nil {
		return resilience.RetryHooks{}, err
	}
	n := attrResilienceName.String(name)
	byError := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(
		otelhook.ErrorClass{Err: resilience.ErrTimeout, Reason: "timeout"},
		otelhook.ErrorClass{Err: resilience.ErrOpen, Reason: "breaker_open"},
		otelhook.ErrorClass{Err: resilience.ErrBulkheadFull, Reason: "bulkhead_full"},
		otelhook.ErrorClass{Err: resilience.ErrInjected, Reason: "injected"},
	), n)
	plain := otelhook.OptsOf(n)
	reasons := map[resilience.GiveUpReason]otelhook.Opts{}
	for r, s := range map[resilience.GiveUpReason]string{
		resilience.GaveUpMaxAttempts: "max_attempts",
		resilience.GaveUpMaxElapsed:  "max_elapsed",
		resilience.GaveUpBudget:      "budget",
		resilience.GaveUpRetryAfter:  "retry_after",
		resilience.GaveUpDeadline:    "deadline",
	} {
		reasons[r] = otelhook.OptsOf(n, attrGiveUpReason.String(s))
	}
	other := otelhook.OptsOf(n, attrGiveUpReason.String("other"))
	return resilience.RetryHooks{
		OnRetry: func(_ int, err error, d time.Duration) {
			ctx := context.Background()
			retries.Add(ctx, 1, byError.Of(err).Add...)
			delay.Record(ctx, d.Seconds(), plain.Record...)
		},
		OnGiveUp: func(e *resilience.RetryError) {
			o, ok := reasons[e.Reason]
			if !ok {
				o = other
			}
			giveUps.Add(context.Background(), 1, o.Add...)
		},
	}, nil
}

// BulkheadHooks returns hooks that count the callers turned away by the
// Bulkhead called name, as bedrock.resilience.bulkhead.rejections ({call},
// counter). A nil mp means the global provider. It fails only if the
// instrument cannot be created.
func BulkheadHooks(mp metric.MeterProvider, name string) (resilience.BulkheadHooks, error) {
	b := otelhook.New(mp, "resilienceobserve")
	rejections := b.Counter("bedrock.resilience.bulkhead.rejections", "{call}", "Callers turned away by a full bulkhead.")
	if err := b.Check("bulkhead"); err != nil {
		return resilience.BulkheadHooks{}, err
	}
	o := otelhook.OptsOf(attrResilienceName.String(name))
	return resilience.BulkheadHooks{
		OnReject: func() { rejections.Add(context.Background(), 1, o.Add...) },
	}, nil
}

// HedgeHooks returns hooks that count the extra requests sent by the Hedge
// called name, as bedrock.resilience.hedge.requests ({request}, counter).
// A nil mp means the global provider. It fails only if the instrument
// cannot be created.
func HedgeHooks(mp metric.MeterProvider, name string) (resilience.HedgeHooks, error) {
	b := otelhook.New(mp, "resilienceobserve")
	hedges := b.Counter("bedrock.resilience.hedge.requests", "{request}", "Hedged requests sent.")
	if err := b.Check("hedge"); err != nil {
		return resilience.HedgeHooks{}, err
	}
	o := otelhook.OptsOf(attrResilienceName.String(name))
	return resilience.HedgeHooks{
		OnHedge: func(int) { hedges.Add(context.Background(), 1, o.Add...) },
	}, nil
}

// Bulkhead reports the occupancy of the Bulkhead b, called name,
// at every collection: bedrock.resilience.bulkhead.in_flight ({call},
// up-down counter) for the calls holding a slot and
// bedrock.resilience.bulkhead.queued ({call}, up-down counter) for those
// waiting for one. A bulkhead that stays full is the sign of a slow
// dependency before it turns into rejections. A nil mp means the global
// provider. Unregister the returned registration when the bulkhead is
// discarded; it fails only if the instruments cannot be registered.
func Bulkhead(mp metric.MeterProvider, name string, b *resilience.Bulkhead) (metric.Registration, error) {
	m := otelhook.Meter(mp, "resilienceobserve")
	inFlight, err1 := m.Int64ObservableUpDownCounter("bedrock.resilience.bulkhead.in_flight",
		metric.WithUnit("{call}"), metric.WithDescription("Calls holding a bulkhead slot."))
	queued, err2 := m.Int64ObservableUpDownCounter("bedrock.resilience.bulkhead.queued",
		metric.WithUnit("{call}"), metric.WithDescription("Calls waiting for a bulkhead slot."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("resilienceobserve: creating the bulkhead gauges: %w", err)
	}
	o := metric.WithAttributeSet(attribute.NewSet(attrResilienceName.String(name)))
	reg, err := m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		obs.ObserveInt64(inFlight, int64(b.InFlight()), o)
		obs.ObserveInt64(queued, int64(b.Waiting()), o)
		return nil
	}, inFlight, queued)
	if err != nil {
		return nil, fmt.Errorf("resilienceobserve: registering the bulkhead gauges: %w", err)
	}
	return reg, nil
}

// Breaker reports the state of the Breaker b, called name, at every
// collection:
//   - bedrock.resilience.breaker.state ({state}, gauge): 1 for the current
//     state and 0 for the others, per bedrock.resilience.breaker.state
//     (closed, open, half-open), so that a dashboard can plot or alert on
//     open == 1.
//   - bedrock.resilience.breaker.failure_rate (1, gauge): the share of
//     failed or slow calls in the closed-state window.
//
// A nil mp means the global provider. Unregister the returned
// registration when the breaker is discarded; it fails only if the
// instruments cannot be registered.
func Breaker(mp metric.MeterProvider, name string, b *resilience.Breaker) (metric.Registration, error) {
	m := otelhook.Meter(mp, "resilienceobserve")
	state, err1 := m.Int64ObservableGauge("bedrock.resilience.breaker.state",
		metric.WithUnit("{state}"), metric.WithDescription("Circuit breaker state: 1 for the current state, 0 for the others."))
	rate, err2 := m.Float64ObservableGauge("bedrock.resilience.breaker.failure_rate",
		metric.WithUnit("1"), metric.WithDescription("Share of failed or slow calls in the circuit breaker's window."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("resilienceobserve: creating the breaker gauges: %w", err)
	}
	n := attrResilienceName.String(name)
	var inState [breakerStates]metric.ObserveOption
	for i := range inState {
		inState[i] = metric.WithAttributeSet(attribute.NewSet(n, attrBreakerState.String(resilience.State(i).String())))
	}
	plain := metric.WithAttributeSet(attribute.NewSet(n))
	reg, err := m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		snap := b.Metrics()
		for i := range inState {
			var v int64
			if int(snap.State) == i {
				v = 1
			}
			obs.ObserveInt64(state, v, inState[i])
		}
		obs.ObserveFloat64(rate, snap.FailureRate(), plain)
		return nil
	}, state, rate)
	if err != nil {
		return nil, fmt.Errorf("resilienceobserve: registering the breaker gauges: %w", err)
	}
	return reg, nil
}
