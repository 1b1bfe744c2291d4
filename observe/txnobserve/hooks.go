package txnobserve

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/txn"
)

// Attribute keys of the txn adapter.
const (
	attrTxnLabel   = attribute.Key("bedrock.txn.label")
	attrTxnOutcome = attribute.Key("bedrock.txn.outcome")
	attrTxnReason  = attribute.Key("bedrock.txn.retry.reason")
	attrTxnAttempt = attribute.Key("bedrock.txn.attempt")
	attrTxnDelay   = attribute.Key("bedrock.txn.retry.delay")
)

// txnKey is what a transaction event's attribute set depends on.
type txnKey struct{ label, class string }

// Hooks returns hooks that record the attempts and retries of
// outermost transactions. The label attribute is the txn.Label option of
// the transaction ("" without one); labels must be constants, like span
// names. A nil mp means the global provider.
//
// Errors are reduced to a class: serialization_failure (SQLSTATE 40001),
// deadlock (40P01), lock_not_available (55P03), conflict (txn.ErrConflict),
// commit_unknown, connection (a connection lost or refused), canceled,
// deadline_exceeded or error.
//
// Metrics:
//   - bedrock.txn.attempts ({attempt}, counter): with bedrock.txn.label
//     and bedrock.txn.outcome, "committed" or the error class.
//   - bedrock.txn.attempt.duration (s, histogram): BEGIN to the end of
//     COMMIT or ROLLBACK, with the same attributes.
//   - bedrock.txn.retries ({retry}, counter): with bedrock.txn.label and
//     bedrock.txn.retry.reason, the error class.
//
// When the context carries a recording span, each attempt and retry also
// adds a span event (bedrock.txn.attempt, bedrock.txn.retry) with the
// attempt number, so that a slow request's trace shows its retries.
//
// Past 256 distinct label and class pairs, further ones are recorded with
// the label "_OTHER". It fails only if the instruments cannot be created.
func Hooks(mp metric.MeterProvider) (txn.Hooks, error) {
	b := otelhook.New(mp, "txnobserve")
	attempts := b.Counter("bedrock.txn.attempts", "{attempt}", "Transaction attempts, by outcome.")
	duration := b.Duration("bedrock.txn.attempt.duration", "Duration of transaction attempts, BEGIN to COMMIT or ROLLBACK.")
	retries := b.Counter("bedrock.txn.retries", "{retry}", "Transaction retries, by reason.")
	if err := b.Check("txn"); err != nil {
		return txn.Hooks{}, err
	}
	attemptSets := otelhook.NewBoundedSets(func(k txnKey) otelhook.Opts {
		return otelhook.OptsOf(attrTxnLabel.String(k.label), attrTxnOutcome.String(k.class))
	}, foldTxnLabel)
	retrySets := otelhook.NewBoundedSets(func(k txnKey) otelhook.Opts {
		return otelhook.OptsOf(attrTxnLabel.String(k.label), attrTxnReason.String(k.class))
	}, foldTxnLabel)
	return txn.Hooks{
		OnAttempt: func(ctx context.Context, a txn.Attempt) {
			class := "committed"
			if a.Err != nil {
				class = txnErrorClass(a.Err)
			}
			o := attemptSets.Get(txnKey{a.Label, class})
			attempts.Add(ctx, 1, o.Add...)
			duration.Record(ctx, a.Duration.Seconds(), o.Record...)
			if span := trace.SpanFromContext(ctx); span.IsRecording() {
				span.AddEvent("bedrock.txn.attempt", trace.WithAttributes(
					attrTxnAttempt.Int(a.Number), attrTxnOutcome.String(class)))
			}
		},
		OnRetry: func(ctx context.Context, r txn.Retry) {
			class := txnErrorClass(r.Err)
			retries.Add(ctx, 1, retrySets.Get(txnKey{r.Label, class}).Add...)
			if span := trace.SpanFromContext(ctx); span.IsRecording() {
				span.AddEvent("bedrock.txn.retry", trace.WithAttributes(
					attrTxnAttempt.Int(r.Attempt), attrTxnReason.String(class),
					attrTxnDelay.Float64(r.Delay.Seconds())))
			}
		},
	}, nil
}

func foldTxnLabel(k txnKey) txnKey { return txnKey{"_OTHER", k.class} }

// txnErrorClass reduces a transaction error to one of a fixed set of
// classes. Context errors come first: a cancelled request often surfaces
// as a driver error too, and the cancellation is the cause.
func txnErrorClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case errors.Is(err, txn.ErrCommitUnknown):
		return "commit_unknown"
	case errors.Is(err, txn.ErrConflict):
		return "conflict"
	case errors.Is(err, txn.ErrLocked):
		return "lock_not_available"
	}
	switch txn.SQLState(err) {
	case "40001":
		return "serialization_failure"
	case "40P01":
		return "deadlock"
	case "55P03":
		return "lock_not_available"
	}
	var connectErr *pgconn.ConnectError
	if pgconn.SafeToRetry(err) || errors.As(err, &connectErr) {
		return "connection"
	}
	return "error"
}
