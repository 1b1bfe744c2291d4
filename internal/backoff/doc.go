// Package backoff computes retry delays: exponential growth with a cap and
// jitter. It is shared by the packages that retry (resilience, txn, outbox)
// so that they agree on what "backoff with jitter" means.
package backoff
