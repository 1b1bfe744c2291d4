package pgxobserve

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDB answers EXPLAIN with a fixed plan, or blocks until its context
// ends when block is set.
type fakeDB struct {
	mu    sync.Mutex
	sqls  []string
	args  [][]any
	block bool
}

func (d *fakeDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	d.mu.Lock()
	d.sqls, d.args = append(d.sqls, sql), append(d.args, args)
	block := d.block
	d.mu.Unlock()
	if block {
		<-ctx.Done()
		return row{err: ctx.Err()}
	}
	return row{plan: `[{"Plan": {"Node Type": "Seq Scan", "Filter": "(name = 'x'::text)"}}]`}
}

type row struct {
	plan string
	err  error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	*dest[0].(*string) = r.plan
	return nil
}

// explainHarness is a Tracer whose explainer runs on a fake clock and a
// fake database.
func explainHarness(t *testing.T, db *fakeDB, ec ExplainConfig) (*Tracer, chan Plan, *time.Time) {
	plans := make(chan Plan, 8)
	ec.DB = func() Querier { return db }
	tr, err := New(Config{SlowThreshold: time.Millisecond, Explain: ec,
		Hooks: Hooks{OnPlan: func(_ context.Context, p Plan) { plans <- p }}})
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.explain.now = func() time.Time { return now }
	return tr, plans, &now
}

func TestExplainer_OncePerShapeAndAtMostOncePerInterval(t *testing.T) {
	db := &fakeDB{}
	tr, plans, now := explainHarness(t, db, ExplainConfig{Interval: time.Minute})
	a, b := analyze("SELECT * FROM t WHERE a = $1", false), analyze("SELECT * FROM u", false)
	try := func(st *statement) bool {
		tr.explain.maybe(tr, st, []any{pgx.QueryExecModeSimpleProtocol, 1}, [16]byte{})
		tr.explain.wg.Wait()
		select {
		case <-plans:
			return true
		default:
			return false
		}
	}
	assert.True(t, try(a), "the first slow query is explained")
	assert.False(t, try(b), "another shape within the interval is not")
	*now = now.Add(time.Minute)
	assert.False(t, try(a), "a shape already explained is not explained again")
	assert.True(t, try(b), "another shape after the interval is")
	require.NoError(t, tr.Close())
	*now = now.Add(time.Hour)
	assert.False(t, try(analyze("SELECT * FROM v", false)), "nothing after Close")

	require.Len(t, db.sqls, 2)
	assert.Equal(t, "EXPLAIN (ANALYZE false, FORMAT JSON) SELECT * FROM t WHERE a = $1", db.sqls[0])
	assert.Equal(t, []any{pgx.QueryExecModeDescribeExec, 1}, db.args[0], "the caller's protocol option is replaced")
}

func TestExplainer_MaxShapesBoundsTheCaptures(t *testing.T) {
	db := &fakeDB{}
	tr, plans, now := explainHarness(t, db, ExplainConfig{Interval: time.Second, MaxShapes: 1})
	tr.explain.maybe(tr, analyze("SELECT 1", false), nil, [16]byte{})
	*now = now.Add(time.Hour)
	tr.explain.wg.Wait()
	tr.explain.maybe(tr, analyze("SELECT 2 FROM t", false), nil, [16]byte{})
	require.NoError(t, tr.Close())
	assert.Len(t, plans, 1)
}

func TestExplainer_PlanIsSanitizedUnlessParametersAreLogged(t *testing.T) {
	for _, logParameters := range []bool{false, true} {
		plans := make(chan Plan, 1)
		db := &fakeDB{}
		tr, err := New(Config{SlowThreshold: time.Millisecond, LogParameters: logParameters,
			Explain: ExplainConfig{DB: func() Querier { return db }},
			Hooks:   Hooks{OnPlan: func(_ context.Context, p Plan) { plans <- p }}})
		require.NoError(t, err)
		tr.explain.maybe(tr, analyze("SELECT 1", false), nil, [16]byte{})
		require.NoError(t, tr.Close())
		p := <-plans
		if logParameters {
			assert.Contains(t, string(p.JSON), "'x'")
		} else {
			assert.JSONEq(t, `[{"Plan": {"Node Type": "Seq Scan", "Filter": "(name = ?::text)"}}]`, string(p.JSON))
		}
	}
}

func TestExplainer_CaptureIsBoundedInTimeAndOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{block: true}
		tr, plans, _ := explainHarness(t, db, ExplainConfig{Timeout: 3 * time.Second, Interval: time.Nanosecond})
		start := time.Now()
		tr.explain.maybe(tr, analyze("SELECT 1", false), nil, [16]byte{})
		synctest.Wait()
		tr.explain.now = func() time.Time { return start.Add(time.Hour) }
		tr.explain.maybe(tr, analyze("SELECT 2", false), nil, [16]byte{})
		p := <-plans
		assert.True(t, errors.Is(p.Err, context.DeadlineExceeded), "%v", p.Err)
		assert.Equal(t, 3*time.Second, time.Since(start))
		require.NoError(t, tr.Close())
		assert.Len(t, db.sqls, 1, "a second capture does not start while one runs")
	})
}
