package txn_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
)

func TestDo_CommitsOnNilAndRollsBackOnError(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	boom := errors.New("boom")
	cases := []struct {
		name    string
		id      int
		ret     error
		wantRow bool
	}{
		{"nil commits", 1, nil, true},
		{"error rolls back", 2, boom, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO items VALUES ($1)", tc.id)
				require.NoError(t, err)
				return tc.ret
			})
			assert.ErrorIs(t, err, tc.ret)
			if tc.ret == nil {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.wantRow, count(t, pool, "SELECT count(*) FROM items WHERE id = $1", tc.id) == 1)
			assert.Zero(t, pool.Stat().AcquiredConns(), "the connection is back in the pool")
		})
	}
}

func TestDo_OptionsReachTheServer(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	cases := []struct {
		name                        string
		opts                        []txn.Option
		isolation, readOnly, defer_ string
	}{
		{"defaults", nil, "read committed", "off", "off"},
		{"read committed", []txn.Option{txn.ReadCommitted}, "read committed", "off", "off"},
		{"repeatable read", []txn.Option{txn.RepeatableRead}, "repeatable read", "off", "off"},
		{"serializable", []txn.Option{txn.Serializable}, "serializable", "off", "off"},
		{"read only", []txn.Option{txn.ReadOnly}, "read committed", "on", "off"},
		{"read write", []txn.Option{txn.ReadWrite}, "read committed", "off", "off"},
		{"serializable read only deferrable", []txn.Option{txn.Serializable, txn.ReadOnly, txn.Deferrable(true)}, "serializable", "on", "on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var iso, ro, def string
			err := txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
				return tx.QueryRow(ctx, "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), current_setting('transaction_deferrable')").
					Scan(&iso, &ro, &def)
			}, tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.isolation, iso)
			assert.Equal(t, tc.readOnly, ro)
			assert.Equal(t, tc.defer_, def)
		})
	}
}

func TestDo_TimeoutsAreSetLocally(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	var lock, stmt string
	err := txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')").Scan(&lock, &stmt)
	}, txn.LockTimeout(1500*time.Microsecond), txn.StatementTimeout(3*time.Second))
	require.NoError(t, err)
	assert.Equal(t, "2ms", lock, "sub-millisecond parts round up, never down to 0 (no timeout)")
	assert.Equal(t, "3s", stmt)
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT current_setting('lock_timeout')").Scan(&lock))
	assert.Equal(t, "0", lock, "SET LOCAL ends with the transaction")

	err = txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT pg_sleep(1)")
		return err
	}, txn.StatementTimeout(20*time.Millisecond))
	assert.Equal(t, "57014", txn.SQLState(err), "statement_timeout cancels the statement: %v", err)
}

func TestDo_InvalidOptionsAreRejectedBeforeBegin(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	cases := []struct {
		name string
		opt  txn.Option
	}{
		{"unknown isolation", txn.Isolation(9)},
		{"unknown access mode", txn.AccessMode(7)},
		{"zero attempts", txn.MaxAttempts(0)},
		{"negative lock timeout", txn.LockTimeout(-time.Second)},
		{"negative statement timeout", txn.StatementTimeout(-time.Second)},
		{"nil option", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			err := txn.Do(context.Background(), pool, func(context.Context, pgx.Tx) error { ran = true; return nil }, tc.opt)
			assert.ErrorIs(t, err, txn.ErrInvalidConfig)
			assert.False(t, ran)
		})
	}
	assert.ErrorIs(t, txn.Do(context.Background(), nil, func(context.Context, pgx.Tx) error { return nil }), txn.ErrInvalidConfig)
	assert.ErrorIs(t, txn.Do(context.Background(), pool, nil), txn.ErrInvalidConfig)
}

// increment is a read-modify-write that loses updates unless the isolation
// level (with retries) prevents it.
func increment(ctx context.Context, tx pgx.Tx) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "UPDATE counter SET n = $1 WHERE id = 1", n+1)
	return err
}

// fullLostUpdate runs the lost-update test at the size of its
// specification, 64 goroutines × 200 increments, which takes minutes under
// -race on a small machine; by default it runs 64 × 10, enough to force
// hundreds of serialization failures.
func fullLostUpdate() bool { return os.Getenv("BEDROCK_TXN_FULL") != "" }

func TestDo_SerializableRetriesPreventLostUpdates(t *testing.T) {
	t.Parallel()
	goroutines, perGoroutine := 64, 10
	if fullLostUpdate() {
		perGoroutine = 200
	}
	pool := newPool(t, 4)
	mustExec(t, pool, "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)")
	mustExec(t, pool, "INSERT INTO counter VALUES (1, 0)")
	var attempts, retries atomic.Int64
	m, err := txn.New(pool, txn.Config{
		Isolation:   txn.Serializable,
		MaxAttempts: 1000,
		MinDelay:    time.Millisecond,
		MaxDelay:    20 * time.Millisecond,
		Hooks: txn.Hooks{
			OnAttempt: func(context.Context, txn.Attempt) { attempts.Add(1) },
			OnRetry: func(_ context.Context, r txn.Retry) {
				retries.Add(1)
				if !txn.IsSerializationFailure(r.Err) {
					t.Errorf("retry for an unexpected error: %v", r.Err)
				}
			},
		},
	})
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				if err := m.Do(context.Background(), increment); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("an error surfaced to the caller: %v", err)
	}
	assert.Equal(t, goroutines*perGoroutine, count(t, pool, "SELECT n FROM counter"))
	assert.Positive(t, retries.Load(), "contention must have caused retries, or the test proves nothing")
	assert.Equal(t, attempts.Load(), int64(goroutines*perGoroutine)+retries.Load())
	t.Logf("%d transactions, %d retries", goroutines*perGoroutine, retries.Load())
}

func TestDo_WithoutRetriesSerializationFailuresSurface(t *testing.T) {
	t.Parallel()
	const goroutines, perGoroutine = 16, 12
	pool := newPool(t, 16)
	mustExec(t, pool, "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)")
	mustExec(t, pool, "INSERT INTO counter VALUES (1, 0)")
	var failures, committed atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				err := txn.Do(context.Background(), pool, increment, txn.Serializable, txn.MaxAttempts(1))
				switch {
				case err == nil:
					committed.Add(1)
				case txn.IsSerializationFailure(err):
					assert.ErrorIs(t, err, txn.ErrRetriesExhausted)
					failures.Add(1)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
		})
	}
	wg.Wait()
	assert.Positive(t, failures.Load(), "without retries the same load must fail")
	assert.Equal(t, int(committed.Load()), count(t, pool, "SELECT n FROM counter"), "no committed increment is lost")
}

func TestDo_WriteSkew(t *testing.T) {
	t.Parallel()
	// Two doctors on call; each may go off call if another stays on. Both
	// check at the same time (the barrier), then both leave.
	cases := []struct {
		name      string
		isolation txn.Isolation
		wantOn    int
		wantRetry bool
	}{
		{"repeatable read lets both leave", txn.RepeatableRead, 0, false},
		{"serializable with retry keeps one", txn.Serializable, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pool := newPool(t, 4)
			mustExec(t, pool, "CREATE TABLE doctors (name text PRIMARY KEY, on_call bool NOT NULL)")
			mustExec(t, pool, "INSERT INTO doctors VALUES ('alice', true), ('bob', true)")
			var retried atomic.Bool
			m, err := txn.New(pool, txn.Config{Isolation: tc.isolation, Hooks: txn.Hooks{
				OnRetry: func(_ context.Context, r txn.Retry) {
					retried.Store(true)
					assert.True(t, txn.IsSerializationFailure(r.Err), "%v", r.Err)
				},
			}})
			require.NoError(t, err)
			b := newBarrier(2)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for _, name := range []string{"alice", "bob"} {
				wg.Go(func() {
					first := true
					err := m.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
						var on int
						if err := tx.QueryRow(ctx, "SELECT count(*) FROM doctors WHERE on_call").Scan(&on); err != nil {
							return err
						}
						if first {
							first = false
							if err := b.wait(ctx); err != nil {
								return err
							}
						}
						if on < 2 {
							return nil // someone must stay
						}
						_, err := tx.Exec(ctx, "UPDATE doctors SET on_call = false WHERE name = $1", name)
						return err
					})
					assert.NoError(t, err)
				})
			}
			wg.Wait()
			assert.Equal(t, tc.wantOn, count(t, pool, "SELECT count(*) FROM doctors WHERE on_call"))
			assert.Equal(t, tc.wantRetry, retried.Load())
		})
	}
}

func TestDo_DeadlockIsRetried(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	mustExec(t, pool, "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
	mustExec(t, pool, "INSERT INTO accounts VALUES (1, 100), (2, 100)")
	var deadlocks atomic.Int32
	m, err := txn.New(pool, txn.Config{Hooks: txn.Hooks{OnRetry: func(_ context.Context, r txn.Retry) {
		if txn.IsDeadlock(r.Err) {
			deadlocks.Add(1)
		}
	}}})
	require.NoError(t, err)
	b := newBarrier(2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, order := range [][2]int{{1, 2}, {2, 1}} {
		wg.Go(func() {
			first := true
			err := m.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
				// Detect the deadlock in 20ms instead of the default 1s.
				if _, err := tx.Exec(ctx, "SET LOCAL deadlock_timeout = '20ms'"); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance - 10 WHERE id = $1", order[0]); err != nil {
					return err
				}
				if first {
					first = false
					if err := b.wait(ctx); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance + 10 WHERE id = $1", order[1])
				return err
			})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), deadlocks.Load(), "exactly one side is chosen as the deadlock victim and retried")
	assert.Equal(t, 200, count(t, pool, "SELECT sum(balance) FROM accounts"))
	assert.Equal(t, 2, count(t, pool, "SELECT count(*) FROM accounts WHERE balance = 100"), "both transfers applied")
}

func TestDo_NestedUsesSavepoints(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	inner := errors.New("inner failed")
	ctx := context.Background()

	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		mustExec(t, tx, "INSERT INTO items VALUES (1)")
		err := txn.Do(ctx, pool, func(ctx context.Context, sp pgx.Tx) error {
			got, ok := txn.From(ctx)
			require.True(t, ok)
			assert.Same(t, sp, got, "the context carries the savepoint")
			mustExec(t, sp, "INSERT INTO items VALUES (2)")
			return inner
		})
		assert.ErrorIs(t, err, inner, "the nested error comes back unchanged")
		err = txn.Do(ctx, pool, func(ctx context.Context, sp pgx.Tx) error {
			mustExec(t, sp, "INSERT INTO items VALUES (3)")
			return txn.Do(ctx, pool, func(ctx context.Context, sp2 pgx.Tx) error {
				mustExec(t, sp2, "INSERT INTO items VALUES (4)")
				return nil
			})
		})
		assert.NoError(t, err)
		// A failed statement in a savepoint leaves the outer transaction
		// usable once rolled back to it.
		err = txn.Do(ctx, pool, func(ctx context.Context, sp pgx.Tx) error {
			_, err := sp.Exec(ctx, "INSERT INTO items VALUES (1)") // duplicate key
			return err
		})
		assert.Equal(t, "23505", txn.SQLState(err))
		mustExec(t, tx, "INSERT INTO items VALUES (5)")
		return nil
	})
	require.NoError(t, err)
	var ids []int
	rows, err := pool.Query(ctx, "SELECT id FROM items ORDER BY id")
	require.NoError(t, err)
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	assert.Equal(t, []int{1, 3, 4, 5}, ids)
}

func TestDo_NestedCannotChangeOptions(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	cases := []struct {
		name    string
		outer   []txn.Option
		inner   []txn.Option
		wantErr bool
	}{
		{"inherit", []txn.Option{txn.Serializable}, nil, false},
		{"same isolation", []txn.Option{txn.Serializable}, []txn.Option{txn.Serializable}, false},
		{"other isolation", []txn.Option{txn.Serializable}, []txn.Option{txn.ReadCommitted}, true},
		{"isolation inside default", nil, []txn.Option{txn.RepeatableRead}, true},
		{"read write inside read only", []txn.Option{txn.ReadOnly}, []txn.Option{txn.ReadWrite}, true},
		{"deferrable", nil, []txn.Option{txn.Deferrable(true)}, true},
		{"lock timeout", nil, []txn.Option{txn.LockTimeout(time.Second)}, true},
		{"statement timeout", nil, []txn.Option{txn.StatementTimeout(time.Second)}, true},
		{"attempts and label are fine", nil, []txn.Option{txn.MaxAttempts(3), txn.Label("x")}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			err := txn.Do(context.Background(), pool, func(ctx context.Context, _ pgx.Tx) error {
				err := txn.Do(ctx, pool, func(context.Context, pgx.Tx) error { ran = true; return nil }, tc.inner...)
				if tc.wantErr {
					assert.ErrorIs(t, err, txn.ErrNestedOptions)
				} else {
					assert.NoError(t, err)
				}
				return nil
			}, tc.outer...)
			require.NoError(t, err)
			assert.Equal(t, !tc.wantErr, ran)
		})
	}
}

func TestDo_PanicRollsBackAndPropagates(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	cases := []struct {
		name   string
		nested bool
	}{
		{"outermost", false},
		{"nested", true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := i + 1
			body := func(ctx context.Context, tx pgx.Tx) error {
				mustExec(t, tx, "INSERT INTO items VALUES ($1)", id)
				panic("kaboom")
			}
			assert.PanicsWithValue(t, "kaboom", func() {
				_ = txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
					if tc.nested {
						return txn.Do(ctx, pool, body)
					}
					return body(ctx, tx)
				})
			})
			assert.Zero(t, count(t, pool, "SELECT count(*) FROM items WHERE id = $1", id))
			assert.Zero(t, pool.Stat().AcquiredConns(), "the connection went back to the pool")
		})
	}
	// The pool still works after the panics.
	require.NoError(t, txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO items VALUES (100)")
		return err
	}))
}

func TestAfterCommit(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	fail := errors.New("fail")
	cases := []struct {
		name string
		body func(ctx context.Context, calls *[]string) error
		want []string
	}{
		{"runs after commit in order", func(ctx context.Context, calls *[]string) error {
			txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "a") })
			txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "b") })
			*calls = append(*calls, "body")
			return nil
		}, []string{"body", "a", "b"}},
		{"not on rollback", func(ctx context.Context, calls *[]string) error {
			txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "a") })
			return fail
		}, nil},
		{"not for a rolled back savepoint", func(ctx context.Context, calls *[]string) error {
			txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "outer") })
			_ = txn.Do(ctx, pool, func(ctx context.Context, _ pgx.Tx) error {
				txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "dropped") })
				return fail
			})
			return txn.Do(ctx, pool, func(ctx context.Context, _ pgx.Tx) error {
				txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "kept") })
				return nil
			})
		}, []string{"outer", "kept"}},
		{"nested callbacks wait for the outermost commit", func(ctx context.Context, calls *[]string) error {
			_ = txn.Do(ctx, pool, func(ctx context.Context, _ pgx.Tx) error {
				txn.AfterCommit(ctx, func(context.Context) { *calls = append(*calls, "nested") })
				return nil
			})
			*calls = append(*calls, "outer body")
			return fail
		}, []string{"outer body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			_ = txn.Do(context.Background(), pool, func(ctx context.Context, _ pgx.Tx) error {
				return tc.body(ctx, &calls)
			})
			assert.Equal(t, tc.want, calls)
		})
	}
	t.Run("the commit is visible to the callback", func(t *testing.T) {
		mustExec(t, pool, "CREATE TABLE seen (id int)")
		visible := -1
		require.NoError(t, txn.Do(context.Background(), pool, func(ctx context.Context, tx pgx.Tx) error {
			txn.AfterCommit(ctx, func(ctx context.Context) {
				_, inTx := txn.From(ctx)
				assert.False(t, inTx, "callbacks get the caller's context, without the finished transaction")
				visible = count(t, pool, "SELECT count(*) FROM seen")
			})
			_, err := tx.Exec(ctx, "INSERT INTO seen VALUES (1)")
			return err
		}))
		assert.Equal(t, 1, visible, "another connection already sees the row")
	})
	t.Run("without a transaction runs at once", func(t *testing.T) {
		ran := false
		txn.AfterCommit(context.Background(), func(context.Context) { ran = true })
		assert.True(t, ran)
	})
}

func TestDo_ContextCancelledMidTransaction(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	ctx, cancel := context.WithCancel(context.Background())
	attempts := 0
	started := time.Now()
	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		mustExec(t, tx, "INSERT INTO items VALUES (1)")
		time.AfterFunc(30*time.Millisecond, cancel)
		_, err := tx.Exec(ctx, "SELECT pg_sleep(5)")
		return err
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(started), 3*time.Second, "cancellation interrupts the statement")
	assert.Equal(t, 1, attempts, "cancellation is never retried")
	assert.Zero(t, count(t, pool, "SELECT count(*) FROM items"))
	assert.Eventually(t, func() bool { return pool.Stat().AcquiredConns() == 0 }, time.Second, time.Millisecond,
		"the connection is returned or destroyed, never leaked")
}

func TestDo_CommitOutcomeUnknown(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	cc := pool.Config().ConnConfig
	p := testenv.NewProxy(t, net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))))
	cases := []struct {
		name      string
		atCommit  testenv.Action
		committed bool
	}{
		{"commit lost on the way", testenv.Drop, false},
		{"reply lost on the way back", testenv.DeliverAndCut, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := connThrough(t, pool, p)
			p.Intercept(func(chunk []byte) testenv.Action {
				if isCommit(chunk) {
					return tc.atCommit
				}
				return testenv.Forward
			})
			defer p.Intercept(nil)
			attempts := 0
			err := txn.Do(context.Background(), conn, func(ctx context.Context, tx pgx.Tx) error {
				attempts++
				_, err := tx.Exec(ctx, "INSERT INTO items VALUES ($1)", i)
				return err
			})
			var unknown *txn.CommitUnknownError
			require.ErrorAs(t, err, &unknown)
			assert.ErrorIs(t, err, txn.ErrCommitUnknown)
			assert.Equal(t, 1, attempts, "an unknown commit is never retried blindly")
			assert.False(t, txn.Retryable(err))
			// The server may still be finishing the commit on its side.
			assert.Eventually(t, func() bool {
				return (count(t, pool, "SELECT count(*) FROM items WHERE id = $1", i) == 1) == tc.committed
			}, 2*time.Second, 5*time.Millisecond)
		})
	}
}

func TestRunner(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	t.Run("config validation", func(t *testing.T) {
		bad := []txn.Config{
			{Isolation: 9},
			{AccessMode: 9},
			{MaxAttempts: -1},
			{MinDelay: -1},
			{MaxDelay: -1},
			{MinDelay: time.Second, MaxDelay: time.Millisecond},
			{LockTimeout: -1},
			{StatementTimeout: -1},
			{RollbackTimeout: -1},
		}
		for i, cfg := range bad {
			_, err := txn.New(pool, cfg)
			assert.ErrorIs(t, err, txn.ErrInvalidConfig, "case %d", i)
		}
		_, err := txn.New(nil, txn.Config{})
		assert.ErrorIs(t, err, txn.ErrInvalidConfig)
		m, err := txn.New(pool, txn.Config{})
		require.NoError(t, err)
		assert.NotNil(t, m)
	})
	t.Run("config defaults apply and options override", func(t *testing.T) {
		m, err := txn.New(pool, txn.Config{Isolation: txn.RepeatableRead, LockTimeout: 250 * time.Millisecond})
		require.NoError(t, err)
		var iso, lock string
		get := func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, "SELECT current_setting('transaction_isolation'), current_setting('lock_timeout')").Scan(&iso, &lock)
		}
		require.NoError(t, m.Do(context.Background(), get))
		assert.Equal(t, "repeatable read", iso)
		assert.Equal(t, "250ms", lock)
		require.NoError(t, m.Do(context.Background(), get, txn.Serializable))
		assert.Equal(t, "serializable", iso)
	})
	t.Run("querier is the transaction inside and the pool outside", func(t *testing.T) {
		m, err := txn.New(pool, txn.Config{})
		require.NoError(t, err)
		assert.Same(t, pool, m.Querier(context.Background()))
		assert.Same(t, pool, txn.QuerierFrom(context.Background(), pool))
		require.NoError(t, m.Do(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
			assert.Same(t, tx, m.Querier(ctx))
			assert.Same(t, tx, txn.QuerierFrom(ctx, pool))
			detached := txn.WithoutTx(ctx)
			_, ok := txn.From(detached)
			assert.False(t, ok)
			assert.Same(t, pool, m.Querier(detached))
			other := testenv.Postgres(t)
			otherM, err := txn.New(other, txn.Config{})
			require.NoError(t, err)
			assert.Same(t, other, otherM.Querier(ctx), "a transaction on another database is not this one's")
			return nil
		}))
	})
}

// repoInsert stands for repository code: it takes no tx parameter.
func repoInsert(ctx context.Context, db txn.Querier, id int) error {
	_, err := txn.QuerierFrom(ctx, db).Exec(ctx, "INSERT INTO items VALUES ($1)", id)
	return err
}

func TestQuerierFrom_RepositoriesJoinTheCallersTransaction(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	err := txn.Do(context.Background(), pool, func(ctx context.Context, _ pgx.Tx) error {
		if err := repoInsert(ctx, pool, 1); err != nil {
			return err
		}
		if err := repoInsert(ctx, pool, 2); err != nil {
			return err
		}
		return errors.New("abort")
	})
	require.Error(t, err)
	assert.Zero(t, count(t, pool, "SELECT count(*) FROM items"), "both inserts were in the rolled back transaction")
	require.NoError(t, repoInsert(context.Background(), pool, 3))
	assert.Equal(t, 1, count(t, pool, "SELECT count(*) FROM items"), "outside a transaction the pool is used")
}

func TestDo_ManyGoroutinesShareOnePoolWithoutInterference(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 8)
	mustExec(t, pool, "CREATE TABLE items (g int, i int, PRIMARY KEY (g, i))")
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 10 {
				err := txn.Do(context.Background(), pool, func(ctx context.Context, _ pgx.Tx) error {
					_, err := txn.QuerierFrom(ctx, pool).Exec(ctx, "INSERT INTO items VALUES ($1, $2)", g, i)
					if err != nil || i%2 == 0 {
						return err
					}
					return fmt.Errorf("odd %d", i)
				})
				assert.Equal(t, i%2 == 1, err != nil)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 32*5, count(t, pool, "SELECT count(*) FROM items"))
	assert.Zero(t, count(t, pool, "SELECT count(*) FROM items WHERE i % 2 = 1"))
}

func TestDo_ServerUnreachableFailsClosedAfterBoundedRetries(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback refuses connections at once: a server that is
	// really down, not a fake.
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var retries atomic.Int32
	m, err := txn.New(pool, txn.Config{MaxAttempts: 3, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
		Hooks: txn.Hooks{OnRetry: func(context.Context, txn.Retry) { retries.Add(1) }}})
	require.NoError(t, err)
	ran := false
	err = m.Do(context.Background(), func(context.Context, pgx.Tx) error { ran = true; return nil })
	var connectErr *pgconn.ConnectError
	assert.ErrorAs(t, err, &connectErr)
	assert.ErrorIs(t, err, txn.ErrUnavailable)
	assert.NotErrorIs(t, err, txn.ErrRetriesExhausted, "an outage is not contention")
	assert.Equal(t, int32(1), retries.Load(), "connection failures are retried up to MaxConnectAttempts, not MaxAttempts")
	assert.False(t, ran, "the function never runs without a transaction")
}

func TestDo_ConnectionLostBeforeCommitIsRetried(t *testing.T) {
	t.Parallel()
	base := testenv.Postgres(t)
	cfg := base.Config()
	cfg.MaxConns = 1
	// Hand out idle connections without a liveness ping, as a pool does
	// within a second of their last use, so that a dead one is really used.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	mustExec(t, pool, "CREATE TABLE items (id int PRIMARY KEY)")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("the session dies inside the function", func(t *testing.T) {
		var retried []error
		m, err := txn.New(pool, txn.Config{Hooks: txn.Hooks{OnRetry: func(_ context.Context, r txn.Retry) { retried = append(retried, r.Err) }}})
		require.NoError(t, err)
		runs := 0
		err = m.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
			runs++
			if _, err := tx.Exec(ctx, "INSERT INTO items VALUES (1)"); err != nil {
				return err
			}
			if runs == 1 {
				// The backend terminates itself, as in a failover or an
				// administrator's pg_terminate_backend.
				_, err := tx.Exec(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
				return err
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, runs)
		require.Len(t, retried, 1)
		assert.True(t, txn.Retryable(retried[0]), "%v", retried[0])
		assert.Equal(t, 1, count(t, pool, "SELECT count(*) FROM items"), "the first attempt's insert died with its session")
	})

	t.Run("a dead pooled connection fails BEGIN", func(t *testing.T) {
		var pid int
		require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
		admin, err := pgx.ConnectConfig(ctx, base.Config().ConnConfig)
		require.NoError(t, err)
		defer admin.Close(ctx)
		_, err = admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			var alive bool
			return admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&alive) == nil && !alive
		}, 5*time.Second, 2*time.Millisecond)

		var retried []error
		m, err := txn.New(pool, txn.Config{Hooks: txn.Hooks{OnRetry: func(_ context.Context, r txn.Retry) { retried = append(retried, r.Err) }}})
		require.NoError(t, err)
		runs := 0
		err = m.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
			runs++
			_, err := tx.Exec(ctx, "INSERT INTO items VALUES (2)")
			return err
		})
		require.NoError(t, err)
		assert.Equal(t, 1, runs, "the function runs only once BEGIN succeeded")
		assert.Len(t, retried, 1, "the BEGIN on the dead connection was retried on a new one")
	})
}

// A database that cannot be reached at all is reported as such: no
// connection was lost, nothing ran, and the function was never called.
func TestDo_UnreachableDatabase(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig("postgres://postgres@" + testenv.ClosedAddr(t) + "/test?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	conn := func() txn.Beginner { return pool }
	for _, tc := range []struct {
		name string
		do   func(fn txn.Func) error
	}{
		{"Do", func(fn txn.Func) error { return txn.Do(context.Background(), conn(), fn, txn.MaxAttempts(2)) }},
		{"Runner.Do", func(fn txn.Func) error {
			r, err := txn.New(pool, txn.Config{MaxAttempts: 2, MinDelay: time.Millisecond, MaxDelay: time.Millisecond})
			require.NoError(t, err)
			return r.Do(context.Background(), fn)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := tc.do(func(context.Context, pgx.Tx) error { calls++; return nil })
			require.Error(t, err)
			assert.Zero(t, calls, "nothing ran")
			var connectErr *pgconn.ConnectError
			assert.ErrorAs(t, err, &connectErr, "the driver's error stays reachable")
			assert.ErrorIs(t, err, txn.ErrUnavailable, "a failure to connect is retried, then given up")
			assert.Contains(t, err.Error(), "txn: cannot connect to the database")
			assert.NotContains(t, err.Error(), "lost", "no connection was ever made")
			assert.NotContains(t, err.Error(), "COMMIT")
		})
	}
}
