package pgxobserve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/internal/otelhook"
)

// Attribute keys, from the OpenTelemetry database semantic conventions
// unless they start with bedrock.
const (
	attrSystem          = attribute.Key("db.system.name")
	attrOperation       = attribute.Key("db.operation.name")
	attrCollection      = attribute.Key("db.collection.name")
	attrQueryText       = attribute.Key("db.query.text")
	attrStatusCode      = attribute.Key("db.response.status_code")
	attrReturnedRows    = attribute.Key("db.response.returned_rows")
	attrBatchSize       = attribute.Key("db.operation.batch.size")
	attrNamespace       = attribute.Key("db.namespace")
	attrServerAddress   = attribute.Key("server.address")
	attrServerPort      = attribute.Key("server.port")
	attrErrorType       = otelhook.AttrErrorType
	attrFingerprint     = attribute.Key("bedrock.db.query.fingerprint")
	attrRowsAffected    = attribute.Key("bedrock.db.rows_affected")
	attrPreparedName    = attribute.Key("bedrock.db.statement.name")
	attrAlreadyPrepared = attribute.Key("bedrock.db.statement.already_prepared")
)

var attrSystemPostgres = attrSystem.String("postgresql")

// noSpan stands for the span of an operation whose parent was not
// sampled; its methods do nothing.
var noSpan = trace.SpanFromContext(context.Background())

// connAttrsKey is where the tracer keeps, in a connection's CustomData,
// the server attributes of its spans.
const connAttrsKey = "bedrock.pgxobserve.attrs"

// Tracer traces pgx: it implements [pgx.QueryTracer], [pgx.BatchTracer],
// [pgx.CopyFromTracer], [pgx.PrepareTracer] and [pgx.ConnectTracer].
// Set it as the Tracer of a [pgx.ConnConfig] (for a pool, of
// pgxpool.Config.ConnConfig) before connecting. It is safe for concurrent
// use.
//
// Every query, batch, copy and prepare becomes a client span named
// "{db.operation.name} {db.collection.name}" with the attributes of the
// OpenTelemetry database conventions: db.system.name = "postgresql",
// db.operation.name (the SQL command, unset when the first word is not
// one), db.collection.name (when the statement acts on one table),
// db.query.text (the [Fingerprint] unless Config.RawQueryText; never a
// parameter value), db.response.status_code (the SQLSTATE of a server
// error), error.type, and bedrock.db.rows_affected (the count of the
// command tag; db.response.returned_rows too for SELECT). Connection
// spans ("connect") carry server.address, server.port and db.namespace,
// which the connection's later spans repeat.
//
// Metrics:
//   - db.client.operation.duration (s, histogram): per operation, with
//     db.system.name, db.operation.name, db.collection.name,
//     bedrock.db.query.fingerprint, and error.type and
//     db.response.status_code on failure.
//   - bedrock.db.client.rows_affected ({row}, histogram): the rows of each
//     successful operation, with the same attributes.
//   - db.client.connection.create_time (s, histogram): connection set-up,
//     with error.type on failure.
//
// An operation whose parent span was not sampled makes no span (as the
// default parent-based sampler decides) and costs no span attributes; its
// metrics are recorded all the same.
//
// Fingerprints make the label set bounded by the number of statement
// shapes in the code; past 256 distinct sets (SQL built with inlined
// identifiers), further ones are recorded with the fingerprint "_OTHER".
//
// With a Config.SlowThreshold, it logs slow queries and, with
// Config.Explain, captures their plans; see [ExplainConfig].
type Tracer struct {
	cfg        Config
	tracer     trace.Tracer
	duration   metric.Float64Histogram
	rows       metric.Int64Histogram
	connect    metric.Float64Histogram
	sets       *otelhook.BoundedSets[metricKey]
	statements statements
	explain    *explainer
	keepArgs   bool
}

var (
	_ pgx.QueryTracer    = (*Tracer)(nil)
	_ pgx.BatchTracer    = (*Tracer)(nil)
	_ pgx.CopyFromTracer = (*Tracer)(nil)
	_ pgx.PrepareTracer  = (*Tracer)(nil)
	_ pgx.ConnectTracer  = (*Tracer)(nil)
)

// metricKey is what a metric's attribute set depends on.
type metricKey struct {
	operation, collection, fingerprint, errorType, statusCode string
}

// New returns a Tracer configured by cfg. It fails with an error wrapping
// [ErrInvalidConfig] for a bad cfg, or if the instruments cannot be
// created.
func New(cfg Config) (*Tracer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := otelhook.Meter(cfg.MeterProvider, "pgxobserve")
	duration, err1 := m.Float64Histogram("db.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of database client operations."),
		// The boundaries the database conventions recommend.
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	rows, err2 := m.Int64Histogram("bedrock.db.client.rows_affected", metric.WithUnit("{row}"),
		metric.WithDescription("Rows returned or affected by database client operations."),
		metric.WithExplicitBucketBoundaries(0, 1, 10, 100, 1000, 10000, 100000))
	connect, err3 := m.Float64Histogram("db.client.connection.create_time", metric.WithUnit("s"),
		metric.WithDescription("The time it took to create a new connection."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("pgxobserve: creating the instruments: %w", err)
	}
	t := &Tracer{
		cfg:      cfg,
		tracer:   tp.Tracer(otelhook.ScopePrefix + "/pgxobserve"),
		duration: duration,
		rows:     rows,
		connect:  connect,
		sets:     otelhook.NewBoundedSets(metricSet, foldMetricKey),
		keepArgs: cfg.SlowThreshold > 0 && (cfg.LogParameters || cfg.Explain.DB != nil),
	}
	t.statements.rawText = cfg.RawQueryText
	if cfg.Explain.DB != nil {
		t.explain = newExplainer(cfg)
	}
	return t, nil
}

// Close waits for a plan capture under way, and stops new ones. The
// tracer keeps tracing. Close returns nil; it is safe to call more than
// once.
func (t *Tracer) Close() error {
	if t.explain != nil {
		t.explain.close()
	}
	return nil
}

func metricSet(k metricKey) otelhook.Opts {
	kvs := []attribute.KeyValue{attrSystemPostgres}
	add := func(key attribute.Key, v string) {
		if v != "" {
			kvs = append(kvs, key.String(v))
		}
	}
	add(attrOperation, k.operation)
	add(attrCollection, k.collection)
	add(attrFingerprint, k.fingerprint)
	add(attrErrorType, k.errorType)
	add(attrStatusCode, k.statusCode)
	return otelhook.OptsOf(kvs...)
}

func foldMetricKey(k metricKey) metricKey {
	return metricKey{operation: k.operation, fingerprint: "_OTHER", errorType: k.errorType, statusCode: k.statusCode}
}

// skipKey marks the context of the tracer's own EXPLAIN queries, which it
// does not trace.
type skipKey struct{}

// A span in flight, kept in the context between a Trace*Start and its
// Trace*End.
type inflight struct {
	context.Context
	start time.Time
	span  trace.Span
	st    *statement // nil for a batch, a copy or a connect
	args  []any      // kept only for the slow-query log and plans
	// Batches and copies, which have no statement.
	operation, collection string
	rows                  int64
	batchErr              error
}

type inflightKey struct{}

func (t *Tracer) begin(ctx context.Context, conn *pgx.Conn, name string, f *inflight, attrs ...attribute.KeyValue) context.Context {
	return t.beginWith(ctx, conn, name, f, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// beginWith starts f's span with opts and returns f as the context that
// pgx hands to the matching Trace*End.
func (t *Tracer) beginWith(ctx context.Context, conn *pgx.Conn, name string, f *inflight, opts ...trace.SpanStartOption) context.Context {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !sc.IsSampled() {
		// The parent was not sampled: the sampler would drop this span
		// too, after copying its attributes. The metrics are kept.
		f.Context, f.span = ctx, noSpan
	} else {
		f.Context, f.span = t.tracer.Start(ctx, name, opts...)
	}
	if conn != nil && f.span.IsRecording() {
		if a, ok := conn.PgConn().CustomData()[connAttrsKey].([]attribute.KeyValue); ok {
			f.span.SetAttributes(a...)
		}
	}
	f.start = time.Now()
	return f
}

// Value makes an inflight the context it was started in, plus itself: one
// allocation per query instead of two.
func (f *inflight) Value(key any) any {
	if _, ok := key.(inflightKey); ok {
		return f
	}
	return f.Context.Value(key)
}

func inflightOf(ctx context.Context) *inflight {
	f, _ := ctx.Value(inflightKey{}).(*inflight)
	return f
}

// TraceQueryStart implements [pgx.QueryTracer].
func (t *Tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if ctx.Value(skipKey{}) != nil {
		return ctx
	}
	st := t.statements.get(data.SQL)
	f := &inflight{st: st, operation: st.operation, collection: st.collection}
	if t.keepArgs {
		f.args = data.Args
	}
	return t.beginWith(ctx, conn, st.spanName, f, st.startOpts...)
}

// TraceQueryEnd implements [pgx.QueryTracer].
func (t *Tracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	f := inflightOf(ctx)
	if f == nil {
		return
	}
	t.end(ctx, f, data.CommandTag.RowsAffected(), data.Err)
}

// end ends the span of f and records its metrics and, when slow, its log.
func (t *Tracer) end(ctx context.Context, f *inflight, rows int64, err error) {
	d := time.Since(f.start)
	fingerprint := ""
	if f.st != nil {
		fingerprint = f.st.fingerprint
	}
	k := metricKey{operation: f.operation, collection: f.collection, fingerprint: fingerprint}
	if err != nil {
		k.errorType, k.statusCode = errorType(err)
		f.span.SetAttributes(attrErrorType.String(k.errorType))
		if k.statusCode != "" {
			f.span.SetAttributes(attrStatusCode.String(k.statusCode))
		}
		f.span.SetStatus(codes.Error, errorDescription(err, k))
	} else if f.span.IsRecording() {
		if f.operation == "SELECT" || f.operation == "VALUES" || f.operation == "TABLE" || f.operation == "FETCH" {
			f.span.SetAttributes(attrRowsAffected.Int64(rows), attrReturnedRows.Int64(rows))
		} else {
			f.span.SetAttributes(attrRowsAffected.Int64(rows))
		}
	}
	o := t.sets.Get(k)
	t.duration.Record(ctx, d.Seconds(), o.Record...)
	if err == nil {
		t.rows.Record(ctx, rows, o.Record...)
	}
	if t.cfg.SlowThreshold > 0 && d >= t.cfg.SlowThreshold {
		t.slow(ctx, f, d, rows, err)
	}
	f.span.End()
}

// errorType returns the error.type and db.response.status_code of err:
// the SQLSTATE of a server error, or a class of client error.
func errorType(err error) (string, string) {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Code, pgErr.Code
	case errors.Is(err, context.Canceled):
		return "canceled", ""
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded", ""
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) {
		return "connection", ""
	}
	return "_OTHER", ""
}

// errorDescription is the span status of a failure. A server error's
// message may quote a value ("invalid input syntax for type integer:
// "abc""), so a span says only its SQLSTATE; the slow-query log, which a
// service keeps closer, has the message.
func errorDescription(err error, k metricKey) string {
	if k.statusCode != "" {
		return "SQLSTATE " + k.statusCode
	}
	return err.Error()
}

// TraceBatchStart implements [pgx.BatchTracer]. A batch is one span,
// "BATCH {operation}" when all its statements share the operation,
// "BATCH" otherwise, with db.operation.batch.size; each statement adds an
// event db.batch.query with its query text, operation, rows and error.
func (t *Tracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if ctx.Value(skipKey{}) != nil {
		return ctx
	}
	op, size := "BATCH", 0
	if data.Batch != nil {
		size = data.Batch.Len()
		op = batchOperation(t, data.Batch.QueuedQueries)
	}
	f := &inflight{operation: op}
	return t.begin(ctx, conn, op, f, attrSystemPostgres, attrOperation.String(op), attrBatchSize.Int(size))
}

func batchOperation(t *Tracer, queries []*pgx.QueuedQuery) string {
	common := ""
	for i, q := range queries {
		op := t.statements.get(q.SQL).operation
		if op == "" || (i > 0 && op != common) {
			return "BATCH"
		}
		common = op
	}
	if common == "" {
		return "BATCH"
	}
	return "BATCH " + common
}

// TraceBatchQuery implements [pgx.BatchTracer].
func (t *Tracer) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	f := inflightOf(ctx)
	if f == nil {
		return
	}
	f.rows += data.CommandTag.RowsAffected()
	if data.Err != nil && f.batchErr == nil {
		f.batchErr = data.Err
	}
	if !f.span.IsRecording() {
		return
	}
	st := t.statements.get(data.SQL)
	attrs := append(make([]attribute.KeyValue, 0, len(st.attrs)+2), st.attrs...)
	attrs = append(attrs, attrRowsAffected.Int64(data.CommandTag.RowsAffected()))
	if data.Err != nil {
		et, _ := errorType(data.Err)
		attrs = append(attrs, attrErrorType.String(et))
	}
	f.span.AddEvent("db.batch.query", trace.WithAttributes(attrs...))
}

// TraceBatchEnd implements [pgx.BatchTracer].
func (t *Tracer) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	f := inflightOf(ctx)
	if f == nil {
		return
	}
	err := data.Err
	if err == nil {
		err = f.batchErr
	}
	t.end(ctx, f, f.rows, err)
}

// TraceCopyFromStart implements [pgx.CopyFromTracer]: a span "COPY
// {table}".
func (t *Tracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	if ctx.Value(skipKey{}) != nil {
		return ctx
	}
	table := strings.Join(data.TableName, ".")
	f := &inflight{operation: "COPY", collection: table}
	return t.begin(ctx, conn, spanName("COPY", table), f,
		attrSystemPostgres, attrOperation.String("COPY"), attrCollection.String(table))
}

// TraceCopyFromEnd implements [pgx.CopyFromTracer].
func (t *Tracer) TraceCopyFromEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromEndData) {
	if f := inflightOf(ctx); f != nil {
		t.end(ctx, f, data.CommandTag.RowsAffected(), data.Err)
	}
}

// TracePrepareStart implements [pgx.PrepareTracer]: a span "PREPARE" with
// the statement's query text and name. pgx prepares the statements it
// caches without calling it; it traces explicit Prepare calls.
func (t *Tracer) TracePrepareStart(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	if ctx.Value(skipKey{}) != nil {
		return ctx
	}
	st := t.statements.get(data.SQL)
	f := &inflight{operation: "PREPARE", collection: st.collection}
	attrs := []attribute.KeyValue{attrSystemPostgres, attrOperation.String("PREPARE"),
		attrQueryText.String(st.text), attrPreparedName.String(data.Name)}
	if st.collection != "" {
		attrs = append(attrs, attrCollection.String(st.collection))
	}
	return t.begin(ctx, conn, spanName("PREPARE", st.collection), f, attrs...)
}

// TracePrepareEnd implements [pgx.PrepareTracer].
func (t *Tracer) TracePrepareEnd(ctx context.Context, conn *pgx.Conn, data pgx.TracePrepareEndData) {
	if f := inflightOf(ctx); f != nil {
		f.span.SetAttributes(attrAlreadyPrepared.Bool(data.AlreadyPrepared))
		t.end(ctx, f, 0, data.Err)
	}
}

// TraceConnectStart implements [pgx.ConnectTracer]: a span "connect" with
// server.address, server.port and db.namespace.
func (t *Tracer) TraceConnectStart(ctx context.Context, data pgx.TraceConnectStartData) context.Context {
	f := &inflight{}
	var attrs []attribute.KeyValue
	if c := data.ConnConfig; c != nil {
		attrs = serverAttrs(c.Host, c.Port, c.Database)
	}
	return t.begin(ctx, nil, "connect", f, append(attrs, attrSystemPostgres)...)
}

func serverAttrs(host string, port uint16, database string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attrServerAddress.String(host), attrServerPort.Int(int(port))}
	if database != "" {
		attrs = append(attrs, attrNamespace.String(database))
	}
	return attrs
}

// TraceConnectEnd implements [pgx.ConnectTracer].
func (t *Tracer) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	f := inflightOf(ctx)
	if f == nil {
		return
	}
	d := time.Since(f.start)
	if data.Err != nil {
		et, _ := errorType(data.Err)
		f.span.SetAttributes(attrErrorType.String(et))
		f.span.SetStatus(codes.Error, data.Err.Error())
		t.connect.Record(ctx, d.Seconds(), metric.WithAttributes(attrSystemPostgres, attrErrorType.String(et)))
	} else {
		t.connect.Record(ctx, d.Seconds(), metric.WithAttributes(attrSystemPostgres))
		if data.Conn != nil {
			c := data.Conn.Config()
			data.Conn.PgConn().CustomData()[connAttrsKey] = serverAttrs(c.Host, c.Port, c.Database)
		}
	}
	f.span.End()
}

// traceIDs returns the trace and span ids of the span in ctx, for logs.
func traceIDs(ctx context.Context) (trace.TraceID, string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return trace.TraceID{}, ""
	}
	return sc.TraceID(), sc.SpanID().String()
}
