// Package ratelimit limits how often events happen per key: requests per
// client, logins per account, messages per tenant.
//
// A [Limiter] applies one or more [Limit] values to every key (or chooses
// them per key, for example by plan) and keeps their state in a [Store]:
// [Memory] in process, or redislimit's store shared through Redis. Both make
// the same decisions on the same sequence of requests; the conformance suite
// in package ratelimittest holds every store to that.
//
//	lim, err := ratelimit.New(ratelimit.Config{
//		Limits: []ratelimit.Limit{ratelimit.PerSecond(10), ratelimit.PerHour(1000)},
//	})
//	res, err := lim.Allow(ctx, "user:42")
//	if !res.Allowed {
//		// try again after res.RetryAfter
//	}
//
// # Algorithms
//
// [GCRA] (the default) and [TokenBucket] admit bursts of Burst events and
// then one event every Period/Rate. [SlidingWindow] approximates a sliding
// window with two counters; [SlidingLog] is exact and keeps one timestamp
// per admitted event, for small limits; [FixedWindow] resets at window
// boundaries aligned to the Unix epoch. All compute in integer microseconds,
// so a limit means exactly the same in memory and in Redis.
//
// # Several limits
//
// With several limits, an event is admitted only if every limit allows it,
// and then counts against all of them; a denial consumes nothing. The
// [Result] describes the limit that decided.
//
// # Waiting, reserving, peeking
//
// [Limiter.Wait] sleeps until the event is admitted, but returns at once
// when the wait would outlast the context's deadline. [Limiter.Reserve]
// admits an event that [Reservation.Cancel] can hand back. [Limiter.Peek]
// looks without taking. [Limiter.AllowAtMost] grants as many of n events
// as fit (a partial grant: Result.Granted), and [Limiter.Reset] forgets a
// key. AllowAt, PeekAt, ReserveAt and AllowAtMostAt take an explicit time
// for tests.
//
// # Memory store
//
// [Memory] is sharded and bounded: at most MaxKeys states of 64 bytes, a
// state not used recently evicted first (CLOCK), and idle keys (those back
// at full capacity) reclaimed two at a time as a side effect of ordinary
// calls, so a client cycling random keys cannot grow memory and no call ever
// pays for a sweep. Allow on an existing key does not allocate.
//
// For one stream of events with no key, [Bucket] is a lock-free GCRA.
//
// # Concurrency quotas
//
// A [Concurrency] quota bounds the work in flight per key ("at most 5
// exports per tenant at once") rather than events per period. Each slot is
// a [Lease] that expires after a TTL unless renewed, so that a holder that
// crashed frees its slot; [Concurrency.Reset] drops a key's leases. The
// leases live in a [LeaseStore]: [Memory] in process, package redislimit's
// Store across processes (one Lua script per operation, on the Redis
// clock), held to the same decisions by ratelimittest.RunLeases.
//
// # HTTP
//
// [NewMiddleware] builds a [Middleware] that keys requests with a [KeyFunc]
// (client IP behind trusted proxies only, API key, principal from the
// context); its [Middleware.Handler] answers 429 with an
// application/problem+json body and Retry-After, and sets the
// RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers on every response.
// [Middleware.Allow] makes the same decision without writing anything.
//
//	mw, err := ratelimit.NewMiddleware(lim, ratelimit.MiddlewareConfig{Key: byIP})
//	http.ListenAndServe(addr, mw.Handler(mux))
//
// A request the middleware cannot key is never answered 401 (a rate limit
// authenticates no one): a request without the header or principal the
// limit is keyed by gets 400, and a client whose address the server cannot
// determine (a proxy on a Unix socket, unless
// [ClientIPConfig.TrustUnixSocket] trusts it) gets 500, the deployment's
// problem rather than the client's.
//
// RateLimit-Policy has one item per limit, and a client that keeps to an
// item is never refused by it. q over w is the sustained rate: q is Rate,
// and w is Period in whole seconds, rounded up (for GCRA and TokenBucket,
// Rate intervals, which is Period unless Period/Rate had to be rounded up
// to a microsecond). A GCRA or TokenBucket limit whose Burst differs from
// Rate adds bedrock-burst=Burst (the draft asks for a vendor prefix on
// parameters it does not define): the item is then a bucket of Burst
// requests refilled at q per w (with Burst below Rate, a client that
// ignores the parameter and sends q at once is refused). Without it, an
// item means at most q
// requests in any w seconds. A SlidingWindow limit advertises w = 2×Period:
// it charges the previous window's events as if spread evenly over it, so
// only Rate per 2×Period holds for every schedule (a client sending Rate
// at once every Period is refused).
//
// The RateLimit field describes the limit that decided (see [Result]): r is
// its Remaining (the whole tokens in the bucket for GCRA and TokenBucket;
// Rate less the events counted in the window for FixedWindow and
// SlidingLog, and less the weighted count, rounded up, for SlidingWindow),
// and t the seconds, rounded up, until r grows
// ([Result.RefillAfter]), which is the draft's effective window: within t
// seconds the client can use no more than r. For GCRA and TokenBucket that
// is the next token; for FixedWindow the end of the window; for SlidingLog
// the expiry of the oldest event counted; for SlidingWindow the moment the
// previous windows' weight has fallen by one event. On a 429, t equals
// Retry-After, the seconds until the request's cost fits, so neither field
// names an earlier moment than the other.
package ratelimit
