// Package pgxobserve tells which PostgreSQL query is slow, and why: it
// traces pgx with OpenTelemetry spans and metrics that follow the database
// semantic conventions, logs slow queries through slog, and captures the
// plan of a slow statement.
//
// A [Tracer] is pgx's tracer for queries, batches, copies, prepares and
// connections. Set it on the pool's connection config before connecting:
//
//	var pool *pgxpool.Pool
//	tracer, err := pgxobserve.New(pgxobserve.Config{
//		SlowThreshold: 200 * time.Millisecond,
//		Explain: pgxobserve.ExplainConfig{
//			DB: func() pgxobserve.Querier { return pool },
//		},
//	})
//	...
//	defer tracer.Close()
//	cfg.ConnConfig.Tracer = tracer
//	pool, err = pgxpool.NewWithConfig(ctx, cfg)
//
// pgx takes one tracer; to combine this one with another, use
// github.com/jackc/pgx/v5/multitracer.
//
// # Fingerprints
//
// Every statement is reduced to its [Fingerprint]: literals replaced by ?,
// IN and VALUES lists collapsed, comments dropped. The fingerprint labels
// the duration histogram (bounded by the number of statement shapes in the
// code), is the span's db.query.text unless Config.RawQueryText, and is
// the key of "the same statement" for plan capture.
//
// # What is never recorded
//
// Parameter values never reach a span, a metric or a log record unless
// Config.LogParameters is set, and then only the slow-query log. Literals
// written into the SQL reach spans and logs only with Config.RawQueryText.
// A span's status says the SQLSTATE of a server error, not its message,
// which may quote a value.
//
// # When PostgreSQL is down
//
// Tracing never fails or delays a query: a query that fails is recorded
// with its error.type ("connection" for a refused or lost connection), a
// failed connection gives a "connect" span with error.type, and a plan
// capture that cannot reach the server ends within ExplainConfig.Timeout,
// is logged at Warn ("query plan not captured") and reported to
// Hooks.OnPlan with its error.
//
// It is a package of its own so that observe's core never compiles pgx.
package pgxobserve
