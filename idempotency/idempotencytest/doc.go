// Package idempotencytest is the conformance suite that every
// [idempotency.Store] runs, so that the in-memory and the Redis store behave
// the same, alone and behind the middleware.
package idempotencytest
