package pgxobserve_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/pgxobserve"
)

// harness is a pool traced by a Tracer whose spans, metrics and logs the
// test reads back.
type harness struct {
	pool    *pgxpool.Pool
	base    *pgxpool.Pool // untraced, on the same schema
	tracer  *pgxobserve.Tracer
	spans   *tracetest.SpanRecorder
	metrics *otelhooktest.Recorder
	logs    *logRecorder
}

func newHarness(t *testing.T, cfg pgxobserve.Config) *harness {
	t.Helper()
	base := testenv.Postgres(t)
	h := &harness{base: base, spans: tracetest.NewSpanRecorder(), metrics: otelhooktest.NewRecorder(t, "pgxobserve"), logs: &logRecorder{}}
	cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	cfg.MeterProvider = h.metrics.MP
	cfg.Logger = slog.New(h.logs)
	var err error
	h.tracer, err = pgxobserve.New(cfg)
	require.NoError(t, err)
	pcfg := base.Config()
	pcfg.ConnConfig.Tracer = h.tracer
	pcfg.MaxConns = 4
	h.pool, err = pgxpool.NewWithConfig(context.Background(), pcfg)
	require.NoError(t, err)
	t.Cleanup(h.pool.Close)
	t.Cleanup(func() { _ = h.tracer.Close() })
	_, err = base.Exec(context.Background(), "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
	require.NoError(t, err)
	return h
}

// span returns the one ended span named name.
func (h *harness) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range h.spans.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q", name)
	return found[0]
}

func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// logRecorder is a slog handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// messages returns the attributes of every record with message msg.
func (l *logRecorder) messages(msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
		out = append(out, m)
	}
	return out
}

func (l *logRecorder) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, r := range l.records {
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.Key + "=" + a.Value.String()); return true })
		b.WriteString("\n")
	}
	return b.String()
}

func TestTracer_QuerySpanAndMetricFollowTheConventions(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{})
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	require.NoError(t, err)
	rows, err := h.pool.Query(ctx, "SELECT id FROM items WHERE id IN (1, 2, 3) AND name <> $1", "zz")
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	require.Len(t, ids, 3)

	s := h.span(t, "SELECT items")
	a := attrs(s)
	assert.Equal(t, "postgresql", a["db.system.name"].AsString())
	assert.Equal(t, "SELECT", a["db.operation.name"].AsString())
	assert.Equal(t, "items", a["db.collection.name"].AsString())
	assert.Equal(t, "SELECT id FROM items WHERE id IN (...) AND name <> $1", a["db.query.text"].AsString())
	assert.Equal(t, int64(3), a["bedrock.db.rows_affected"].AsInt64())
	assert.Equal(t, int64(3), a["db.response.returned_rows"].AsInt64())
	assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
	assert.Equal(t, int64(5432), a["server.port"].AsInt64())
	assert.Equal(t, "test", a["db.namespace"].AsString())
	assert.Equal(t, "client", strings.ToLower(s.SpanKind().String()))
	assert.Equal(t, codes.Unset, s.Status().Code)

	insert := attrs(h.span(t, "INSERT items"))
	assert.Equal(t, "INSERT INTO items VALUES (...)", insert["db.query.text"].AsString())
	assert.Equal(t, int64(3), insert["bedrock.db.rows_affected"].AsInt64())

	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["bedrock.db.query.fingerprint=SELECT id FROM items WHERE id IN (...) AND name <> $1,"+
		"db.collection.name=items,db.operation.name=SELECT,db.system.name=postgresql"], "%v", counts)
	assert.Equal(t, uint64(1), counts["bedrock.db.query.fingerprint=INSERT INTO items VALUES (...),"+
		"db.collection.name=items,db.operation.name=INSERT,db.system.name=postgresql"], "%v", counts)
}

func TestTracer_ServerErrorCarriesItsSQLSTATE(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{})
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, "INSERT INTO items VALUES ($1, $2)", 1, "a")
	require.NoError(t, err)
	_, err = h.pool.Exec(ctx, "INSERT INTO items VALUES ($1, $2)", 1, "secret-name")
	require.Error(t, err)

	var failed sdktrace.ReadOnlySpan
	for _, s := range h.spans.Ended() {
		if s.Name() == "INSERT items" && s.Status().Code == codes.Error {
			failed = s
		}
	}
	require.NotNil(t, failed)
	a := attrs(failed)
	assert.Equal(t, "23505", a["db.response.status_code"].AsString())
	assert.Equal(t, "23505", a["error.type"].AsString())
	assert.Equal(t, "SQLSTATE 23505", failed.Status().Description, "the message may quote a value")

	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["bedrock.db.query.fingerprint=INSERT INTO items VALUES (...),"+
		"db.collection.name=items,db.operation.name=INSERT,db.response.status_code=23505,"+
		"db.system.name=postgresql,error.type=23505"], "%v", counts)
}

func TestTracer_ParameterValuesAndLiteralsNeverReachSpans(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{SlowThreshold: time.Nanosecond})
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, "INSERT INTO items VALUES ($1, $2)", 1, "secret-param")
	require.NoError(t, err)
	_, err = h.pool.Exec(ctx, "UPDATE items SET name = 'secret-literal' WHERE id = 1")
	require.NoError(t, err)

	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.String(), "secret", "span %s attribute %s", s.Name(), kv.Key)
		}
	}
	assert.NotContains(t, h.logs.all(), "secret", "the slow-query log, without LogParameters")
}

func TestTracer_RawQueryTextKeepsTheStatementButNotTheParameters(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{RawQueryText: true})
	_, err := h.pool.Exec(context.Background(), "INSERT INTO items VALUES ($1, 'x')", 1)
	require.NoError(t, err)
	assert.Equal(t, "INSERT INTO items VALUES ($1, 'x')", attrs(h.span(t, "INSERT items"))["db.query.text"].AsString())
}

func TestTracer_Batch(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{})
	b := &pgx.Batch{}
	for i := range 3 {
		b.Queue("INSERT INTO items VALUES ($1, $2)", i, "n")
	}
	require.NoError(t, h.pool.SendBatch(context.Background(), b).Close())

	s := h.span(t, "BATCH INSERT")
	a := attrs(s)
	assert.Equal(t, int64(3), a["db.operation.batch.size"].AsInt64())
	assert.Equal(t, int64(3), a["bedrock.db.rows_affected"].AsInt64())
	require.Len(t, s.Events(), 3)
	for _, e := range s.Events() {
		assert.Equal(t, "db.batch.query", e.Name)
	}
	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["db.operation.name=BATCH INSERT,db.system.name=postgresql"], "%v", counts)
}

func TestTracer_CopyFrom(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{})
	n, err := h.pool.CopyFrom(context.Background(), pgx.Identifier{"items"}, []string{"id", "name"},
		pgx.CopyFromRows([][]any{{1, "a"}, {2, "b"}}))
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	a := attrs(h.span(t, "COPY items"))
	assert.Equal(t, "COPY", a["db.operation.name"].AsString())
	assert.Equal(t, int64(2), a["bedrock.db.rows_affected"].AsInt64())
}

func TestTracer_PrepareAndConnect(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{})
	ctx := context.Background()
	conn, err := h.pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Conn().Prepare(ctx, "by_id", "SELECT name FROM items WHERE id = $1")
	require.NoError(t, err)

	p := attrs(h.span(t, "PREPARE items"))
	assert.Equal(t, "SELECT name FROM items WHERE id = $1", p["db.query.text"].AsString())
	assert.Equal(t, "by_id", p["bedrock.db.statement.name"].AsString())

	var connects int
	for _, s := range h.spans.Ended() {
		if s.Name() == "connect" {
			connects++
			a := attrs(s)
			assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
			assert.Equal(t, "test", a["db.namespace"].AsString())
		}
	}
	assert.Equal(t, 1, connects)
	assert.Contains(t, h.metrics.HistogramCounts(t, "db.client.connection.create_time"), "db.system.name=postgresql")
}

func TestTracer_SlowQueryLog(t *testing.T) {
	var slow []pgxobserve.SlowQuery
	h := newHarness(t, pgxobserve.Config{
		// pg_sleep guarantees the duration from below, so the test does
		// not depend on the machine's speed.
		SlowThreshold: 20 * time.Millisecond,
		Hooks: pgxobserve.Hooks{OnSlowQuery: func(_ context.Context, q pgxobserve.SlowQuery) {
			if strings.Contains(q.Fingerprint, "pg_sleep") {
				slow = append(slow, q)
			}
		}},
	})
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, "SELECT pg_sleep(0.05), $1::text", "secret-param")
	require.NoError(t, err)

	var logs []map[string]string
	for _, l := range h.logs.messages("slow query") {
		if strings.Contains(l["statement"], "pg_sleep") {
			logs = append(logs, l)
		}
	}
	require.Len(t, logs, 1, h.logs.all())
	var s sdktrace.ReadOnlySpan
	for _, sp := range h.spans.Ended() {
		if strings.Contains(attrs(sp)["db.query.text"].AsString(), "pg_sleep") {
			s = sp
		}
	}
	require.NotNil(t, s)
	l := logs[0]
	assert.Equal(t, "SELECT pg_sleep(?), $1::text", l["statement"])
	assert.Equal(t, "SELECT", l["db.operation.name"])
	assert.Equal(t, "1", l["rows"])
	assert.Equal(t, s.SpanContext().TraceID().String(), l["trace_id"])
	assert.NotContains(t, l, "parameters")
	d, err := time.ParseDuration(l["duration"])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, d, 50*time.Millisecond)

	require.Len(t, slow, 1)
	assert.Equal(t, "SELECT pg_sleep(?), $1::text", slow[0].Fingerprint)
	assert.Equal(t, s.SpanContext().TraceID(), slow[0].TraceID)
}

func TestTracer_NothingIsLoggedUnderTheThreshold(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{SlowThreshold: time.Hour})
	_, err := h.pool.Exec(context.Background(), "SELECT pg_sleep(0.05)")
	require.NoError(t, err)
	assert.Empty(t, h.logs.messages("slow query"))
}

func TestTracer_SlowQueryLogShowsParametersOnlyWhenConfigured(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{SlowThreshold: time.Nanosecond, LogParameters: true})
	_, err := h.pool.Exec(context.Background(), "SELECT $1::text", "shown-param")
	require.NoError(t, err)
	logs := h.logs.messages("slow query")
	require.NotEmpty(t, logs)
	assert.Contains(t, logs[len(logs)-1]["parameters"], "shown-param")
}

func TestTracer_ExplainCapturesTheSanitizedPlanOnceWithoutTracingIt(t *testing.T) {
	plans := make(chan pgxobserve.Plan, 4)
	var h *harness
	h = newHarness(t, pgxobserve.Config{
		SlowThreshold: 20 * time.Millisecond,
		// The tracer explains on the pool it traces, as a service wires it.
		Explain: pgxobserve.ExplainConfig{DB: func() pgxobserve.Querier { return h.pool }},
		Hooks:   pgxobserve.Hooks{OnPlan: func(_ context.Context, p pgxobserve.Plan) { plans <- p }},
	})
	ctx := context.Background()
	const q = "SELECT pg_sleep(0.05), name FROM items WHERE name = $1 AND id > 7"
	// Untraced, so that the only slow statement is the one under test.
	_, err := h.base.Exec(ctx, "INSERT INTO items VALUES (8, 'secret-param')")
	require.NoError(t, err)
	for range 2 {
		_, err := h.pool.Exec(ctx, q, "secret-param")
		require.NoError(t, err)
	}
	require.NoError(t, h.tracer.Close())

	require.Len(t, plans, 1, "one plan per statement shape; logs:\n%s", h.logs.all())
	p := <-plans
	require.NoError(t, p.Err)
	assert.Equal(t, pgxobserve.Fingerprint(q), p.Fingerprint)
	var plan []map[string]any
	require.NoError(t, json.Unmarshal(p.JSON, &plan), "%s", p.JSON)
	require.Len(t, plan, 1)
	assert.Contains(t, plan[0], "Plan")
	assert.NotContains(t, string(p.JSON), "secret", "parameters are stripped from the plan")
	assert.NotContains(t, string(p.JSON), "> 7", "literals are stripped from the plan")
	assert.Contains(t, string(p.JSON), "items")

	logged := h.logs.messages("query plan")
	require.Len(t, logged, 1)
	assert.Equal(t, string(p.JSON), logged[0]["plan"])
	for _, s := range h.spans.Ended() {
		assert.NotContains(t, s.Name(), "EXPLAIN")
		assert.NotContains(t, attrs(s)["db.query.text"].AsString(), "EXPLAIN")
	}
}

func TestNew_RejectsABadConfig(t *testing.T) {
	tests := []struct {
		name, field string
		cfg         pgxobserve.Config
	}{
		{"negative threshold", "SlowThreshold", pgxobserve.Config{SlowThreshold: -1}},
		{"negative interval", "Explain.Interval", pgxobserve.Config{Explain: pgxobserve.ExplainConfig{Interval: -1}}},
		{"negative timeout", "Explain.Timeout", pgxobserve.Config{Explain: pgxobserve.ExplainConfig{Timeout: -1}}},
		{"negative shapes", "Explain.MaxShapes", pgxobserve.Config{Explain: pgxobserve.ExplainConfig{MaxShapes: -1}}},
		{"explain without threshold", "Explain.DB", pgxobserve.Config{Explain: pgxobserve.ExplainConfig{
			DB: func() pgxobserve.Querier { return nil }}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pgxobserve.New(tt.cfg)
			require.ErrorIs(t, err, pgxobserve.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
	_, err := pgxobserve.New(pgxobserve.Config{})
	assert.NoError(t, err, "the zero Config is valid")
}

func TestTracer_UnderAnUnsampledParentMetricsButNoSpan(t *testing.T) {
	h := newHarness(t, pgxobserve.Config{})
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}}))
	_, err := h.pool.Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	for _, s := range h.spans.Ended() {
		assert.NotEqual(t, "SELECT", s.Name())
	}
	counts := h.metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.Equal(t, uint64(1), counts["bedrock.db.query.fingerprint=SELECT ?,db.operation.name=SELECT,db.system.name=postgresql"], "%v", counts)
}

// With the server down, queries fail as they would untraced; the tracer
// records the failed connection with error.type "connection".
func TestTracer_ServerDown(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	metrics := otelhooktest.NewRecorder(t, "pgxobserve")
	tr, err := pgxobserve.New(pgxobserve.Config{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)), MeterProvider: metrics.MP})
	require.NoError(t, err)
	cfg, err := pgx.ParseConfig("postgres://postgres@" + testenv.ClosedAddr(t) + "/test?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	cfg.Tracer = tr
	_, err = pgx.ConnectConfig(context.Background(), cfg)
	require.Error(t, err)

	var connect sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "connect" {
			connect = s
		}
	}
	require.NotNil(t, connect)
	assert.Equal(t, codes.Error, connect.Status().Code)
	assert.Equal(t, "connection", attrs(connect)["error.type"].AsString())
	assert.Contains(t, metrics.HistogramCounts(t, "db.client.connection.create_time"), "db.system.name=postgresql,error.type=connection")
}

// A plan capture against a server that is down fails, is logged at Warn
// and reported to OnPlan with its error; the slow query itself is not
// affected.
func TestTracer_ExplainWithTheServerDown(t *testing.T) {
	plans := make(chan pgxobserve.Plan, 1)
	dcfg, err := pgxpool.ParseConfig("postgres://postgres@" + testenv.ClosedAddr(t) + "/test?sslmode=disable")
	require.NoError(t, err)
	down, err := pgxpool.NewWithConfig(context.Background(), dcfg)
	require.NoError(t, err)
	t.Cleanup(down.Close)
	h := newHarness(t, pgxobserve.Config{
		SlowThreshold: time.Nanosecond,
		Explain:       pgxobserve.ExplainConfig{DB: func() pgxobserve.Querier { return down }},
		Hooks:         pgxobserve.Hooks{OnPlan: func(_ context.Context, p pgxobserve.Plan) { plans <- p }},
	})
	_, err = h.pool.Exec(context.Background(), "SELECT name FROM items")
	require.NoError(t, err)
	require.NoError(t, h.tracer.Close())
	require.Len(t, plans, 1)
	p := <-plans
	require.Error(t, p.Err)
	assert.Nil(t, p.JSON)
	require.Len(t, h.logs.messages("query plan not captured"), 1)
}
