// Package idempotency is named again by its function.
package idempotency
