package txn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Func is the body of a transaction. It receives a context that carries the
// transaction (see [From] and [QuerierFrom]) and the transaction itself. It
// may run more than once, so it must not have effects outside the database
// that cannot be repeated; defer those with [AfterCommit].
type Func func(ctx context.Context, tx pgx.Tx) error

// Beginner starts transactions. *pgxpool.Pool, *pgxpool.Conn and *pgx.Conn
// implement it. Implementations must be comparable (pointer types are),
// since a [Do] inside a [Do] nests only when both use the same Beginner.
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Querier runs statements. pgx.Tx, *pgxpool.Pool, *pgxpool.Conn and
// *pgx.Conn implement it, so repository code written against it runs inside
// or outside a transaction alike.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// DB is what a [Runner] needs: a pool (or connection) that starts
// transactions and runs statements outside them. *pgxpool.Pool implements
// it.
type DB interface {
	Beginner
	Querier
}

// Defaults applied to the zero fields of [Config].
const (
	DefaultMaxAttempts     = 10
	DefaultMinDelay        = 2 * time.Millisecond
	DefaultMaxDelay        = 500 * time.Millisecond
	DefaultRollbackTimeout = 5 * time.Second
	// DefaultMaxConnectAttempts is how many times a transaction tries to
	// reach a database that refuses or drops connections before it reports
	// [ErrUnavailable]: one retry, for a pool whose connections died with a
	// server restart, and no more, so that an outage surfaces in
	// milliseconds instead of after the whole retry budget.
	DefaultMaxConnectAttempts = 2
)

// Config configures a [Runner]. The zero value is valid: server-default
// isolation and access mode, 10 attempts, backoff from 2ms to 500ms with
// full jitter, no lock or statement timeout, no hooks.
type Config struct {
	// Isolation is the level of transactions that do not pass one.
	// Zero leaves it to the server (DefaultIsolation).
	Isolation Isolation
	// AccessMode is the mode of transactions that do not pass one. Zero
	// leaves it to the server (DefaultAccess).
	AccessMode AccessMode
	// MaxAttempts bounds the attempts of a transaction, first included.
	// Zero means 10; 1 disables retries; negative is an error.
	MaxAttempts int
	// MinDelay is the backoff ceiling before the first retry; it doubles
	// with each retry up to MaxDelay, and the actual delay is drawn
	// uniformly below the ceiling (full jitter), which spreads contending
	// transactions apart. Zero means 2ms.
	MinDelay time.Duration
	// MaxDelay caps the backoff ceiling. Zero means 500ms; it must not be
	// below MinDelay.
	MaxDelay time.Duration
	// LockTimeout and StatementTimeout, when positive, are set with SET
	// LOCAL at the start of every transaction that does not pass its own.
	// Zero leaves the server's settings.
	LockTimeout      time.Duration
	StatementTimeout time.Duration
	// RollbackTimeout bounds a ROLLBACK issued after the caller's context
	// was cancelled, which runs on a context detached from the cancellation
	// so that the connection is returned clean rather than destroyed.
	// Zero means 5s.
	RollbackTimeout time.Duration
	// MaxConnectAttempts bounds the attempts that fail because the database
	// cannot be reached (the connection is refused, dropped before COMMIT,
	// or BEGIN times out), within MaxAttempts. Zero means
	// DefaultMaxConnectAttempts (2); 1 reports the first failure at once;
	// negative is an error. Running out returns an [*UnavailableError].
	MaxConnectAttempts int
	// BeginTimeout, when positive, bounds each attempt's wait for BEGIN:
	// acquiring a pooled connection (behind other callers when the pool is
	// exhausted), dialling a new one and starting the transaction. Past it
	// the attempt fails with [ErrUnavailable] and is not retried, since it
	// has already waited. Zero leaves the wait to the context (which costs
	// no allocation per transaction); a service sets it (a second or two)
	// so that a hung database or an exhausted pool answers 503 quickly;
	// negative is an error. The dial itself is bounded by the pool's
	// connect_timeout (set it in the connection string, for example
	// connect_timeout=2).
	BeginTimeout time.Duration
	// RetryIf, when set, is asked about errors that [Retryable] rejects and
	// retries those it returns true for, for example SQLSTATE 55P03 when
	// lock timeouts should be retried. It is never asked about context
	// errors, [ErrCommitUnknown] or the Runner's own validation errors,
	// which are never retried. Nil retries only what Retryable accepts.
	RetryIf func(err error) bool
	// Hooks observe attempts and retries. The zero value observes nothing
	// and costs nothing.
	Hooks Hooks
}

// config is a validated Config with defaults applied.
type config struct {
	base            settings
	backoff         backoff.Exponential
	rollbackTimeout time.Duration
	maxConnect      int
	beginTimeout    time.Duration
	hooks           Hooks
	retryIf         func(error) bool
	rand            func() float64 // nil: math/rand/v2; tests pin it
}

func (c Config) resolve() (config, error) {
	var r config
	switch {
	case c.Isolation > Serializable:
		return r, fmt.Errorf("%w: unknown Isolation %v", ErrInvalidConfig, c.Isolation)
	case c.AccessMode > ReadOnly:
		return r, fmt.Errorf("%w: unknown AccessMode %v", ErrInvalidConfig, c.AccessMode)
	case c.MaxAttempts < 0:
		return r, fmt.Errorf("%w: negative MaxAttempts %d", ErrInvalidConfig, c.MaxAttempts)
	case c.MaxConnectAttempts < 0:
		return r, fmt.Errorf("%w: negative MaxConnectAttempts %d", ErrInvalidConfig, c.MaxConnectAttempts)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"MinDelay", c.MinDelay}, {"MaxDelay", c.MaxDelay}, {"LockTimeout", c.LockTimeout},
		{"StatementTimeout", c.StatementTimeout}, {"RollbackTimeout", c.RollbackTimeout},
		{"BeginTimeout", c.BeginTimeout},
	} {
		if d.v < 0 {
			return r, fmt.Errorf("%w: negative %s %v", ErrInvalidConfig, d.name, d.v)
		}
	}
	minD, maxD := cmp.Or(c.MinDelay, DefaultMinDelay), cmp.Or(c.MaxDelay, DefaultMaxDelay)
	if maxD < minD {
		return r, fmt.Errorf("%w: MaxDelay %v is below MinDelay %v", ErrInvalidConfig, maxD, minD)
	}
	r.base = settings{
		isolation:   c.Isolation,
		access:      c.AccessMode,
		maxAttempts: c.MaxAttempts,
		lockTimeout: c.LockTimeout,
		stmtTimeout: c.StatementTimeout,
	}
	if r.base.maxAttempts == 0 {
		r.base.maxAttempts = DefaultMaxAttempts
	}
	r.backoff = backoff.Exponential{Initial: minD, Max: maxD, Multiplier: 2, Jitter: backoff.FullJitter}
	r.rollbackTimeout = cmp.Or(c.RollbackTimeout, DefaultRollbackTimeout)
	r.maxConnect = cmp.Or(c.MaxConnectAttempts, DefaultMaxConnectAttempts)
	r.beginTimeout = c.BeginTimeout
	r.hooks = c.Hooks
	r.retryIf = c.RetryIf
	return r, nil
}

// Runner runs transactions on one database with one [Config]: retries,
// backoff, isolation and timeouts are set once, where the Runner is built.
// Most callers want [Runner.Do]; [Runner.Querier] gives repository code the
// transaction its context carries. The package-level [Do] is the same with
// the default Config, as http.Get is to an http.Client. It is safe for
// concurrent use; its zero value is not usable, build it with [New].
type Runner struct {
	db  DB
	cfg config
}

// New returns a Runner for db, or an error wrapping [ErrInvalidConfig]
// when db is nil or cfg is invalid.
func New(db DB, cfg Config) (*Runner, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil DB", ErrInvalidConfig)
	}
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return &Runner{db: db, cfg: c}, nil
}

// Do runs fn in a transaction on the Runner's database; see the package
// function [Do] for the semantics.
func (r *Runner) Do(ctx context.Context, fn Func, opts ...Option) error {
	return run(ctx, r.db, &r.cfg, fn, opts)
}

// Querier returns the transaction carried by ctx when it was started on the
// Runner's database, and the database itself otherwise.
func (r *Runner) Querier(ctx context.Context) Querier {
	if st := stateFrom(ctx); st != nil && sameDB(st.db, r.db) {
		return st.tx
	}
	return r.db
}

// Do runs fn in a transaction on db with the default [Config] and the given
// options, and commits it when fn returns nil.
//
// When fn returns an error, or panics, the transaction is rolled back and
// the error (or panic) is passed on unchanged; the error is marked
// [ErrLocked] when it carries SQLSTATE 55P03. A serialization failure, a
// deadlock, a connection error safe to retry (see [Retryable]), a
// connection lost before COMMIT was sent, or a database that could not be
// reached at BEGIN (the driver's [*pgconn.ConnectError] stays reachable with
// errors.As) makes Do roll back if needed and run fn again from the start,
// after a backoff with jitter, up to the attempt limit and never past the
// context deadline; running out returns a [*RetryError]. A database that
// cannot be reached is tried at most [DefaultMaxConnectAttempts] times in
// all: an outage returns an [*UnavailableError] (matching [ErrUnavailable])
// within milliseconds when connections are refused; a [Runner] can also
// bound the wait for BEGIN (Config.BeginTimeout). A COMMIT whose
// outcome is unknown returns a [*CommitUnknownError] and is never retried.
//
// When ctx already carries a transaction on the same db, Do nests: fn runs
// inside a savepoint, an error rolls back to the savepoint only and is
// returned, and no retry happens at this level. A serialization failure or
// deadlock inside a nested call still makes the outermost Do retry, even if
// the caller handled the error. Options that would change the outer
// transaction's characteristics return [ErrNestedOptions].
func Do(ctx context.Context, db Beginner, fn Func, opts ...Option) error {
	cfg := config{
		base:            settings{maxAttempts: DefaultMaxAttempts},
		backoff:         backoff.Exponential{Initial: DefaultMinDelay, Max: DefaultMaxDelay, Multiplier: 2},
		rollbackTimeout: DefaultRollbackTimeout,
		maxConnect:      DefaultMaxConnectAttempts,
	}
	return run(ctx, db, &cfg, fn, opts)
}

func run(ctx context.Context, db Beginner, cfg *config, fn Func, opts []Option) error {
	if db == nil || fn == nil {
		return fmt.Errorf("%w: nil database or function", ErrInvalidConfig)
	}
	s := cfg.base
	s.explicit = 0
	if len(opts) > 0 {
		if err := s.apply(opts); err != nil {
			return err
		}
	}
	if parent := stateFrom(ctx); parent != nil && sameDB(parent.db, db) {
		return nested(ctx, parent, cfg, &s, fn)
	}
	return markLocked(retryLoop(ctx, db, cfg, &s, fn))
}

// sameDB compares two Beginners without panicking on a non-comparable
// implementation, which is then treated as the same database: nesting is
// the safer guess, since a second transaction could deadlock on the first.
func sameDB(a, b Beginner) (same bool) {
	defer func() {
		if recover() != nil {
			same = true
		}
	}()
	return a == b
}

func retryLoop(ctx context.Context, db Beginner, cfg *config, s *settings, fn Func) error {
	unreachable := 0
	for attempt := 1; ; attempt++ {
		var start time.Time
		if cfg.hooks.OnAttempt != nil {
			start = time.Now()
		}
		err := attemptOnce(ctx, db, cfg, s, fn)
		if cfg.hooks.OnAttempt != nil {
			cfg.hooks.OnAttempt(ctx, Attempt{Label: s.label, Number: attempt, Duration: time.Since(start), Err: err})
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		down := unavailable(err)
		if down {
			unreachable++
		}
		var bt *beginTimeoutError
		if errors.As(err, &bt) || (down && unreachable >= cfg.maxConnect) {
			return &UnavailableError{Attempts: attempt, Err: err}
		}
		if !cfg.retryable(err) {
			return err
		}
		if attempt >= s.maxAttempts {
			if down {
				return &UnavailableError{Attempts: attempt, Err: err}
			}
			return &RetryError{Attempts: attempt, Err: err}
		}
		delay := cfg.backoff.Delay(attempt-1, cfg.rand)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= delay {
			if down {
				return &UnavailableError{Attempts: attempt, Err: err}
			}
			return &RetryError{Attempts: attempt, Deadline: true, Err: err}
		}
		if cfg.hooks.OnRetry != nil {
			cfg.hooks.OnRetry(ctx, Retry{Label: s.label, Attempt: attempt, Err: err, Delay: delay})
		}
		if serr := backoff.Sleep(ctx, delay); serr != nil {
			return fmt.Errorf("txn: %w while waiting to retry after: %w", serr, err)
		}
	}
}

func (c *config) retryable(err error) bool {
	if Retryable(err) {
		return true
	}
	if c.retryIf == nil || errors.Is(err, ErrCommitUnknown) || errors.Is(err, ErrRetriesExhausted) ||
		errors.Is(err, ErrInvalidConfig) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return c.retryIf(err)
}

// attemptOnce runs one outermost transaction from BEGIN to COMMIT.
func attemptOnce(ctx context.Context, db Beginner, cfg *config, s *settings, fn Func) error {
	tx, err := begin(ctx, db, cfg, s)
	if err != nil {
		return err
	}
	st := &state{Context: ctx, tx: tx, db: db, settings: *s}
	st.root = st
	if q := s.timeoutSQL(); q != "" {
		if _, err := tx.Exec(ctx, q); err != nil {
			err = lostBeforeCommit(tx, err)
			rollback(ctx, tx, cfg)
			return err
		}
	}
	finished := false
	defer func() {
		// Reached without finished only while fn panics or calls
		// runtime.Goexit: roll back and let the panic go on with its
		// original stack.
		if !finished {
			rollback(ctx, tx, cfg)
		}
	}()
	err = fn(st, tx)
	finished = true
	if err == nil {
		err = st.poisoned()
	}
	if err == nil && connClosed(tx) {
		// The function swallowed the error that broke the connection: the
		// server has rolled the transaction back, and COMMIT cannot be sent.
		err = &connLostError{pgconn.ErrConnClosed}
	}
	if err != nil {
		// Judged before the rollback: a pooled connection is released by
		// it, and a failed rollback closes it for reasons of its own.
		err = lostBeforeCommit(tx, err)
		rollback(ctx, tx, cfg)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return commitError(err)
	}
	st.runAfterCommit(ctx)
	return nil
}

// nested runs fn inside a savepoint of the transaction parent carries.
func nested(ctx context.Context, parent *state, cfg *config, s *settings, fn Func) error {
	root := parent.root
	if err := root.settings.nestedCompatible(s); err != nil {
		return err
	}
	sp, err := parent.tx.Begin(ctx)
	if err != nil {
		root.poison(err)
		return err
	}
	st := &state{Context: ctx, tx: sp, db: parent.db, root: root}
	mark := root.callbackMark()
	finished := false
	defer func() {
		if !finished {
			rollback(ctx, sp, cfg)
			root.dropCallbacks(mark)
		}
	}()
	err = fn(st, sp)
	finished = true
	if err != nil {
		root.poison(err)
		rollback(ctx, sp, cfg)
		root.dropCallbacks(mark)
		return markLocked(err)
	}
	if err := sp.Commit(ctx); err != nil {
		root.poison(err)
		root.dropCallbacks(mark)
		return err
	}
	return nil
}

// rollback rolls tx back on a context that survives the caller's
// cancellation, so that a cancelled request still returns its connection to
// the pool in a clean state. Its error is dropped: the caller already has
// the error that caused the rollback, and a failed rollback makes the
// driver discard the connection.
func rollback(ctx context.Context, tx pgx.Tx, cfg *config) {
	if ctx.Err() == nil {
		_ = tx.Rollback(ctx)
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(rctx)
}

// begin starts the transaction of one attempt, waiting at most the begin
// timeout; the transaction itself keeps ctx.
func begin(ctx context.Context, db Beginner, cfg *config, s *settings) (pgx.Tx, error) {
	bctx, cancel := ctx, context.CancelFunc(nil)
	if cfg.beginTimeout > 0 {
		bctx, cancel = context.WithTimeoutCause(ctx, cfg.beginTimeout, errBeginTimeout)
		defer cancel()
	}
	tx, err := db.BeginTx(bctx, s.txOptions())
	if err == nil {
		return tx, nil
	}
	if ctx.Err() == nil && context.Cause(bctx) == errBeginTimeout {
		return nil, &beginTimeoutError{wait: cfg.beginTimeout, err: err}
	}
	return nil, lostBeforeCommit(nil, err)
}
