// Package txn runs PostgreSQL transactions on pgx/v5 the way production code
// needs them: retried as a whole on serialization failures and deadlocks,
// carried by the context so that repositories compose, nested with
// savepoints, and paired with the locking patterns that keep concurrent
// writers correct.
//
// # Transactions
//
// [Do] (or [Runner.Do], with a [Config]) runs a function in a transaction
// and commits it when the function returns nil:
//
//	err := txn.Do(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
//		_, err := tx.Exec(ctx, "UPDATE accounts SET balance = balance - $2 WHERE id = $1", from, amount)
//		if err != nil {
//			return err
//		}
//		_, err = tx.Exec(ctx, "UPDATE accounts SET balance = balance + $2 WHERE id = $1", to, amount)
//		return err
//	}, txn.Serializable)
//
// Options choose the [Isolation] level, [AccessMode], [Deferrable] flag,
// [MaxAttempts], [LockTimeout] and [StatementTimeout] of one call.
//
// # Retries
//
// A serialization failure (SQLSTATE 40001), a deadlock (40P01), a
// connection error that happened before anything was sent, or a connection
// lost at any point before COMMIT (a failover, a terminated backend, a dead
// pooled connection: the server rolled the transaction back with the
// session) rolls the transaction back and runs the whole function again, after an exponential
// backoff with full jitter, until it succeeds, the attempts run out
// ([RetryError], matching [ErrRetriesExhausted]) or the context deadline
// would pass during the backoff. The function must therefore be safe to run
// again: effects outside the database belong in [AfterCommit].
//
// A COMMIT that may or may not have happened (the connection broke after it
// was sent) is never retried, since that could apply the transaction twice;
// it returns a [*CommitUnknownError], matching [ErrCommitUnknown].
//
// # Context-carried transactions
//
// The function receives a context that carries its transaction. Code deep in
// a repository asks for it with [QuerierFrom] (or [Runner.Querier]) and
// runs inside the caller's transaction when there is one, or on the pool
// when there is not; [From] returns the pgx.Tx itself and [WithoutTx]
// detaches a context from it.
//
// A [Do] inside a [Do] on the same database does not start a transaction: it
// runs in a savepoint. An error inside rolls back to the savepoint only, and
// the outer function decides what to do with it. Retries happen only at the
// outermost level, and a nested call cannot change the isolation level or
// other characteristics of the transaction it joins ([ErrNestedOptions]).
//
// A panic inside the function rolls the transaction back and continues
// unchanged, with its original stack.
//
// # Locking
//
// [Versioned] implements optimistic locking with a version column and tells
// a lost race ([ErrConflict]) from a missing row ([ErrNotFound]). The
// version is the seam with HTTP: package httpapi writes it as an ETag
// (httpapi.ETagFromVersion) and reads it back from If-Match
// (httpapi.VersionFromIfMatch), and a service answers ErrConflict with
// 412; txn itself speaks no HTTP.
//
// [QueryLocked] and [QueryRowLocked] add SELECT ... FOR UPDATE, FOR NO KEY
// UPDATE, FOR SHARE or FOR KEY SHARE with NOWAIT ([ErrLocked]) or SKIP
// LOCKED to a query; [LockTimeout] bounds lock waits per transaction.
//
// [XactLock] and [TryXactLock] take transaction-scoped advisory locks;
// [LockSession] and [TrySessionLock] take session-scoped ones on a held
// connection until [SessionLock.Unlock]. Each has a Shared variant. [Key]
// hashes a name to a lock key with a documented, stable hash (64-bit
// FNV-1a).
//
// # When PostgreSQL is down
//
// A failure to connect, or a connection lost before COMMIT, is retried once
// (Config.MaxConnectAttempts), because a pool often reconnects within
// milliseconds after a server restart or failover. If the server stays
// down, [Do] fails closed and fast: it returns an [*UnavailableError]
// matching [ErrUnavailable], wrapping the driver's error, within
// milliseconds when connections are refused, and the function never runs
// outside a transaction. Set Config.BeginTimeout to bound the wait for a
// connection, so that an exhausted pool or a server that accepts and never
// answers also ends as ErrUnavailable; bound the dial itself with
// connect_timeout in the connection string, and the whole request with its
// context. A service answers ErrUnavailable with 503 Service Unavailable
// and a Retry-After header, never with 500 (a bug) or as contention
// ([ErrRetriesExhausted]); [IsUnavailable] recognises the same outage in
// the driver errors of reads run outside a transaction. A connection lost
// during COMMIT is the one case that is not retried ([ErrCommitUnknown]).
//
// # Observability
//
// [Hooks] in the [Config] see every attempt and every retry, for metrics and
// traces; nil hooks cost nothing.
package txn
