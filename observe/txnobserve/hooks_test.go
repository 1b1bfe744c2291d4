package txnobserve_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/txnobserve"
	"github.com/bedrock-go/bedrock/txn"
)

func TestHooks_RecordAttemptsRetriesAndSpanEvents(t *testing.T) {
	pool := testenv.Postgres(t)
	m := otelhooktest.NewRecorder(t, "txnobserve")
	hooks, err := txnobserve.Hooks(m.MP)
	require.NoError(t, err)
	mgr, err := txn.New(pool, txn.Config{MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, Hooks: hooks})
	require.NoError(t, err)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	ctx, span := tp.Tracer("test").Start(context.Background(), "transfer")

	// PostgreSQL's own failures, as a contended serializable transaction
	// and a lock cycle would raise them, then a commit.
	failures := []error{
		&pgconn.PgError{Severity: "ERROR", Code: "40001", Message: "could not serialize access"},
		&pgconn.PgError{Severity: "ERROR", Code: "40P01", Message: "deadlock detected"},
	}
	attempt := 0
	err = mgr.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		attempt++
		if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
			return err
		}
		if attempt <= len(failures) {
			return failures[attempt-1]
		}
		return nil
	}, txn.Label("transfer"))
	require.NoError(t, err)
	err = mgr.Do(ctx, func(context.Context, pgx.Tx) error { return errors.New("business rule") }, txn.Label("transfer"))
	require.Error(t, err)
	span.End()

	assert.Equal(t, map[string]int64{
		"bedrock.txn.label=transfer,bedrock.txn.outcome=serialization_failure": 1,
		"bedrock.txn.label=transfer,bedrock.txn.outcome=deadlock":              1,
		"bedrock.txn.label=transfer,bedrock.txn.outcome=committed":             1,
		"bedrock.txn.label=transfer,bedrock.txn.outcome=error":                 1,
	}, m.Counter(t, "bedrock.txn.attempts", "{attempt}"))
	assert.Equal(t, map[string]uint64{
		"bedrock.txn.label=transfer,bedrock.txn.outcome=serialization_failure": 1,
		"bedrock.txn.label=transfer,bedrock.txn.outcome=deadlock":              1,
		"bedrock.txn.label=transfer,bedrock.txn.outcome=committed":             1,
		"bedrock.txn.label=transfer,bedrock.txn.outcome=error":                 1,
	}, m.HistogramCounts(t, "bedrock.txn.attempt.duration"))
	assert.Equal(t, map[string]int64{
		"bedrock.txn.label=transfer,bedrock.txn.retry.reason=serialization_failure": 1,
		"bedrock.txn.label=transfer,bedrock.txn.retry.reason=deadlock":              1,
	}, m.Counter(t, "bedrock.txn.retries", "{retry}"))

	ended := spans.Ended()
	require.Len(t, ended, 1)
	var events []string
	for _, e := range ended[0].Events() {
		var outcome string
		for _, kv := range e.Attributes {
			if kv.Key == "bedrock.txn.outcome" || kv.Key == "bedrock.txn.retry.reason" {
				outcome = kv.Value.AsString()
			}
		}
		events = append(events, e.Name+":"+outcome)
	}
	assert.Equal(t, []string{
		"bedrock.txn.attempt:serialization_failure", "bedrock.txn.retry:serialization_failure",
		"bedrock.txn.attempt:deadlock", "bedrock.txn.retry:deadlock",
		"bedrock.txn.attempt:committed",
		"bedrock.txn.attempt:error",
	}, events)
}

func BenchmarkHooks_OnAttempt(b *testing.B) {
	hooks, err := txnobserve.Hooks(otelhooktest.NewRecorder(b, "txnobserve").MP)
	require.NoError(b, err)
	a := txn.Attempt{Label: "transfer", Number: 1, Duration: 3 * time.Millisecond}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnAttempt(ctx, a)
	}
}
