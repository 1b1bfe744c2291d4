package pgxobserve

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// slow logs a slow query, calls OnSlowQuery and may start a plan capture.
func (t *Tracer) slow(ctx context.Context, f *inflight, d time.Duration, rows int64, err error) {
	traceID, spanID := traceIDs(ctx)
	q := SlowQuery{Operation: f.operation, Duration: d, Rows: rows, Err: err, TraceID: traceID}
	attrs := make([]slog.Attr, 0, 10)
	if f.operation != "" {
		attrs = append(attrs, slog.String("db.operation.name", f.operation))
	}
	if f.collection != "" {
		attrs = append(attrs, slog.String("db.collection.name", f.collection))
	}
	if f.st != nil {
		q.Fingerprint = f.st.fingerprint
		attrs = append(attrs, slog.String("statement", f.st.text))
	}
	attrs = append(attrs, slog.Duration("duration", d), slog.Duration("threshold", t.cfg.SlowThreshold),
		slog.Int64("rows", rows))
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if t.cfg.LogParameters && f.args != nil {
		attrs = append(attrs, slog.Any("parameters", f.args))
	}
	if traceID.IsValid() {
		attrs = append(attrs, slog.String("trace_id", traceID.String()), slog.String("span_id", spanID))
	}
	t.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "slow query", attrs...)
	if h := t.cfg.Hooks.OnSlowQuery; h != nil {
		h(ctx, q)
	}
	if t.explain != nil && f.st != nil && f.st.explainable && err == nil {
		t.explain.maybe(t, f.st, f.args, traceID)
	}
}

// explainer captures plans, one at a time, at most one per Interval and
// once per fingerprint.
type explainer struct {
	cfg           ExplainConfig
	logParameters bool
	now           func() time.Time

	mu     sync.Mutex
	next   time.Time // the earliest time of the next capture
	shapes map[string]struct{}
	busy   bool
	closed bool
	wg     sync.WaitGroup
}

func newExplainer(cfg Config) *explainer {
	return &explainer{cfg: cfg.Explain, logParameters: cfg.LogParameters, now: time.Now, shapes: make(map[string]struct{})}
}

// maybe starts the capture of st's plan if the limits allow it.
func (e *explainer) maybe(t *Tracer, st *statement, args []any, traceID [16]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if _, done := e.shapes[st.fingerprint]; e.closed || e.busy || done ||
		now.Before(e.next) || len(e.shapes) >= e.cfg.MaxShapes {
		return
	}
	e.shapes[st.fingerprint] = struct{}{}
	e.busy, e.next = true, now.Add(e.cfg.Interval)
	// The parameters without the options pgx reads from their head: the
	// capture chooses its own protocol.
	params := make([]any, 1, len(args)+1)
	params[0] = pgx.QueryExecModeDescribeExec
	for len(args) > 0 {
		if _, ok := args[0].(pgx.QueryExecMode); !ok {
			break
		}
		args = args[1:]
	}
	params = append(params, args...)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		p := e.capture(st, params)
		p.TraceID = traceID
		t.logPlan(p)
		e.mu.Lock()
		e.busy = false
		e.mu.Unlock()
	}()
}

// capture runs EXPLAIN (FORMAT JSON) of st with params, on a context of its
// own: the slow query's request may be over.
func (e *explainer) capture(st *statement, params []any) Plan {
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), skipKey{}, true), e.cfg.Timeout)
	defer cancel()
	p := Plan{Fingerprint: st.fingerprint}
	var plan string
	// The extended protocol (DescribeExec) refuses a text of several
	// statements, and multiStatement kept those out besides.
	if err := e.cfg.DB().QueryRow(ctx, "EXPLAIN (ANALYZE false, FORMAT JSON) "+st.sql, params...).Scan(&plan); err != nil {
		p.Err = err
		return p
	}
	p.JSON = []byte(plan)
	if !e.logParameters {
		p.JSON = sanitizePlan(p.JSON)
	}
	return p
}

// sanitizePlan strips the literals from every string of a JSON plan. A
// plan's conditions quote the values they compare with ("(email =
// 'a@b.example'::text)"), parameters included, which the log must not keep
// unless Config.LogParameters; names (relations, indexes, node types) are
// identifiers, which Fingerprint keeps. A plan that is not JSON is
// returned as null.
func sanitizePlan(plan []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(plan))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return []byte("null")
	}
	out, err := json.Marshal(sanitizeValue(v))
	if err != nil {
		return []byte("null")
	}
	return out
}

func sanitizeValue(v any) any {
	switch v := v.(type) {
	case string:
		return Fingerprint(v)
	case []any:
		for i := range v {
			v[i] = sanitizeValue(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = sanitizeValue(v[k])
		}
	}
	return v
}

func (t *Tracer) logPlan(p Plan) {
	ctx := context.Background()
	attrs := []slog.Attr{slog.String("fingerprint", p.Fingerprint)}
	if p.TraceID.IsValid() {
		attrs = append(attrs, slog.String("trace_id", p.TraceID.String()))
	}
	if p.Err != nil {
		t.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "query plan not captured", append(attrs, slog.String("error", p.Err.Error()))...)
	} else {
		t.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "query plan", append(attrs, slog.String("plan", string(p.JSON)))...)
	}
	if h := t.cfg.Hooks.OnPlan; h != nil {
		h(ctx, p)
	}
}

func (e *explainer) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.wg.Wait()
}
