// Package resilience keeps a service responsive when its dependencies are
// slow or failing, and itself responsive when it is overloaded: a circuit
// breaker, retries with backoff and a shared retry budget, timeouts, a
// bulkhead, request hedging, fallbacks, an adaptive concurrency limiter with
// priority load shedding, client-side adaptive throttling, and fault
// injection to rehearse all of it. It depends only on the standard library.
//
// # Entry point
//
// Build the policies once, compose them into a [Pipeline] for the result
// type, and reuse it:
//
//	breaker, _ := resilience.NewBreaker(resilience.BreakerConfig{SlowCallDuration: time.Second})
//	retry, _ := resilience.NewRetry(resilience.RetryConfig{MaxAttempts: 3})
//	timeout, _ := resilience.NewTimeout(resilience.TimeoutConfig{Duration: 2 * time.Second})
//	p, _ := resilience.NewPipeline[*User](retry, breaker, timeout)
//	user, err := p.Execute(ctx, func(ctx context.Context) (*User, error) {
//		return client.GetUser(ctx, id)
//	})
//
// Policies apply outermost first; the recommended order is
// fallback ⟶ retry ⟶ breaker ⟶ bulkhead ⟶ timeout ⟶ fn (see [Pipeline]).
// [Run] does the same for a one-off call. Each policy also works alone:
// [Breaker.Do], [Retry.Do], [Bulkhead.Do], [Timeout.Do], [Fallback.Do].
//
// # Circuit breaker
//
// A [Breaker] measures the failure rate over a sliding window, by count
// ([CountWindow]) or by time ([TimeWindow], in buckets that expire one at a
// time). Calls slower than SlowCallDuration count as failures even when
// they succeed. Once the window holds MinimumCalls and the rate reaches
// FailureRateThreshold the breaker opens and rejects calls with an
// [*OpenError] (matching [ErrOpen]) that says when it will admit trial
// calls. Half-open, it admits exactly HalfOpenCalls trials. Each state is a
// generation: an outcome reported after the state changed is ignored.
// Cancellation is not a failure (an expired deadline is: see
// [DefaultClassify]); BreakerConfig.Classify lets the caller choose. For
// middleware, [Breaker.Acquire] splits admission from reporting
// ([Ticket.Done]). The closed state admits and records with atomic operations
// only, and allocates nothing.
//
// # Retry and budget
//
// A [Retry] backs off exponentially with full, equal or decorrelated
// jitter, within MaxAttempts and MaxElapsed (measured from the start of the
// first attempt). [Permanent] stops it; a [*RetryAfterError] sets the next
// delay, and when that delay exceeds the cap or the remaining time the
// Retry gives up with [ErrRetryAfterTooLong] rather than sleeping in vain.
// A [Budget] shared by every caller of a dependency keeps retries (and
// hedges) below a share of the requests, so retries cannot amplify an
// outage.
//
// # Timeout, bulkhead, hedging, fallback
//
// A [Timeout] gives the call a deadline and reports [ErrTimeout] when it
// fired (TimeoutConfig.Hooks.OnTimeout counts those). A [Bulkhead] bounds
// concurrent calls and the queue of waiting ones ([ErrBulkheadFull]). A
// [Hedge] sends a second request when the first is slower than a delay or
// a latency percentile and cancels the loser. A [Fallback] replaces a
// failure with a value or another call.
//
// # Overload
//
// An [AdaptiveLimiter] bounds the calls in flight by a limit it learns from
// their latency (TCP Vegas, as Netflix's concurrency-limits), so that a
// service past its capacity refuses the excess with [ErrOverloaded] instead
// of queueing until every request times out. Callers carry a [Priority]
// (critical, normal, sheddable; [WithPriority]); under pressure the lowest
// are refused or evicted from the bounded queue first. [Shedder] is the HTTP
// middleware: 503, Retry-After and a problem document for refused requests.
// AdaptiveLimiterHooks report the limit's changes and every refusal;
// [AdaptiveLimiter.Limit], [AdaptiveLimiter.InFlight] and
// [AdaptiveLimiter.Queued] are the gauges.
//
// On the client side, a [Throttler] refuses calls locally ([ErrThrottled])
// with the probability the Google SRE book gives from the requests sent and
// the ones the dependency accepted, so that a dependency refusing work is
// not buried in it. Both are [Pipeline] stages:
// retry ⟶ throttler ⟶ breaker ⟶ adaptive limiter ⟶ timeout ⟶ fn.
//
// # HTTP
//
// [Transport] applies a pipeline to an http.Client: 5xx and 429 responses
// are failures, Retry-After is honoured, the responses of retried or
// out-hedged requests are closed, and non-idempotent requests are neither
// retried nor hedged unless they carry an Idempotency-Key.
//
// # Fault injection
//
// A [FaultInjector] injects errors, latency or a chosen result ([FaultResult],
// [FaultTransport]) by probability, every n-th call or within a time span,
// and can be switched at run time; disabled, it costs one atomic load.
//
// # Time
//
// Every policy takes its time from timers and an optional Now function, so
// tests run them under testing/synctest without sleeping. A Breaker without
// a Now function learns that its open period ended from a timer: under
// synctest, call synctest.Wait after advancing past it.
//
// # Errors
//
// Every error matches a sentinel with errors.Is ([ErrOpen], [ErrTimeout],
// [ErrBulkheadFull], [ErrOverloaded], [ErrThrottled], [ErrRetriesExhausted], [ErrBudgetExhausted],
// [ErrRetryAfterTooLong], [ErrInvalidConfig], ...) and the typed ones carry
// details for errors.As ([*OpenError], [*RetryError], [*TimeoutError],
// [*StatusError]). A [*RetryError] wraps the last attempt's error.
package resilience
