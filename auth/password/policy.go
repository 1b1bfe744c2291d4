package password

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Policy checks new passwords the way NIST SP 800-63B asks: a minimum and a
// maximum length, an optional check against known-breached passwords, and no
// composition rules (they make passwords weaker, not stronger). The zero
// value requires 8 to 1024 characters. [Policy.Check] is its one method:
// call it on a new password before hashing it.
type Policy struct {
	// MinLength in Unicode code points after NFKC normalisation; 8 when zero.
	MinLength int
	// MaxLength in bytes after NFKC normalisation; 1024 when zero, and never
	// more than [MaxPasswordBytes].
	MaxLength int
	// Breached reports whether a password is in a breached-password set
	// supplied by the caller (a local list, a k-anonymity service). Nil skips
	// the check.
	Breached func(ctx context.Context, password string) (bool, error)
}

// Reasons a password is refused.
var (
	ErrTooShort    = errors.New("password: too short")
	ErrBreached    = errors.New("password: found in a breach")
	ErrInvalidUTF8 = errors.New("password: not valid UTF-8")
)

// PolicyError tells why a password was refused. It wraps ErrTooShort,
// ErrTooLong, ErrBreached or ErrInvalidUTF8.
type PolicyError struct {
	Err error
	Min int // the minimum length, for messages
	Max int // the maximum length, for messages
}

// Error returns the reason's message.
func (e *PolicyError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *PolicyError) Unwrap() error { return e.Err }

// Check returns nil if password is acceptable, a *PolicyError if it is not,
// or the Breached callback's error.
func (p Policy) Check(ctx context.Context, password string) error {
	lo, hi := p.MinLength, p.MaxLength
	if lo <= 0 {
		lo = 8
	}
	if hi <= 0 || hi > MaxPasswordBytes {
		hi = MaxPasswordBytes
	}
	fail := func(err error) error { return &PolicyError{Err: err, Min: lo, Max: hi} }
	if !utf8.ValidString(password) {
		return fail(ErrInvalidUTF8)
	}
	pw, err := normalize(password)
	if err != nil || len(pw) > hi {
		return fail(ErrTooLong)
	}
	if utf8.RuneCount(pw) < lo {
		return fail(ErrTooShort)
	}
	if p.Breached != nil {
		bad, err := p.Breached(ctx, string(pw))
		if err != nil {
			return fmt.Errorf("password: breached-password check: %w", err)
		}
		if bad {
			return fail(ErrBreached)
		}
	}
	return nil
}

// Calibrate returns argon2id parameters with memory KiB of memory (19456
// when zero) and one lane, and the number of passes (at least 2) whose hash
// takes about target on this machine. Run it at deploy time, not per
// request: it hashes repeatedly.
func Calibrate(target time.Duration, memory uint32) Params {
	p := DefaultParams()
	if memory != 0 {
		p.Memory = memory
	}
	salt := make([]byte, p.SaltLen)
	pw := []byte("calibration password")
	time1 := func(t uint32) time.Duration {
		start := time.Now()
		argon2.IDKey(pw, salt, t, p.Memory, p.Threads, p.KeyLen)
		return time.Since(start)
	}
	perPass := time1(1)
	if perPass <= 0 {
		perPass = time.Microsecond
	}
	t := uint32(target / perPass)
	p.Time = max(t, 2)
	if p.Time > DefaultBounds().MaxTime {
		p.Time = DefaultBounds().MaxTime
	}
	return p
}
