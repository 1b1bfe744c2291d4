package txn

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Key maps a name to an advisory lock key: the 64-bit FNV-1a hash of the
// name's bytes (offset basis 14695981039346656037, prime 1099511628211),
// reinterpreted as a signed int64. The mapping is fixed, so that every
// process and every version of this package agree on it. Distinct names can
// collide, with a probability of about n²/2⁶⁵ for n names; a collision makes
// two names share one lock, which is safe but slower.
func Key(name string) int64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= prime64
	}
	return int64(h)
}

// XactLock takes the exclusive transaction-scoped advisory lock key
// (pg_advisory_xact_lock), waiting for it up to the transaction's
// lock_timeout. It is released when the transaction ends; there is no
// unlock. A lock_timeout expiry is reported as [ErrLocked].
func XactLock(ctx context.Context, tx pgx.Tx, key int64) error {
	return xactLock(ctx, tx, key, "SELECT pg_advisory_xact_lock($1)")
}

// XactLockShared is [XactLock] in shared mode
// (pg_advisory_xact_lock_shared): shared holders exclude exclusive ones but
// not each other.
func XactLockShared(ctx context.Context, tx pgx.Tx, key int64) error {
	return xactLock(ctx, tx, key, "SELECT pg_advisory_xact_lock_shared($1)")
}

func xactLock(ctx context.Context, tx pgx.Tx, key int64, query string) error {
	if tx == nil {
		return ErrNoTransaction
	}
	_, err := tx.Exec(ctx, query, key)
	return markLocked(err)
}

// TryXactLock takes the exclusive transaction-scoped advisory lock key if
// it is free (pg_try_advisory_xact_lock) and returns [ErrLocked] at once
// otherwise.
func TryXactLock(ctx context.Context, tx pgx.Tx, key int64) error {
	return tryXactLock(ctx, tx, key, "SELECT pg_try_advisory_xact_lock($1)")
}

// TryXactLockShared is [TryXactLock] in shared mode
// (pg_try_advisory_xact_lock_shared).
func TryXactLockShared(ctx context.Context, tx pgx.Tx, key int64) error {
	return tryXactLock(ctx, tx, key, "SELECT pg_try_advisory_xact_lock_shared($1)")
}

func tryXactLock(ctx context.Context, tx pgx.Tx, key int64, query string) error {
	if tx == nil {
		return ErrNoTransaction
	}
	var ok bool
	if err := tx.QueryRow(ctx, query, key).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: advisory lock %d is held by another session", ErrLocked, key)
	}
	return nil
}

// SessionLock is a session-scoped advisory lock. It holds a connection out
// of the pool from acquisition to [SessionLock.Unlock], since the lock
// belongs to that connection's session; forgetting Unlock leaks both. If the
// connection breaks, the server releases the lock: a holder that must be
// sure it still owns the lock before acting calls [SessionLock.Check]. It
// is safe for concurrent use.
type SessionLock struct {
	key           int64
	shared        bool
	unlockTimeout time.Duration

	mu   sync.Mutex
	conn *pgxpool.Conn // nil once unlocked
}

// LockSession takes the exclusive session-scoped advisory lock key
// (pg_advisory_lock) on a connection acquired from pool, waiting until it
// is free or ctx ends.
func LockSession(ctx context.Context, pool *pgxpool.Pool, key int64) (*SessionLock, error) {
	return lockSession(ctx, pool, key, false, "SELECT true FROM pg_advisory_lock($1)")
}

// TrySessionLock takes the exclusive session-scoped advisory lock key if it
// is free (pg_try_advisory_lock) and returns [ErrLocked] at once otherwise.
func TrySessionLock(ctx context.Context, pool *pgxpool.Pool, key int64) (*SessionLock, error) {
	return lockSession(ctx, pool, key, false, "SELECT pg_try_advisory_lock($1)")
}

// LockSessionShared is [LockSession] in shared mode
// (pg_advisory_lock_shared): shared holders exclude exclusive ones but not
// each other.
func LockSessionShared(ctx context.Context, pool *pgxpool.Pool, key int64) (*SessionLock, error) {
	return lockSession(ctx, pool, key, true, "SELECT true FROM pg_advisory_lock_shared($1)")
}

// TrySessionLockShared is [TrySessionLock] in shared mode
// (pg_try_advisory_lock_shared).
func TrySessionLockShared(ctx context.Context, pool *pgxpool.Pool, key int64) (*SessionLock, error) {
	return lockSession(ctx, pool, key, true, "SELECT pg_try_advisory_lock_shared($1)")
}

func lockSession(ctx context.Context, pool *pgxpool.Pool, key int64, shared bool, query string) (*SessionLock, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidConfig)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, query, key).Scan(&ok); err != nil {
		// The lock may have been granted just before the error (a
		// cancellation racing the reply); returning this session to the
		// pool could leak it, so the connection is closed instead.
		destroy(conn)
		return nil, markLocked(err)
	}
	if !ok {
		conn.Release()
		return nil, fmt.Errorf("%w: advisory lock %d is held by another session", ErrLocked, key)
	}
	return &SessionLock{key: key, shared: shared, conn: conn, unlockTimeout: DefaultRollbackTimeout}, nil
}

// Key returns the lock's key.
func (l *SessionLock) Key() int64 { return l.key }

// Check reports whether the session still holds the lock, by asking the
// server. It returns an error wrapping [ErrNotHeld] after Unlock or when the
// session lost the lock, and the driver error when the connection is gone
// (and with it the lock).
func (l *SessionLock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return fmt.Errorf("%w: advisory lock %d was unlocked", ErrNotHeld, l.key)
	}
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1)`,
		l.key).Scan(&held)
	if err != nil {
		return err
	}
	if !held {
		return fmt.Errorf("%w: advisory lock %d is no longer held", ErrNotHeld, l.key)
	}
	return nil
}

// Unlock releases the lock and returns the connection to the pool. It runs
// even if ctx is already cancelled (bounded by 5s), because a lock left
// behind would block every other holder. If the server says the lock was
// not held, or the unlock fails, the connection is closed, which releases
// any lock the session still has, and an error is returned. A second Unlock
// returns an error wrapping [ErrNotHeld].
func (l *SessionLock) Unlock(ctx context.Context) error {
	l.mu.Lock()
	conn := l.conn
	l.conn = nil
	l.mu.Unlock()
	if conn == nil {
		return fmt.Errorf("%w: advisory lock %d was already unlocked", ErrNotHeld, l.key)
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.unlockTimeout)
	defer cancel()
	query := "SELECT pg_advisory_unlock($1)"
	if l.shared {
		query = "SELECT pg_advisory_unlock_shared($1)"
	}
	var released bool
	if err := conn.QueryRow(uctx, query, l.key).Scan(&released); err != nil {
		destroy(conn)
		return fmt.Errorf("txn: unlock advisory lock %d: %w", l.key, err)
	}
	if !released {
		destroy(conn)
		return fmt.Errorf("%w: advisory lock %d was not held by its session", ErrNotHeld, l.key)
	}
	conn.Release()
	return nil
}

// destroy closes a pooled connection so that the pool drops it rather than
// handing its session, and any lock it holds, to another caller.
func destroy(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx) // the pool drops a closed connection whatever Close returned
	conn.Release()
}
