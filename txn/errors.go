package txn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the package reacts to.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"
)

var (
	// ErrCommitUnknown reports that COMMIT was sent but its outcome could not
	// be read: the transaction may or may not have committed. It is never
	// retried, since running the closure again could apply its effects twice;
	// the caller must find out (for example by reading back a row the closure
	// wrote) or surface the uncertainty. Errors matching it are
	// [*CommitUnknownError] values.
	ErrCommitUnknown = errors.New("txn: commit outcome unknown")

	// ErrRetriesExhausted reports that every allowed attempt failed with a
	// retryable error, or that the context deadline left no time for the next
	// one. Errors matching it are [*RetryError] values that also wrap the
	// last attempt's error.
	ErrRetriesExhausted = errors.New("txn: retries exhausted")

	// ErrNestedOptions reports a nested [Do] that asked for transaction
	// characteristics (isolation level, access mode, deferrable flag, lock or
	// statement timeout) other than those of the transaction it runs in: a
	// savepoint cannot change them.
	ErrNestedOptions = errors.New("txn: a nested transaction cannot change the options of the outer one")

	// ErrInvalidConfig reports a [Config], option or helper configuration
	// that cannot be used.
	ErrInvalidConfig = errors.New("txn: invalid config")

	// ErrNoTransaction reports a call that needs a transaction when it was
	// given none.
	ErrNoTransaction = errors.New("txn: no transaction")

	// ErrNotHeld reports a session advisory lock that is no longer held:
	// already unlocked, or lost with its connection.
	ErrNotHeld = errors.New("txn: lock not held")

	// ErrLocked reports a lock that could not be taken without waiting: a
	// row lock requested with NOWAIT, a lock_timeout that expired (both
	// SQLSTATE 55P03), or an advisory lock held by another session when
	// asked with a Try function.
	ErrLocked = errors.New("txn: locked")

	// ErrConflict reports an optimistic update or delete whose expected
	// version no longer matches the row: someone else changed it first. In
	// HTTP terms, 412 Precondition Failed.
	ErrConflict = errors.New("txn: version conflict")

	// ErrUnavailable reports that the database could not be reached: a
	// connection refused or dropped before COMMIT on every allowed attempt
	// ([Config].MaxConnectAttempts), or BEGIN waiting longer than
	// [Config].BeginTimeout for a connection. Nothing was committed. It is
	// the outage of a dependency, not a bug or contention: a service
	// answers it with 503 Service Unavailable and a Retry-After. Errors
	// matching it are [*UnavailableError] values.
	ErrUnavailable = errors.New("txn: database unavailable")

	// ErrNotFound reports an optimistic update or delete of a row that does
	// not exist.
	ErrNotFound = errors.New("txn: row not found")
)

// CommitUnknownError is returned when the outcome of COMMIT is unknown: the
// statement may have reached the server and committed, but the reply was
// lost (a broken connection, a cancelled context, a server that terminated
// the session). It matches [ErrCommitUnknown] and unwraps to the driver
// error.
type CommitUnknownError struct {
	Err error // the error COMMIT returned
}

// Error describes the uncertainty and the driver error behind it.
func (e *CommitUnknownError) Error() string {
	return "txn: commit outcome unknown: " + e.Err.Error()
}

// Unwrap returns the driver error.
func (e *CommitUnknownError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrCommitUnknown].
func (e *CommitUnknownError) Is(target error) bool { return target == ErrCommitUnknown }

// RetryError is returned when a transaction failed with retryable errors
// until no attempt was left, or until the context deadline left no room for
// the backoff before the next attempt. It matches [ErrRetriesExhausted] and
// wraps the last attempt's error, so errors.As still finds the
// [*pgconn.PgError].
type RetryError struct {
	Attempts int   // attempts made
	Deadline bool  // true when the context deadline, not the attempt count, stopped the retries
	Err      error // the last attempt's error
}

// Error says how many attempts were made and why the last one failed.
func (e *RetryError) Error() string {
	if e.Deadline {
		return fmt.Sprintf("txn: giving up after %d attempts, context deadline too near for the next: %v", e.Attempts, e.Err)
	}
	return fmt.Sprintf("txn: giving up after %d attempts: %v", e.Attempts, e.Err)
}

// Unwrap returns [ErrRetriesExhausted] and the last attempt's error.
func (e *RetryError) Unwrap() []error { return []error{ErrRetriesExhausted, e.Err} }

// UnavailableError is returned when the database could not be reached; it
// matches [ErrUnavailable] and wraps the last attempt's error, so errors.As
// still finds the driver's [*pgconn.ConnectError] or network error.
type UnavailableError struct {
	Attempts int   // attempts made
	Err      error // the last attempt's error
}

// Error says that the database is unavailable and why the last attempt
// failed.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("txn: database unavailable after %d attempts: %v", e.Attempts, e.Err)
}

// Unwrap returns [ErrUnavailable] and the last attempt's error.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// errBeginTimeout is the cause of a begin context that expired.
var errBeginTimeout = errors.New("txn: begin timeout")

// beginTimeoutError reports a BEGIN that waited past the begin timeout for
// a connection.
type beginTimeoutError struct {
	wait time.Duration
	err  error
}

func (e *beginTimeoutError) Error() string {
	return fmt.Sprintf("txn: no connection within the begin timeout of %v: %v", e.wait, e.err)
}
func (e *beginTimeoutError) Unwrap() error { return e.err }

// unavailable reports whether err says the database could not be reached:
// a failure to connect, a BEGIN past its timeout, or a connection lost
// before COMMIT.
func unavailable(err error) bool {
	var connect *connectError
	var lost *connLostError
	var bt *beginTimeoutError
	var pgConnect *pgconn.ConnectError
	return errors.As(err, &connect) || errors.As(err, &lost) || errors.As(err, &bt) || errors.As(err, &pgConnect)
}

// lockedError marks a driver error with SQLSTATE 55P03 as [ErrLocked] while
// keeping the driver error reachable.
type lockedError struct{ err error }

func (e *lockedError) Error() string        { return "txn: locked: " + e.err.Error() }
func (e *lockedError) Unwrap() error        { return e.err }
func (e *lockedError) Is(target error) bool { return target == ErrLocked }

// markLocked wraps err as [ErrLocked] when it carries SQLSTATE 55P03.
func markLocked(err error) error {
	if err == nil || errors.Is(err, ErrLocked) || SQLState(err) != codeLockNotAvailable {
		return err
	}
	return &lockedError{err}
}

// SQLState returns the SQLSTATE of the PostgreSQL error in err's chain, or ""
// when there is none.
func SQLState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// IsSerializationFailure reports whether err carries SQLSTATE 40001.
func IsSerializationFailure(err error) bool { return SQLState(err) == codeSerializationFailure }

// IsUnavailable reports whether err says the database could not be
// reached, whether it came from [Do] (an [ErrUnavailable]) or straight
// from pgx or pgxpool, for the reads a service runs outside a transaction:
// a failure to connect ([*pgconn.ConnectError]), a connection lost (a
// network error, an unexpected EOF, a closed connection, SQLSTATE class 08,
// or a FATAL from a server shutting down). A context error, a statement
// error and nil are not. A service answers it with 503 and Retry-After,
// like ErrUnavailable, instead of 500.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var connect *pgconn.ConnectError
	return errors.As(err, &connect) || unavailable(err) || connectionFailure(err)
}

// IsDeadlock reports whether err carries SQLSTATE 40P01.
func IsDeadlock(err error) bool { return SQLState(err) == codeDeadlockDetected }

// Retryable reports whether a transaction that failed with err can be run
// again from the start: a serialization failure (40001), a detected deadlock
// (40P01), a failure to connect, or a connection error that the driver
// reports as having happened before anything was sent
// ([pgconn.SafeToRetry]). [Do] also marks as safe to retry the errors that
// show the connection was lost before COMMIT was sent (the server rolled the
// transaction back with the session). A context error, an
// [ErrCommitUnknown] and a [RetryError] are never retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrCommitUnknown) || errors.Is(err, ErrRetriesExhausted) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch SQLState(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	var connectErr *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || errors.As(err, &connectErr)
}

// commitError decides what a failed COMMIT means. A statement-level error
// from the server (severity ERROR, such as a serialization failure detected
// at commit or a deferred constraint) and ROLLBACK in place of COMMIT both
// mean the transaction did not commit, and so does a context that was done
// before COMMIT was sent. Anything else, a lost connection or a FATAL from
// a terminating session, leaves the outcome unknown.
//
// pgconn.SafeToRetry alone cannot be trusted here: pgx v5 reports a
// connection that broke while it waited for the reply to a statement it had
// already sent as "conn closed", an error it marks safe to retry. For COMMIT
// that reply is the only proof of the outcome, so "conn closed" counts as
// unknown; a connection already closed before COMMIT is caught earlier, by
// lostBeforeCommit.
func commitError(err error) error {
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		return err
	}
	if pgconn.SafeToRetry(err) && !errors.Is(err, pgconn.ErrConnClosed) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		sev := pgErr.SeverityUnlocalized
		if sev == "" {
			sev = pgErr.Severity
		}
		if sev == "ERROR" {
			return err
		}
	}
	return &CommitUnknownError{Err: err}
}

// connLostError reports a transaction whose connection broke before COMMIT
// was sent: at BEGIN, during the transaction function, or just before
// COMMIT. The server rolls back a transaction whose session ends, so
// nothing was committed and the transaction can run again; it is marked
// safe to retry and unwraps to the driver error.
type connLostError struct{ err error }

func (e *connLostError) Error() string {
	return "txn: connection lost before COMMIT, nothing was committed: " + e.err.Error()
}
func (e *connLostError) SafeToRetry() bool { return true }
func (e *connLostError) Unwrap() error     { return e.err }

// connectionFailure reports whether err says the session is gone rather
// than that a statement failed: a FATAL or PANIC from the server (an
// administrator or crash shutdown, a terminated backend), SQLSTATE class 08
// (connection exception), a network error, an unexpected EOF, or a
// connection the driver already closed.
func connectionFailure(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		sev := pgErr.SeverityUnlocalized
		if sev == "" {
			sev = pgErr.Severity
		}
		return sev == "FATAL" || sev == "PANIC" || strings.HasPrefix(pgErr.Code, "08")
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed)
}

// connectError reports that BEGIN could not get a connection at all: the
// database is unreachable or refused the session (wrong address,
// authentication, too many clients). Nothing ran, and no connection was
// lost. It is retryable like the driver's [*pgconn.ConnectError], which it
// unwraps to.
type connectError struct{ err error }

func (e *connectError) Error() string {
	return "txn: cannot connect to the database, nothing was run: " + e.err.Error()
}
func (e *connectError) SafeToRetry() bool { return true }
func (e *connectError) Unwrap() error     { return e.err }

// lostBeforeCommit marks err as [connLostError] when it shows that the
// transaction's session is gone, so that the retry loop runs the function
// again: either the driver has closed the transaction's connection (it does
// so on every fatal error) or, for errors from BEGIN where there is no
// transaction yet, the error itself is a connection failure. A BEGIN that
// never got a connection is a [connectError] instead. Context errors are
// left alone: they are the caller's decision, never a reason to retry.
func lostBeforeCommit(tx pgx.Tx, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var lost *connLostError
	var never *connectError
	if errors.As(err, &lost) || errors.As(err, &never) {
		return err
	}
	if tx == nil {
		var connect *pgconn.ConnectError
		if errors.As(err, &connect) {
			return &connectError{err}
		}
	}
	if tx != nil {
		if connClosed(tx) {
			return &connLostError{err}
		}
		return err
	}
	if connectionFailure(err) {
		return &connLostError{err}
	}
	return err
}

func connClosed(tx pgx.Tx) bool {
	c := tx.Conn()
	return c != nil && c.IsClosed()
}
