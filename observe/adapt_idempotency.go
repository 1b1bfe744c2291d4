package observe

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/idempotency"
)

// Attribute keys of the idempotency adapter.
const (
	attrIdemOutcome = attribute.Key("bedrock.idempotency.outcome")
	attrIdemKind    = attribute.Key("bedrock.idempotency.error")
)

// IdempotencyHooks returns hooks that count what the idempotency
// middleware did with requests it did not simply pass to the handler. The
// Idempotency-Key is never recorded. A nil mp means the global provider.
//
// Metrics:
//   - bedrock.idempotency.requests ({request}, counter): with
//     bedrock.idempotency.outcome: replayed (a stored response was
//     served), conflict (409: the key is in progress) or mismatch (422:
//     the key was reused for another request).
//   - bedrock.idempotency.errors ({error}, counter): with
//     bedrock.idempotency.error, store (the store failed) or lock_lost (the
//     lock expired before the handler ended, so a duplicate may have run),
//     and error.type: canceled, deadline_exceeded or _OTHER.
//
// It fails only if the instruments cannot be created.
func IdempotencyHooks(mp metric.MeterProvider) (idempotency.Hooks, error) {
	b := newInstruments(mp)
	requests := b.counter("bedrock.idempotency.requests", "{request}", "Requests answered by the idempotency layer, by outcome.")
	failures := b.counter("bedrock.idempotency.errors", "{error}", "Idempotency store failures and lost locks.")
	if err := b.check("idempotency"); err != nil {
		return idempotency.Hooks{}, err
	}
	replayed := optsOf(attrIdemOutcome.String("replayed"))
	conflict := optsOf(attrIdemOutcome.String("conflict"))
	mismatch := optsOf(attrIdemOutcome.String("mismatch"))
	store := newClassifier(attrErrorType, "_OTHER", withContextClasses(), attrIdemKind.String("store"))
	lockLost := newClassifier(attrErrorType, "_OTHER", withContextClasses(), attrIdemKind.String("lock_lost"))
	return idempotency.Hooks{
		OnReplay:   func(r *http.Request) { requests.Add(r.Context(), 1, replayed.add...) },
		OnConflict: func(r *http.Request) { requests.Add(r.Context(), 1, conflict.add...) },
		OnMismatch: func(r *http.Request) { requests.Add(r.Context(), 1, mismatch.add...) },
		OnStoreError: func(r *http.Request, err error) {
			failures.Add(r.Context(), 1, store.of(err).add...)
		},
		OnLockLost: func(r *http.Request, err error) {
			failures.Add(r.Context(), 1, lockLost.of(err).add...)
		},
	}, nil
}
