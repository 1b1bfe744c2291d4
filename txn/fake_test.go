package txn

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// fakeDB scripts what BEGIN and COMMIT return, for the retry logic's tests
// that need exact control of failures and of time (testing/synctest).
type fakeDB struct {
	mu        sync.Mutex
	beginErrs []error // consumed one per BeginTx; nil entries succeed
	commitErr []error // consumed one per Commit
	begins    int
	commits   int
	rollbacks int
	opts      []pgx.TxOptions
	reuse     *fakeTx // returned by every BeginTx when set, to measure allocations
}

func (d *fakeDB) BeginTx(_ context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.begins++
	if d.reuse != nil {
		d.reuse.closed = false
		return d.reuse, nil
	}
	d.opts = append(d.opts, opts)
	if len(d.beginErrs) > 0 {
		err := d.beginErrs[0]
		d.beginErrs = d.beginErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	return &fakeTx{db: d}, nil
}

type fakeTx struct {
	pgx.Tx // nil: methods the tests do not script panic
	db     *fakeDB
	closed bool
	execs  []string
	parent *fakeTx // set for a savepoint
}

func (t *fakeTx) Begin(context.Context) (pgx.Tx, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	return &fakeTx{db: t.db, parent: t}, nil
}

func (t *fakeTx) Exec(_ context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	t.execs = append(t.execs, sql)
	return pgconn.CommandTag{}, nil
}

func (t *fakeTx) Conn() *pgx.Conn { return nil }

func (t *fakeTx) Commit(context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	if t.parent != nil {
		return nil
	}
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	if len(t.db.commitErr) > 0 {
		err := t.db.commitErr[0]
		t.db.commitErr = t.db.commitErr[1:]
		if err != nil {
			return err
		}
	}
	t.db.commits++
	return nil
}

func (t *fakeTx) Rollback(context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	if t.parent == nil {
		t.db.mu.Lock()
		t.db.rollbacks++
		t.db.mu.Unlock()
	}
	return nil
}

func (d *fakeDB) counts() (begins, commits, rollbacks int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.begins, d.commits, d.rollbacks
}

var (
	errSerialization = &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "40001", Message: "could not serialize access"}
	errDeadlock      = &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "40P01", Message: "deadlock detected"}
	errUnique        = &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "23505", Message: "duplicate key"}
	errTerminated    = &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01", Message: "terminating connection"}
	errLockTimeout   = &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "55P03", Message: "lock timeout"}
)

// safeErr is a driver error raised before anything was sent.
type safeErr struct{}

func (safeErr) Error() string     { return "not sent" }
func (safeErr) SafeToRetry() bool { return true }

// closedAfterSend mimics pgx's "conn closed" after a lost reply: marked safe
// to retry, although the statement was sent.
type closedAfterSend struct{}

func (closedAfterSend) Error() string     { return "conn closed" }
func (closedAfterSend) SafeToRetry() bool { return true }
func (closedAfterSend) Unwrap() error     { return pgconn.ErrConnClosed }

var errEOF = io.ErrUnexpectedEOF

var errBoom = errors.New("boom")
