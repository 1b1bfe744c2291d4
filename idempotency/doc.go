// Package idempotency makes HTTP writes safe to retry: a client sends an
// Idempotency-Key header, and a repeat of the same request is answered with
// the stored response of the first instead of running the handler again.
//
// It follows the IETF draft "The Idempotency-Key HTTP Header Field" and the
// behaviour clients know from Stripe's API.
//
// # Behaviour
//
// [NewMiddleware] builds the [Middleware]; its [Middleware.Handler] wraps
// the handlers to protect and applies to the configured methods (POST and
// PATCH by default):
//
//	idem, err := idempotency.NewMiddleware(store, idempotency.Config{
//		Principal: func(r *http.Request) string { return auth.SubjectFrom(r.Context()) },
//	})
//	mux.Handle("POST /orders", idem.Handler(createOrder))
//
// For a request that carries a key:
//
//   - the first request locks the key, runs the handler and stores its
//     response (status, selected headers, body) for [Config.Retention];
//   - a repeat with the same key and the same request, after the first has
//     completed, gets the stored response byte for byte, with the header
//     Idempotent-Replayed: true; the handler does not run;
//   - a repeat while the first still runs gets 409 Conflict (retry later);
//   - the same key with a different request (method, route, principal or
//     body) gets 422 Unprocessable Content;
//   - a 5xx answer or a panic stores nothing and releases the key, so the
//     client may retry; 4xx answers are stored unless
//     [Config.SkipClientErrors] is set.
//
// Keys are scoped by principal ([Config.Principal]): one client can never
// replay another's response, even with the same key.
//
// Responses are stored up to [Config.MaxResponseBytes] (64 KiB by default),
// since any client can make the store keep one per key for the retention
// period. A larger response still reaches its client; the key is recorded
// as completed without it, and a repeat gets 410 Gone with a problem that
// says the response was too large to store.
//
// Refusals are RFC 9457 problems (application/problem+json) with a type
// URI and a title of their own (the Problem constants) and a detail written
// for the client: never error text, never the key or anything else the
// client sent.
//
// # Stores
//
// A [Store] keeps the records. [MemoryStore] serves one process; the
// sub-package redisidem serves a fleet, with each step one Lua script on the
// Redis server's clock. The conformance suite in idempotencytest holds every
// store to the same behaviour.
//
// When the store fails (Redis down), the middleware answers 503 (fail
// closed, the default) or runs the handler without protection
// ([Config.FailOpen]).
//
// # Durability
//
// The guarantee lasts as long as the store keeps its records: a record lost
// before its retention ends lets a repeat run the handler again (a second
// order, a second charge).
//
//   - [MemoryStore] keeps records in the process: a restart or a crash
//     loses them all, and a second process never sees the first's. It suits
//     one process whose clients do not retry across its restarts, and tests.
//   - redisidem keeps them as durably as the Redis server does; see its
//     package documentation. Only a Redis with AOF (appendonly yes) keeps a
//     completed record through a restart.
package idempotency
