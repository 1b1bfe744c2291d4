package txn

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Option adjusts one transaction run by [Do] or [Runner.Do]. The option
// types are [Isolation], [AccessMode], [Deferrable], [MaxAttempts],
// [LockTimeout], [StatementTimeout] and [Label]; passing them does not
// allocate.
type Option interface{ isOption() }

// Isolation is a transaction isolation level.
type Isolation uint8

const (
	// DefaultIsolation leaves the level to the server's
	// default_transaction_isolation (READ COMMITTED unless configured).
	DefaultIsolation Isolation = iota
	// ReadCommitted sees rows committed before each statement began.
	ReadCommitted
	// RepeatableRead sees one snapshot taken at the first statement; a write
	// to a row changed since fails with a serialization failure.
	RepeatableRead
	// Serializable behaves as if transactions ran one at a time; any
	// dangerous interleaving fails with a serialization failure, which [Do]
	// retries.
	Serializable
)

var isolationNames = [...]string{"default", "read committed", "repeatable read", "serializable"}

// String returns the SQL spelling of the level, or "default".
func (i Isolation) String() string {
	if int(i) < len(isolationNames) {
		return isolationNames[i]
	}
	return "Isolation(" + strconv.Itoa(int(i)) + ")"
}

func (Isolation) isOption() {}

// AccessMode is a transaction access mode.
type AccessMode uint8

const (
	// DefaultAccess leaves the mode to the server's
	// default_transaction_read_only (read write unless configured).
	DefaultAccess AccessMode = iota
	// ReadWrite allows writes.
	ReadWrite
	// ReadOnly rejects writes to permanent tables.
	ReadOnly
)

// String returns the SQL spelling of the mode, or "default".
func (a AccessMode) String() string {
	switch a {
	case DefaultAccess:
		return "default"
	case ReadWrite:
		return "read write"
	case ReadOnly:
		return "read only"
	}
	return "AccessMode(" + strconv.Itoa(int(a)) + ")"
}

func (AccessMode) isOption() {}

// Deferrable, when true, starts the transaction DEFERRABLE. PostgreSQL
// honours it only for SERIALIZABLE READ ONLY transactions, which then wait
// for a safe snapshot and can never fail with a serialization failure.
type Deferrable bool

func (Deferrable) isOption() {}

// MaxAttempts bounds the attempts of one transaction, first included; 1
// disables retries. It must be at least 1. It is ignored in a nested [Do],
// since only the outermost transaction retries.
type MaxAttempts int

func (MaxAttempts) isOption() {}

// LockTimeout sets lock_timeout for the transaction (SET LOCAL): a statement
// that waits longer than this for a lock fails with SQLSTATE 55P03, which
// [Do] reports as [ErrLocked]. Durations are rounded up to whole
// milliseconds; it must not be negative.
type LockTimeout time.Duration

func (LockTimeout) isOption() {}

// StatementTimeout sets statement_timeout for the transaction (SET LOCAL).
// Durations are rounded up to whole milliseconds; it must not be negative.
type StatementTimeout time.Duration

func (StatementTimeout) isOption() {}

// Label names the transaction for the [Hooks]; it has no effect on
// PostgreSQL.
type Label string

func (Label) isOption() {}

// settings are the resolved characteristics of one transaction.
type settings struct {
	isolation   Isolation
	access      AccessMode
	deferrable  bool
	maxAttempts int
	lockTimeout time.Duration
	stmtTimeout time.Duration
	label       string
	explicit    uint8 // which characteristics the options named, for nested checks
}

const (
	setIsolation uint8 = 1 << iota
	setAccess
	setDeferrable
	setLockTimeout
	setStmtTimeout
)

// apply merges opts into s. It is written as a type switch, not a method
// call, so that the variadic slice does not escape and passing options
// costs no allocation.
func (s *settings) apply(opts []Option) error {
	for _, o := range opts {
		switch o := o.(type) {
		case Isolation:
			if o > Serializable {
				return fmt.Errorf("%w: unknown isolation %v", ErrInvalidConfig, o)
			}
			s.isolation, s.explicit = o, s.explicit|setIsolation
		case AccessMode:
			if o > ReadOnly {
				return fmt.Errorf("%w: unknown access mode %v", ErrInvalidConfig, o)
			}
			s.access, s.explicit = o, s.explicit|setAccess
		case Deferrable:
			s.deferrable, s.explicit = bool(o), s.explicit|setDeferrable
		case MaxAttempts:
			if o < 1 {
				return fmt.Errorf("%w: MaxAttempts %d is below 1", ErrInvalidConfig, int(o))
			}
			s.maxAttempts = int(o)
		case LockTimeout:
			if o < 0 {
				return fmt.Errorf("%w: negative LockTimeout %v", ErrInvalidConfig, time.Duration(o))
			}
			s.lockTimeout, s.explicit = time.Duration(o), s.explicit|setLockTimeout
		case StatementTimeout:
			if o < 0 {
				return fmt.Errorf("%w: negative StatementTimeout %v", ErrInvalidConfig, time.Duration(o))
			}
			s.stmtTimeout, s.explicit = time.Duration(o), s.explicit|setStmtTimeout
		case Label:
			s.label = string(o)
		case nil:
			return fmt.Errorf("%w: nil Option", ErrInvalidConfig)
		default:
			return fmt.Errorf("%w: unknown Option %T", ErrInvalidConfig, o)
		}
	}
	return nil
}

// nestedCompatible reports whether a nested call with settings n may run in
// a transaction with settings s: whatever n names explicitly must equal s.
func (s *settings) nestedCompatible(n *settings) error {
	switch {
	case n.explicit&setIsolation != 0 && n.isolation != s.isolation:
		return fmt.Errorf("%w: isolation %v inside %v", ErrNestedOptions, n.isolation, s.isolation)
	case n.explicit&setAccess != 0 && n.access != s.access:
		return fmt.Errorf("%w: access mode %v inside %v", ErrNestedOptions, n.access, s.access)
	case n.explicit&setDeferrable != 0 && n.deferrable != s.deferrable:
		return fmt.Errorf("%w: deferrable %v inside %v", ErrNestedOptions, n.deferrable, s.deferrable)
	case n.explicit&setLockTimeout != 0 && n.lockTimeout != s.lockTimeout:
		return fmt.Errorf("%w: lock timeout %v inside %v", ErrNestedOptions, n.lockTimeout, s.lockTimeout)
	case n.explicit&setStmtTimeout != 0 && n.stmtTimeout != s.stmtTimeout:
		return fmt.Errorf("%w: statement timeout %v inside %v", ErrNestedOptions, n.stmtTimeout, s.stmtTimeout)
	}
	return nil
}

func (s *settings) txOptions() pgx.TxOptions {
	var o pgx.TxOptions
	switch s.isolation {
	case ReadCommitted:
		o.IsoLevel = pgx.ReadCommitted
	case RepeatableRead:
		o.IsoLevel = pgx.RepeatableRead
	case Serializable:
		o.IsoLevel = pgx.Serializable
	}
	switch s.access {
	case ReadWrite:
		o.AccessMode = pgx.ReadWrite
	case ReadOnly:
		o.AccessMode = pgx.ReadOnly
	}
	if s.deferrable {
		o.DeferrableMode = pgx.Deferrable
	}
	return o
}

// timeoutSQL returns the SET LOCAL statements for the timeouts, or "" when
// there are none, so that the common case costs no round trip.
func (s *settings) timeoutSQL() string {
	if s.lockTimeout == 0 && s.stmtTimeout == 0 {
		return ""
	}
	q := ""
	if s.lockTimeout > 0 {
		q = "SET LOCAL lock_timeout = " + strconv.FormatInt(ceilMillis(s.lockTimeout), 10) + ";"
	}
	if s.stmtTimeout > 0 {
		q += "SET LOCAL statement_timeout = " + strconv.FormatInt(ceilMillis(s.stmtTimeout), 10) + ";"
	}
	return q
}

// ceilMillis rounds up, because a timeout of 0 means "none" to PostgreSQL
// and must never come from a small positive duration.
func ceilMillis(d time.Duration) int64 {
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int64(ms)
}
