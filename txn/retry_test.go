package txn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testRunner(t *testing.T, db *fakeDB, cfg Config) *Runner {
	t.Helper()
	m := &Runner{}
	c, err := cfg.resolve()
	require.NoError(t, err)
	c.rand = func() float64 { return 0.5 }
	m.cfg = c
	m.db = fakeFullDB{db}
	return m
}

// fakeFullDB adds the Querier half of DB, unused by these tests.
type fakeFullDB struct{ *fakeDB }

func (fakeFullDB) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, nil
}
func (fakeFullDB) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, nil }
func (fakeFullDB) QueryRow(context.Context, string, ...any) pgx.Row        { return nil }
func (fakeFullDB) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults  { return nil }
func (fakeFullDB) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, nil
}

func failing(errs ...error) Func {
	var mu sync.Mutex
	return func(context.Context, pgx.Tx) error {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) == 0 {
			return nil
		}
		err := errs[0]
		errs = errs[1:]
		return err
	}
}

func TestRetry_BackoffGrowsUntilMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		var delays []time.Duration
		var numbers []int
		m := testRunner(t, db, Config{MaxAttempts: 4, MinDelay: 10 * time.Millisecond, MaxDelay: 15 * time.Millisecond,
			Hooks: Hooks{
				OnRetry:   func(_ context.Context, r Retry) { delays = append(delays, r.Delay); assert.Equal(t, "job", r.Label) },
				OnAttempt: func(_ context.Context, a Attempt) { numbers = append(numbers, a.Number) },
			}})
		start := time.Now()
		err := m.Do(t.Context(), failing(errSerialization, errDeadlock, errSerialization, errSerialization), Label("job"))
		var re *RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 4, re.Attempts)
		assert.False(t, re.Deadline)
		assert.ErrorIs(t, err, ErrRetriesExhausted)
		assert.True(t, IsSerializationFailure(err), "the driver error stays reachable")
		// Ceilings 10, 15 (capped), 15ms; the pinned jitter takes half.
		assert.Equal(t, []time.Duration{5 * time.Millisecond, 7500 * time.Microsecond, 7500 * time.Microsecond}, delays)
		assert.Equal(t, 20*time.Millisecond, time.Since(start))
		assert.Equal(t, []int{1, 2, 3, 4}, numbers)
		begins, commits, rollbacks := db.counts()
		assert.Equal(t, [3]int{4, 0, 4}, [3]int{begins, commits, rollbacks})
	})
}

func TestRetry_SucceedsAfterTransientFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		m := testRunner(t, db, Config{})
		runs := 0
		err := m.Do(t.Context(), func(ctx context.Context, tx pgx.Tx) error {
			runs++
			AfterCommit(ctx, func(context.Context) { assert.Equal(t, 3, runs, "only the committed attempt's callback runs") })
			return []error{errSerialization, errDeadlock, nil}[runs-1]
		})
		require.NoError(t, err)
		assert.Equal(t, 3, runs)
		begins, commits, rollbacks := db.counts()
		assert.Equal(t, [3]int{3, 1, 2}, [3]int{begins, commits, rollbacks})
	})
}

func TestRetry_StopsWhenTheDeadlineIsTooNearForTheBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		m := testRunner(t, db, Config{MinDelay: 10 * time.Millisecond, MaxDelay: time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 12*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := m.Do(ctx, failing(errSerialization, errSerialization, errSerialization))
		var re *RetryError
		require.ErrorAs(t, err, &re)
		assert.True(t, re.Deadline)
		assert.Equal(t, 2, re.Attempts, "5ms fits before the deadline, 10ms more does not")
		assert.Equal(t, 5*time.Millisecond, time.Since(start), "no sleeping into a certain failure")
		assert.NoError(t, ctx.Err())
	})
}

func TestRetry_CancellationDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		m := testRunner(t, db, Config{MinDelay: time.Second, MaxDelay: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := m.Do(ctx, failing(errSerialization, errSerialization))
		assert.ErrorIs(t, err, context.Canceled)
		assert.True(t, IsSerializationFailure(err), "the last attempt's error is kept")
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		begins, _, _ := db.counts()
		assert.Equal(t, 1, begins)
	})
}

func TestRetry_ErrorsThatAreNotRetried(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"application error", errBoom},
		{"constraint violation", errUnique},
		{"context canceled", context.Canceled},
		{"wrapped context deadline", fmt.Errorf("query: %w", context.DeadlineExceeded)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := &fakeDB{}
			m := testRunner(t, db, Config{})
			err := m.Do(context.Background(), failing(tc.err, tc.err))
			assert.Same(t, tc.err, err, "returned unchanged")
			begins, commits, rollbacks := db.counts()
			assert.Equal(t, [3]int{1, 0, 1}, [3]int{begins, commits, rollbacks})
		})
	}
}

func TestRetry_BeginFailures(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		retried bool
	}{
		{"safe to retry", safeErr{}, true},
		{"connect error", &pgconn.ConnectError{Config: &pgconn.Config{}}, true},
		{"session terminated", errTerminated, true},
		{"connection exception class 08", &pgconn.PgError{Severity: "ERROR", Code: "08006"}, true},
		{"unexpected EOF", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"network error", &net.OpError{Op: "read", Err: errBoom}, true},
		{"server refuses the options", errUnique, false},
		{"cancelled", fmt.Errorf("%w: %w", context.Canceled, io.ErrUnexpectedEOF), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := &fakeDB{beginErrs: []error{tc.err}}
				m := testRunner(t, db, Config{})
				err := m.Do(t.Context(), failing())
				begins, commits, _ := db.counts()
				if tc.retried {
					assert.NoError(t, err)
					assert.Equal(t, [2]int{2, 1}, [2]int{begins, commits})
				} else {
					assert.ErrorIs(t, err, tc.err)
					assert.Equal(t, [2]int{1, 0}, [2]int{begins, commits})
				}
			})
		})
	}
}

func TestCommit_FailuresAreClassified(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		unknown bool
		retried bool
	}{
		{"serialization failure at commit", errSerialization, false, true},
		{"deferred constraint", errUnique, false, false},
		{"rolled back instead", pgx.ErrTxCommitRollback, false, false},
		{"never sent", safeErr{}, false, true},
		{"session terminated", errTerminated, true, false},
		{"connection lost", errEOF, true, false},
		{"reply lost, reported as conn closed", closedAfterSend{}, true, false},
		{"cancelled while waiting for the reply", fmt.Errorf("timeout: %w", context.Canceled), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := &fakeDB{commitErr: []error{tc.err}}
				m := testRunner(t, db, Config{})
				runs := 0
				err := m.Do(t.Context(), func(context.Context, pgx.Tx) error { runs++; return nil })
				var unknown *CommitUnknownError
				assert.Equal(t, tc.unknown, errors.As(err, &unknown), "%v", err)
				assert.Equal(t, tc.unknown, errors.Is(err, ErrCommitUnknown))
				if tc.retried {
					assert.NoError(t, err)
					assert.Equal(t, 2, runs)
				} else {
					assert.ErrorIs(t, err, tc.err)
					assert.Equal(t, 1, runs)
				}
			})
		})
	}
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"serialization", errSerialization, true},
		{"wrapped deadlock", fmt.Errorf("repo: %w", errDeadlock), true},
		{"unique", errUnique, false},
		{"safe", safeErr{}, true},
		{"connect", &pgconn.ConnectError{Config: &pgconn.Config{}}, true},
		{"canceled", context.Canceled, false},
		{"safe but canceled", errors.Join(safeErr{}, context.Canceled), false},
		{"commit unknown", &CommitUnknownError{Err: safeErr{}}, false},
		{"exhausted", &RetryError{Attempts: 3, Err: errSerialization}, false},
		{"plain", errBoom, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Retryable(tc.err))
		})
	}
}

func TestNested_RetryableErrorSwallowedByTheCallerStillRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		m := testRunner(t, db, Config{})
		runs := 0
		err := m.Do(t.Context(), func(ctx context.Context, _ pgx.Tx) error {
			runs++
			inner := m.Do(ctx, func(context.Context, pgx.Tx) error {
				if runs == 1 {
					return errSerialization
				}
				return nil
			}, MaxAttempts(5))
			_ = inner // the caller ignores it, as buggy code would
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, runs)
		begins, commits, rollbacks := db.counts()
		assert.Equal(t, [3]int{2, 1, 1}, [3]int{begins, commits, rollbacks}, "the poisoned attempt was rolled back, not committed")
	})
}

func TestNested_ErrorsRollBackToTheSavepoint(t *testing.T) {
	db := &fakeDB{}
	m := testRunner(t, db, Config{})
	var outer, inner *fakeTx
	err := m.Do(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
		outer = tx.(*fakeTx)
		err := m.Do(ctx, func(ctx context.Context, sp pgx.Tx) error {
			inner = sp.(*fakeTx)
			return errLockTimeout
		})
		assert.ErrorIs(t, err, ErrLocked)
		return nil
	})
	require.NoError(t, err)
	assert.Same(t, outer, inner.parent)
	assert.True(t, inner.closed)
	_, commits, rollbacks := db.counts()
	assert.Equal(t, [2]int{1, 0}, [2]int{commits, rollbacks})
}

func TestDo_PanicAndGoexitRollBack(t *testing.T) {
	db := &fakeDB{}
	m := testRunner(t, db, Config{})
	assert.PanicsWithError(t, "boom", func() {
		_ = m.Do(context.Background(), func(context.Context, pgx.Tx) error { panic(errBoom) })
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Do(context.Background(), func(context.Context, pgx.Tx) error {
			runtime.Goexit()
			return nil
		})
	}()
	<-done
	begins, commits, rollbacks := db.counts()
	assert.Equal(t, [3]int{2, 0, 2}, [3]int{begins, commits, rollbacks})
}

func TestAfterCommit_ConcurrentRegistration(t *testing.T) {
	db := &fakeDB{}
	m := testRunner(t, db, Config{})
	const goroutines = 200
	var ran sync.Map
	err := m.Do(context.Background(), func(ctx context.Context, _ pgx.Tx) error {
		var wg sync.WaitGroup
		for i := range goroutines {
			wg.Go(func() { AfterCommit(ctx, func(context.Context) { ran.Store(i, true) }) })
		}
		wg.Wait()
		return nil
	})
	require.NoError(t, err)
	n := 0
	ran.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, goroutines, n)
}

func TestDo_ManyGoroutinesRetryIndependently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := &fakeDB{}
		m := testRunner(t, db, Config{})
		const goroutines = 1000
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				assert.NoError(t, m.Do(t.Context(), failing(errSerialization, errDeadlock)))
			})
		}
		wg.Wait()
		begins, commits, rollbacks := db.counts()
		assert.Equal(t, [3]int{3 * goroutines, goroutines, 2 * goroutines}, [3]int{begins, commits, rollbacks})
	})
}

func TestOptions_ReachBeginAndTimeouts(t *testing.T) {
	db := &fakeDB{}
	m := testRunner(t, db, Config{})
	var execs []string
	err := m.Do(context.Background(), func(_ context.Context, tx pgx.Tx) error {
		execs = tx.(*fakeTx).execs
		return nil
	}, Serializable, ReadOnly, Deferrable(true), LockTimeout(time.Second), StatementTimeout(time.Nanosecond))
	require.NoError(t, err)
	require.Len(t, db.opts, 1)
	assert.Equal(t, pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadOnly, DeferrableMode: pgx.Deferrable}, db.opts[0])
	assert.Equal(t, []string{"SET LOCAL lock_timeout = 1000;SET LOCAL statement_timeout = 1;"}, execs)
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "serializable", Serializable.String())
	assert.Equal(t, "default", DefaultIsolation.String())
	assert.Equal(t, "Isolation(9)", Isolation(9).String())
	assert.Equal(t, "read only", ReadOnly.String())
	assert.Equal(t, "read write", ReadWrite.String())
	assert.Equal(t, "default", DefaultAccess.String())
	assert.Equal(t, "AccessMode(9)", AccessMode(9).String())
	assert.Contains(t, (&RetryError{Attempts: 2, Err: errBoom}).Error(), "2 attempts")
	assert.Contains(t, (&RetryError{Attempts: 2, Deadline: true, Err: errBoom}).Error(), "deadline")
	assert.Contains(t, (&CommitUnknownError{Err: errEOF}).Error(), "unknown")
	assert.Contains(t, markLocked(errLockTimeout).Error(), "locked")
}

type uncomparableDB []string

func (uncomparableDB) BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error) { return nil, errBoom }

func TestSameDB_NeverPanics(t *testing.T) {
	a, b := &fakeDB{}, &fakeDB{}
	assert.True(t, sameDB(a, a))
	assert.False(t, sameDB(a, b))
	assert.True(t, sameDB(uncomparableDB{"a"}, uncomparableDB{"a"}), "non-comparable: assume the same database")
}

func TestRetryIf_ExtendsTheRetryableErrors(t *testing.T) {
	isLockTimeout := func(err error) bool { return SQLState(err) == "55P03" }
	cases := []struct {
		name    string
		err     error
		retried bool
	}{
		{"accepted by RetryIf", errLockTimeout, true},
		{"rejected by RetryIf", errUnique, false},
		{"built-in still retried", errSerialization, true},
		{"commit unknown never", &CommitUnknownError{Err: errLockTimeout}, false},
		{"context never", fmt.Errorf("%w: %w", context.Canceled, errLockTimeout), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := &fakeDB{}
				m := testRunner(t, db, Config{RetryIf: isLockTimeout})
				err := m.Do(t.Context(), failing(tc.err))
				begins, _, _ := db.counts()
				if tc.retried {
					assert.NoError(t, err)
					assert.Equal(t, 2, begins)
				} else {
					assert.ErrorIs(t, err, tc.err)
					assert.Equal(t, 1, begins)
				}
			})
		})
	}
}
