package idempotencyobserve

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/internal/otelhook"
)

// Attribute keys of the idempotency adapter.
const (
	attrIdemOutcome = attribute.Key("bedrock.idempotency.outcome")
	attrIdemKind    = attribute.Key("bedrock.idempotency.error")
)

// Hooks returns hooks that count what the idempotency
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
func Hooks(mp metric.MeterProvider) (idempotency.Hooks, error) {
	b := otelhook.New(mp, "idempotencyobserve")
	requests := b.Counter("bedrock.idempotency.requests", "{request}", "Requests answered by the idempotency layer, by outcome.")
	failures := b.Counter("bedrock.idempotency.errors", "{error}", "Idempotency store failures and lost locks.")
	if err := b.Check("idempotency"); err != nil {
		return idempotency.Hooks{}, err
	}
	replayed := otelhook.OptsOf(attrIdemOutcome.String("replayed"))
	conflict := otelhook.OptsOf(attrIdemOutcome.String("conflict"))
	mismatch := otelhook.OptsOf(attrIdemOutcome.String("mismatch"))
	store := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(), attrIdemKind.String("store"))
	lockLost := otelhook.NewClassifier(otelhook.AttrErrorType, "_OTHER", otelhook.WithContextClasses(), attrIdemKind.String("lock_lost"))
	return idempotency.Hooks{
		OnReplay:   func(r *http.Request) { requests.Add(r.Context(), 1, replayed.Add...) },
		OnConflict: func(r *http.Request) { requests.Add(r.Context(), 1, conflict.Add...) },
		OnMismatch: func(r *http.Request) { requests.Add(r.Context(), 1, mismatch.Add...) },
		OnStoreError: func(r *http.Request, err error) {
			failures.Add(r.Context(), 1, store.Of(err).Add...)
		},
		OnLockLost: func(r *http.Request, err error) {
			failures.Add(r.Context(), 1, lockLost.Of(err).Add...)
		},
	}, nil
}
