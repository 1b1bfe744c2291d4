package txn

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDo_AllocationBudget pins the cost of Do itself, with a driver that
// allocates nothing: one allocation for the state that is both the
// transaction's context and its bookkeeping, whatever the options.
func TestDo_AllocationBudget(t *testing.T) {
	db := &fakeDB{}
	db.reuse = &fakeTx{db: db}
	m := &Runner{db: fakeFullDB{db}}
	var err error
	m.cfg, err = Config{}.resolve()
	require.NoError(t, err)
	ctx := context.Background()
	fn := func(ctx context.Context, tx pgx.Tx) error {
		if _, ok := From(ctx); !ok {
			return ErrNoTransaction
		}
		return nil
	}
	cases := []struct {
		name string
		run  func()
	}{
		{"Runner.Do", func() { _ = m.Do(ctx, fn) }},
		{"Runner.Do with options", func() { _ = m.Do(ctx, fn, Serializable, ReadWrite, MaxAttempts(3), Label("x")) }},
		{"package Do", func() { _ = Do(ctx, db, fn) }},
		{"package Do with options", func() { _ = Do(ctx, db, fn, RepeatableRead, ReadOnly) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run()
			assert.Equal(t, 0, db.rollbacks)
			assert.LessOrEqual(t, testing.AllocsPerRun(100, tc.run), 1.0)
		})
	}
	t.Run("QuerierFrom and From", func(t *testing.T) {
		var q Querier = fakeFullDB{db}
		st := &state{Context: ctx, tx: db.reuse}
		st.root = st
		assert.Zero(t, testing.AllocsPerRun(100, func() {
			_ = QuerierFrom(st, q)
			_, _ = From(st)
			_ = QuerierFrom(ctx, q)
		}))
	})
}

func BenchmarkDo_Overhead(b *testing.B) {
	db := &fakeDB{}
	db.reuse = &fakeTx{db: db}
	ctx := context.Background()
	fn := func(context.Context, pgx.Tx) error { return nil }
	b.Run("txn.Do", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Do(ctx, db, fn, Serializable)
		}
	})
	b.Run("pgx.BeginTxFunc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = pgx.BeginTxFunc(ctx, db, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(pgx.Tx) error { return nil })
		}
	})
}

func BenchmarkQuerierFrom(b *testing.B) {
	db := &fakeDB{}
	st := &state{Context: context.Background(), tx: &fakeTx{db: db}}
	st.root = st
	var q Querier = fakeFullDB{db}
	b.ReportAllocs()
	for b.Loop() {
		_ = QuerierFrom(st, q)
	}
}
