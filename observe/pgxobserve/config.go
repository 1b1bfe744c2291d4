package pgxobserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ErrInvalidConfig is wrapped by the error [New] returns for a bad
// [Config].
var ErrInvalidConfig = errors.New("pgxobserve: invalid config")

// Config configures a [Tracer]. The zero Config is valid: spans and
// metrics on the global providers, no slow-query log, no plans.
type Config struct {
	// TracerProvider makes the spans; nil means the global provider.
	TracerProvider trace.TracerProvider
	// MeterProvider makes the metrics; nil means the global provider.
	MeterProvider metric.MeterProvider

	// RawQueryText puts the statement as written in db.query.text and in
	// the slow-query log. By default both carry its [Fingerprint], so that
	// a literal written into the SQL (a password in an ALTER ROLE, an
	// e-mail address in a WHERE) never reaches a trace backend or a log.
	// Parameter values ($1) are never in either, whatever this says.
	RawQueryText bool

	// SlowThreshold is the duration from which a query, batch or copy is
	// logged as slow. Zero disables the slow-query log; negative is an
	// error.
	SlowThreshold time.Duration
	// Logger receives the slow-query log (at level Warn) and the plans
	// (at level Info). Nil means [slog.Default].
	Logger *slog.Logger
	// LogParameters adds the parameter values of a slow query to its log
	// record. Off by default: parameters are user data (e-mail addresses,
	// tokens, amounts) that a log must not keep unless its owner chose to.
	LogParameters bool

	// Explain captures the plan of slow queries. Its zero value captures
	// none.
	Explain ExplainConfig

	// Hooks are called for every slow query and every captured plan.
	Hooks Hooks
}

// ExplainConfig configures the capture of query plans: when a query is
// slow, the tracer runs EXPLAIN (FORMAT JSON) of the same statement with
// the same parameters, on a connection of its own, after the query has
// finished, and logs the plan. Unless Config.LogParameters, the literals in
// the plan (the values its conditions compare with, parameters included)
// are stripped as [Fingerprint] strips them. EXPLAIN is never run with ANALYZE, which
// would execute the statement a second time. Only SELECT, INSERT, UPDATE,
// DELETE, MERGE, VALUES and TABLE statements (with or without WITH) are
// explained.
//
// The capture runs in the background, one at a time: a slow query never
// waits for its plan. Call [Tracer.Close] to wait for a capture under way.
//
// The parameters are read again when the capture runs, after the query has
// returned: a caller that reuses an argument's memory (a []byte buffer)
// right after its query may see its next value explained. The plan is the
// one PostgreSQL would choose now, which may differ from the one the slow
// execution used.
type ExplainConfig struct {
	// DB returns what runs the EXPLAIN: usually the *pgxpool.Pool whose
	// connections the tracer traces, which exists only after the tracer
	// (see the package example). It is called for each capture, never
	// before a slow query. Nil disables the capture; setting it requires a
	// SlowThreshold.
	DB func() Querier
	// Interval is the least time between two captures, across all
	// statements, so that a burst of slow queries costs one EXPLAIN.
	// Zero means one minute; negative is an error.
	Interval time.Duration
	// Timeout bounds one EXPLAIN, connection acquisition included. Zero
	// means 5 seconds; negative is an error.
	Timeout time.Duration
	// MaxShapes bounds the number of fingerprints whose plan is
	// captured; each fingerprint's plan is captured once. Zero means 1000;
	// negative is an error.
	MaxShapes int
}

// Querier runs one query and returns its row. *pgxpool.Pool and *pgx.Conn
// satisfy it.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Hooks are called by a [Tracer]; each is nil by default.
type Hooks struct {
	// OnSlowQuery is called after a slow query, batch or copy was logged.
	OnSlowQuery func(ctx context.Context, q SlowQuery)
	// OnPlan is called when a plan capture ends, with its plan or error.
	OnPlan func(ctx context.Context, p Plan)
}

// SlowQuery describes a query that took at least the SlowThreshold.
type SlowQuery struct {
	// Operation is the db.operation.name ("SELECT", "BATCH", "COPY"), ""
	// when unknown.
	Operation string
	// Fingerprint is the statement's [Fingerprint] ("" for a batch of
	// several statements).
	Fingerprint string
	Duration    time.Duration
	// Rows is the number of rows the command tag reports (returned by a
	// SELECT, affected by an INSERT, UPDATE or DELETE, copied by COPY).
	Rows int64
	Err  error
	// TraceID is the trace of the query's span, zero without one.
	TraceID trace.TraceID
}

// Plan is a captured query plan.
type Plan struct {
	Fingerprint string
	// JSON is the output of EXPLAIN (FORMAT JSON), nil when Err is set.
	JSON []byte
	Err  error
	// TraceID is the trace of the slow query that caused the capture.
	TraceID trace.TraceID
}

const (
	defaultExplainInterval = time.Minute
	defaultExplainTimeout  = 5 * time.Second
	defaultMaxShapes       = 1000
)

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	bad := func(field, why string) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, why)
	}
	switch {
	case c.SlowThreshold < 0:
		return bad("SlowThreshold", "is negative")
	case c.Explain.Interval < 0:
		return bad("Explain.Interval", "is negative")
	case c.Explain.Timeout < 0:
		return bad("Explain.Timeout", "is negative")
	case c.Explain.MaxShapes < 0:
		return bad("Explain.MaxShapes", "is negative")
	case c.Explain.DB != nil && c.SlowThreshold == 0:
		return bad("Explain.DB", "is set without a SlowThreshold: no query would be explained")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Explain.Interval == 0 {
		c.Explain.Interval = defaultExplainInterval
	}
	if c.Explain.Timeout == 0 {
		c.Explain.Timeout = defaultExplainTimeout
	}
	if c.Explain.MaxShapes == 0 {
		c.Explain.MaxShapes = defaultMaxShapes
	}
	return c, nil
}
