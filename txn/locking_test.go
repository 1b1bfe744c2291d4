package txn_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/txn"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newVersioned(t *testing.T) *txn.Versioned {
	t.Helper()
	v, err := txn.NewVersioned(txn.VersionedTable{Table: "Docs"})
	require.NoError(t, err)
	return v
}

func TestVersioned_UpdateDistinguishesConflictFromNotFound(t *testing.T) {
	t.Parallel()
	pool := testenv.Postgres(t)
	mustExec(t, pool, `CREATE TABLE "Docs" (id int PRIMARY KEY, title text NOT NULL, body text, version bigint NOT NULL DEFAULT 1)`)
	mustExec(t, pool, `INSERT INTO "Docs" (id, title) VALUES (1, 'a')`)
	v := newVersioned(t)
	ctx := context.Background()

	next, err := v.Update(ctx, pool, 1, 1, txn.Set("title", "b"), txn.Set("body", "text"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), next)

	cases := []struct {
		name    string
		id      int
		version int64
		want    error
	}{
		{"stale version conflicts", 1, 1, txn.ErrConflict},
		{"future version conflicts", 1, 7, txn.ErrConflict},
		{"missing row is not found", 99, 1, txn.ErrNotFound},
		{"missing row with any version is not found", 99, txn.AnyVersion, txn.ErrNotFound},
		{"negative version is invalid", 1, -5, txn.ErrInvalidConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Update(ctx, pool, tc.id, tc.version, txn.Set("title", "x"))
			assert.ErrorIs(t, err, tc.want)
			cur, err := v.Version(ctx, pool, 1)
			require.NoError(t, err)
			assert.Equal(t, int64(2), cur, "a failed update changes nothing")
		})
	}

	next, err = v.Update(ctx, pool, 1, txn.AnyVersion, txn.Set("title", "forced"))
	require.NoError(t, err)
	assert.Equal(t, int64(3), next, "AnyVersion skips the check but still increments")

	_, err = v.Update(ctx, pool, 1, 3, txn.Set("version", 10))
	assert.ErrorIs(t, err, txn.ErrInvalidConfig, "the version column is not assignable")
	_, err = v.Update(ctx, pool, 1, 3, txn.Set("", 10))
	assert.ErrorIs(t, err, txn.ErrInvalidConfig)

	assert.ErrorIs(t, v.Delete(ctx, pool, 1, 2), txn.ErrConflict)
	require.NoError(t, v.Delete(ctx, pool, 1, 3))
	assert.ErrorIs(t, v.Delete(ctx, pool, 1, 3), txn.ErrNotFound)
	_, err = v.Version(ctx, pool, 1)
	assert.ErrorIs(t, err, txn.ErrNotFound)
}

func TestNewVersioned_Validates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  txn.VersionedTable
		ok   bool
	}{
		{"table required", txn.VersionedTable{}, false},
		{"same id and version column", txn.VersionedTable{Table: "t", IDColumn: "v", VersionColumn: "v"}, false},
		{"defaults", txn.VersionedTable{Table: "t"}, true},
		{"schema qualified", txn.VersionedTable{Schema: "s", Table: "t", IDColumn: "key", VersionColumn: "rev"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := txn.NewVersioned(tc.cfg)
			if tc.ok {
				assert.NoError(t, err)
				assert.NotNil(t, v)
			} else {
				assert.ErrorIs(t, err, txn.ErrInvalidConfig)
			}
		})
	}
}

func TestVersioned_ConcurrentUpdatesWithTheSameVersionExactlyOneWins(t *testing.T) {
	t.Parallel()
	const writers = 16
	pool := newPool(t, writers)
	mustExec(t, pool, `CREATE TABLE "Docs" (id int PRIMARY KEY, title text NOT NULL, version bigint NOT NULL)`)
	mustExec(t, pool, `INSERT INTO "Docs" VALUES (1, 'start', 1)`)
	v := newVersioned(t)
	b := newBarrier(writers)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
				if err := b.wait(ctx); err != nil {
					return err
				}
				_, err := v.Update(ctx, tx, 1, 1, txn.Set("title", fmt.Sprint(w)))
				return err
			})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, txn.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
	assert.Equal(t, int32(writers-1), conflicts.Load())
	assert.Equal(t, 2, count(t, pool, `SELECT version FROM "Docs" WHERE id = 1`))
}

func TestLock_Clause(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lock txn.Lock
		want string
	}{
		{txn.Lock{}, "FOR UPDATE"},
		{txn.Lock{Strength: txn.ForNoKeyUpdate, Wait: txn.NoWait}, "FOR NO KEY UPDATE NOWAIT"},
		{txn.Lock{Strength: txn.ForShare, Wait: txn.SkipLocked}, "FOR SHARE SKIP LOCKED"},
		{txn.Lock{Strength: txn.ForKeyShare}, "FOR KEY SHARE"},
		{txn.Lock{Of: []string{"jobs", `we"ird`}, Wait: txn.SkipLocked}, `FOR UPDATE OF "jobs", "we""ird" SKIP LOCKED`},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			got, err := tc.lock.Clause()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []txn.Lock{{Strength: 9}, {Wait: 9}, {Of: []string{""}}} {
		_, err := bad.Clause()
		assert.ErrorIs(t, err, txn.ErrInvalidConfig)
	}
}

func TestQueryLocked_NoWaitReportsErrLocked(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	mustExec(t, pool, "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
	mustExec(t, pool, "INSERT INTO accounts VALUES (1, 100)")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
			var b int
			if err := txn.QueryRowLocked(ctx, tx, txn.Lock{}, "SELECT balance FROM accounts WHERE id = $1", 1).Scan(&b); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held

	cases := []struct {
		name string
		run  func(ctx context.Context, tx pgx.Tx) error
		opts []txn.Option
	}{
		{"QueryRowLocked NOWAIT", func(ctx context.Context, tx pgx.Tx) error {
			var b int
			return txn.QueryRowLocked(ctx, tx, txn.Lock{Wait: txn.NoWait}, "SELECT balance FROM accounts WHERE id = $1", 1).Scan(&b)
		}, nil},
		{"QueryLocked NOWAIT", func(ctx context.Context, tx pgx.Tx) error {
			rows, err := txn.QueryLocked(ctx, tx, txn.Lock{Strength: txn.ForNoKeyUpdate, Wait: txn.NoWait}, "SELECT balance FROM accounts")
			if err != nil {
				return err
			}
			_, err = pgx.CollectRows(rows, pgx.RowTo[int])
			return err
		}, nil},
		{"lock_timeout expiry", func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE accounts SET balance = 0 WHERE id = 1")
			return err
		}, []txn.Option{txn.LockTimeout(30 * time.Millisecond)}},
		{"nested", func(ctx context.Context, tx pgx.Tx) error {
			err := txn.Do(ctx, pool, func(ctx context.Context, sp pgx.Tx) error {
				_, err := sp.Exec(ctx, "SELECT 1 FROM accounts FOR SHARE NOWAIT")
				return err
			})
			assert.ErrorIs(t, err, txn.ErrLocked, "a nested Do marks it too")
			return err
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := txn.Do(ctx, pool, tc.run, tc.opts...)
			assert.ErrorIs(t, err, txn.ErrLocked)
			assert.Equal(t, "55P03", txn.SQLState(err), "the driver error stays reachable")
		})
	}
	close(release)
	require.NoError(t, <-holder)
	assert.Equal(t, 100, count(t, pool, "SELECT balance FROM accounts WHERE id = 1"))
}

func TestQueryLocked_SkipLockedWorkersClaimDisjointRows(t *testing.T) {
	t.Parallel()
	const workers, batch = 4, 5
	pool := newPool(t, workers)
	mustExec(t, pool, "CREATE TABLE jobs (id int PRIMARY KEY, worker int)")
	mustExec(t, pool, "INSERT INTO jobs SELECT g, NULL FROM generate_series(1, $1::int) g", workers*batch)
	// Every worker holds its claim until all have claimed: with plain FOR
	// UPDATE the later ones would wait for the first, and this would hang.
	b := newBarrier(workers)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	claimed := make([][]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
				rows, err := txn.QueryLocked(ctx, tx, txn.Lock{Wait: txn.SkipLocked},
					"SELECT id FROM jobs WHERE worker IS NULL ORDER BY id LIMIT $1", batch)
				if err != nil {
					return err
				}
				ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
				if err != nil {
					return err
				}
				if err := b.wait(ctx); err != nil {
					return err
				}
				claimed[w] = ids
				_, err = tx.Exec(ctx, "UPDATE jobs SET worker = $1 WHERE id = ANY($2)", w, ids)
				return err
			})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	seen := map[int]int{}
	for w, ids := range claimed {
		assert.Len(t, ids, batch, "worker %d", w)
		for _, id := range ids {
			seen[id]++
		}
	}
	assert.Len(t, seen, workers*batch)
	for id, n := range seen {
		assert.Equal(t, 1, n, "job %d claimed by %d workers", id, n)
	}
	assert.Zero(t, count(t, pool, "SELECT count(*) FROM jobs WHERE worker IS NULL"))
}

func TestKey_IsFNV1a64(t *testing.T) {
	t.Parallel()
	cases := map[string]uint64{
		"":       0xcbf29ce484222325,
		"a":      0xaf63dc4c8601ec8c,
		"foobar": 0x85944171f73967e8,
	}
	for name, want := range cases {
		assert.Equal(t, int64(want), txn.Key(name), "%q", name)
	}
	assert.NotEqual(t, txn.Key("jobs:1"), txn.Key("jobs:2"))
}

func TestXactLock_ExcludesAcrossConnections(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	key := txn.Key(testenv.UniqueName(t, "report:"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
			if err := txn.XactLock(ctx, tx, key); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error { return txn.TryXactLock(ctx, tx, key) })
	assert.ErrorIs(t, err, txn.ErrLocked)
	err = txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error { return txn.XactLock(ctx, tx, key) },
		txn.LockTimeout(20*time.Millisecond))
	assert.ErrorIs(t, err, txn.ErrLocked, "a blocking wait ends at lock_timeout")
	close(release)
	require.NoError(t, <-holder)
	err = txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error { return txn.TryXactLock(ctx, tx, key) })
	assert.NoError(t, err, "the lock ended with the transaction")
	assert.ErrorIs(t, txn.XactLock(ctx, nil, key), txn.ErrNoTransaction)
	assert.ErrorIs(t, txn.TryXactLock(ctx, nil, key), txn.ErrNoTransaction)
}

func TestSessionLock(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := txn.Key(testenv.UniqueName(t, "migrations:"))

	l, err := txn.LockSession(ctx, pool, key)
	require.NoError(t, err)
	assert.Equal(t, key, l.Key())
	require.NoError(t, l.Check(ctx))
	_, err = txn.TrySessionLock(ctx, pool, key)
	assert.ErrorIs(t, err, txn.ErrLocked)
	assert.Equal(t, int32(1), pool.Stat().AcquiredConns(), "a failed try gives its connection back")
	require.NoError(t, l.Unlock(ctx))
	assert.ErrorIs(t, l.Unlock(ctx), txn.ErrNotHeld)
	assert.ErrorIs(t, l.Check(ctx), txn.ErrNotHeld)

	l2, err := txn.TrySessionLock(ctx, pool, key)
	require.NoError(t, err)
	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	require.NoError(t, l2.Unlock(cancelled), "unlock works on a cancelled context")
	assert.Zero(t, pool.Stat().AcquiredConns())

	t.Run("negative keys", func(t *testing.T) {
		neg := -(key & 0x7fffffffffffffff) - 1 // a negative key, unique to this test
		l, err := txn.LockSession(ctx, pool, neg)
		require.NoError(t, err)
		require.NoError(t, l.Check(ctx))
		require.NoError(t, l.Unlock(ctx))
	})

	t.Run("a lost session is detected", func(t *testing.T) {
		l, err := txn.LockSession(ctx, pool, key)
		require.NoError(t, err)
		var pid int
		err = txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
				AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid`, key).Scan(&pid)
		})
		require.NoError(t, err)
		mustExec(t, pool, "SELECT pg_terminate_backend($1)", pid)
		assert.Error(t, l.Check(ctx))
		assert.Error(t, l.Unlock(ctx))
		// The terminated backend releases its locks as it exits, a moment
		// after pg_terminate_backend returns.
		var l2 *txn.SessionLock
		require.Eventually(t, func() bool {
			l2, err = txn.TrySessionLock(ctx, pool, key)
			return err == nil
		}, 5*time.Second, 2*time.Millisecond, "the server released the lock with the session")
		require.NoError(t, l2.Unlock(ctx))
	})

	t.Run("a cancelled wait leaks nothing", func(t *testing.T) {
		l, err := txn.LockSession(ctx, pool, key)
		require.NoError(t, err)
		short, stop := context.WithTimeout(ctx, 30*time.Millisecond)
		defer stop()
		_, err = txn.LockSession(short, pool, key)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, l.Unlock(ctx))
		// The cancelled waiter's connection is closed, not pooled. Its backend
		// may still be granted the lock in the moment before it processes the
		// cancel or notices the closed socket; it then exits and the server
		// releases the lock with it. Nothing stays held.
		var l2 *txn.SessionLock
		require.Eventually(t, func() bool {
			l2, err = txn.TrySessionLock(ctx, pool, key)
			return err == nil
		}, 5*time.Second, 2*time.Millisecond, "the lock is free once the cancelled session is gone")
		require.NoError(t, l2.Unlock(ctx))
	})
}

func TestSessionLock_MutualExclusionAcrossGoroutines(t *testing.T) {
	t.Parallel()
	const goroutines, rounds = 12, 5
	pool := newPool(t, goroutines)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key := txn.Key(testenv.UniqueName(t, "critical:"))
	var inside, maxInside, total atomic.Int32
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				l, err := txn.LockSession(ctx, pool, key)
				if !assert.NoError(t, err) {
					return
				}
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(100 * time.Microsecond)
				total.Add(1)
				inside.Add(-1)
				assert.NoError(t, l.Unlock(ctx))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), maxInside.Load(), "never two holders at once")
	assert.Equal(t, int32(goroutines*rounds), total.Load())
}

func TestSessionLock_SharedHoldersCoexistAndExcludeExclusive(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := txn.Key(testenv.UniqueName(t, "shared:"))

	r1, err := txn.LockSessionShared(ctx, pool, key)
	require.NoError(t, err)
	r2, err := txn.TrySessionLockShared(ctx, pool, key)
	require.NoError(t, err, "shared holders coexist")
	_, err = txn.TrySessionLock(ctx, pool, key)
	assert.ErrorIs(t, err, txn.ErrLocked, "an exclusive holder waits for the shared ones")
	require.NoError(t, r1.Check(ctx))
	require.NoError(t, r1.Unlock(ctx), "a shared lock is released with the shared unlock")
	require.NoError(t, r2.Unlock(ctx))

	w, err := txn.TrySessionLock(ctx, pool, key)
	require.NoError(t, err)
	_, err = txn.TrySessionLockShared(ctx, pool, key)
	assert.ErrorIs(t, err, txn.ErrLocked, "a shared holder waits for the exclusive one")
	require.NoError(t, w.Unlock(ctx))
	assert.Zero(t, pool.Stat().AcquiredConns())
}

func TestXactLockShared(t *testing.T) {
	t.Parallel()
	pool := newPool(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := txn.Key(testenv.UniqueName(t, "xshared:"))
	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := txn.XactLockShared(ctx, tx, key); err != nil {
			return err
		}
		// Another session may share it, but not take it exclusively.
		return txn.Do(txn.WithoutTx(ctx), pool, func(ctx context.Context, other pgx.Tx) error {
			if err := txn.TryXactLockShared(ctx, other, key); err != nil {
				return err
			}
			assert.ErrorIs(t, txn.TryXactLock(ctx, other, key), txn.ErrLocked, "its own shared hold is not the blocker: the first session's is")
			return nil
		})
	})
	require.NoError(t, err)
	assert.ErrorIs(t, txn.XactLockShared(ctx, nil, key), txn.ErrNoTransaction)
	assert.ErrorIs(t, txn.TryXactLockShared(ctx, nil, key), txn.ErrNoTransaction)
}
