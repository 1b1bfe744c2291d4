package txn

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// state is the transaction a context carries. It is itself the context
// handed to the transaction function, so that carrying the transaction
// costs one allocation instead of a state plus a context.WithValue.
type state struct {
	context.Context
	tx       pgx.Tx   // the transaction, or the savepoint for a nested call
	db       Beginner // identifies the database, for nesting
	root     *state   // the outermost transaction; itself at the top
	settings settings // the outermost transaction's characteristics, copied so that they do not escape

	// Fields below are used on the root only.
	mu          sync.Mutex
	afterCommit []func(context.Context)
	retryErr    error // a retryable error a nested call saw
}

type stateKey struct{}

// noState marks a context detached from its transaction by [WithoutTx].
type noState struct{ context.Context }

func (c noState) Value(key any) any {
	if key == (stateKey{}) {
		return nil
	}
	return c.Context.Value(key)
}

// Value returns the state itself for the package's key, so that contexts
// derived from it still find the transaction.
func (s *state) Value(key any) any {
	if key == (stateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

func stateFrom(ctx context.Context) *state {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(stateKey{}).(*state)
	return st
}

// From returns the transaction ctx carries, or false when it carries none.
// Inside a nested [Do] it is the savepoint's transaction.
func From(ctx context.Context) (pgx.Tx, bool) {
	if st := stateFrom(ctx); st != nil {
		return st.tx, true
	}
	return nil, false
}

// QuerierFrom returns the transaction ctx carries, or db when it carries
// none. Repository code calls it so that the same method works inside and
// outside a transaction without a tx parameter. It does not check that the
// transaction belongs to db; with several databases use
// [Runner.Querier], which does.
func QuerierFrom(ctx context.Context, db Querier) Querier {
	if st := stateFrom(ctx); st != nil {
		return st.tx
	}
	return db
}

// WithoutTx returns a context with the values of ctx but no transaction, for
// work that must not join it (an audit record that must survive a
// rollback, a call that starts its own independent transaction).
func WithoutTx(ctx context.Context) context.Context {
	if stateFrom(ctx) == nil {
		return ctx
	}
	return noState{ctx}
}

// AfterCommit registers f to run after the outermost transaction in ctx
// commits, for effects that must follow the commit and never happen
// without it: invalidating a cache, publishing an event, waking a worker.
// f does not run when the transaction rolls back, when the attempt that
// registered it is retried, or when the savepoint of the nested call that
// registered it is rolled back. Callbacks run in registration order on the
// goroutine that called the outermost [Do], with the context passed to it;
// a panicking callback stops the ones after it and panics Do after the
// commit.
//
// Without a transaction in ctx, there is nothing to wait for and f runs at
// once. A nil f is ignored. AfterCommit is safe for concurrent use.
func AfterCommit(ctx context.Context, f func(ctx context.Context)) {
	if f == nil {
		return
	}
	st := stateFrom(ctx)
	if st == nil {
		f(ctx)
		return
	}
	root := st.root
	root.mu.Lock()
	root.afterCommit = append(root.afterCommit, f)
	root.mu.Unlock()
}

func (s *state) callbackMark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.afterCommit)
}

func (s *state) dropCallbacks(mark int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mark < len(s.afterCommit) {
		clear(s.afterCommit[mark:])
		s.afterCommit = s.afterCommit[:mark]
	}
}

func (s *state) runAfterCommit(ctx context.Context) {
	s.mu.Lock()
	fns := s.afterCommit
	s.afterCommit = nil
	s.mu.Unlock()
	for _, f := range fns {
		f(ctx)
	}
}

// poison records a retryable error seen by a nested call, so that the
// outermost transaction retries even if the caller swallowed the error:
// after a serialization failure or deadlock, committing what is left would
// break the guarantees the isolation level promises.
func (s *state) poison(err error) {
	if !IsSerializationFailure(err) && !IsDeadlock(err) {
		return
	}
	s.mu.Lock()
	if s.retryErr == nil {
		s.retryErr = err
	}
	s.mu.Unlock()
}

func (s *state) poisoned() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retryErr
}
