package txn

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Strength is the strength of a row lock taken by SELECT ... FOR.
type Strength uint8

const (
	// ForUpdate locks rows against any concurrent update, delete or lock.
	ForUpdate Strength = iota
	// ForNoKeyUpdate is ForUpdate that still lets others take FOR KEY
	// SHARE locks, so that inserts referencing the row by foreign key do not
	// wait. It is the right choice for updates that leave the key alone.
	ForNoKeyUpdate
	// ForShare lets others read-lock the rows but not change them.
	ForShare
	// ForKeyShare only blocks deletes and key changes.
	ForKeyShare
)

var strengthSQL = [...]string{"FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE"}

// Wait says what a row lock does when another transaction holds a
// conflicting lock.
type Wait uint8

const (
	// Block waits for the lock, up to the transaction's lock_timeout
	// (see [LockTimeout]).
	Block Wait = iota
	// NoWait fails at once with SQLSTATE 55P03, reported as [ErrLocked].
	NoWait
	// SkipLocked leaves out the rows it cannot lock at once: the basis of
	// work queues where each worker claims different rows.
	SkipLocked
)

var waitSQL = [...]string{"", " NOWAIT", " SKIP LOCKED"}

// Lock describes a row-locking clause.
type Lock struct {
	Strength Strength
	Wait     Wait
	// Of restricts the lock to the rows of these tables (FOR UPDATE OF a,
	// b), for queries that join tables which must not be locked. Names are
	// quoted as identifiers; empty means every table in the query.
	Of []string
}

// Clause returns the SQL clause, such as "FOR UPDATE OF \"jobs\" SKIP
// LOCKED", or an error wrapping [ErrInvalidConfig] for an unknown strength
// or wait policy or an empty table name.
func (l Lock) Clause() (string, error) {
	if int(l.Strength) >= len(strengthSQL) {
		return "", fmt.Errorf("%w: unknown lock strength %d", ErrInvalidConfig, l.Strength)
	}
	if int(l.Wait) >= len(waitSQL) {
		return "", fmt.Errorf("%w: unknown lock wait policy %d", ErrInvalidConfig, l.Wait)
	}
	if len(l.Of) == 0 {
		if l.Wait == Block {
			return strengthSQL[l.Strength], nil
		}
		return strengthSQL[l.Strength] + waitSQL[l.Wait], nil
	}
	var b strings.Builder
	b.WriteString(strengthSQL[l.Strength])
	b.WriteString(" OF ")
	for i, t := range l.Of {
		if t == "" {
			return "", fmt.Errorf("%w: empty table name in Lock.Of", ErrInvalidConfig)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{t}.Sanitize())
	}
	b.WriteString(waitSQL[l.Wait])
	return b.String(), nil
}

// QueryLocked runs query with the lock clause appended (query must be a
// SELECT that accepts one: no trailing semicolon, the clause after any
// LIMIT). Lock errors (SQLSTATE 55P03, from NOWAIT or lock_timeout) are
// reported as [ErrLocked], whether returned at once or by the rows. Row
// locks last until the transaction ends, so q should be a transaction.
func QueryLocked(ctx context.Context, q Querier, lock Lock, query string, args ...any) (pgx.Rows, error) {
	clause, err := lock.Clause()
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, query+" "+clause, args...)
	if err != nil {
		return nil, markLocked(err)
	}
	return lockedRows{rows}, nil
}

// QueryRowLocked is [QueryLocked] for a query returning at most one row;
// Scan reports lock errors as [ErrLocked] and no row as pgx.ErrNoRows.
func QueryRowLocked(ctx context.Context, q Querier, lock Lock, query string, args ...any) pgx.Row {
	clause, err := lock.Clause()
	if err != nil {
		return errRow{err}
	}
	return lockedRow{q.QueryRow(ctx, query+" "+clause, args...)}
}

type lockedRows struct{ pgx.Rows }

func (r lockedRows) Err() error { return markLocked(r.Rows.Err()) }

func (r lockedRows) Scan(dest ...any) error { return markLocked(r.Rows.Scan(dest...)) }

type lockedRow struct{ row pgx.Row }

func (r lockedRow) Scan(dest ...any) error { return markLocked(r.row.Scan(dest...)) }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
