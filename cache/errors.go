package cache

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned by a Loader to say the key has no value. The
	// cache stores that answer for Config.NegativeTTL (negative caching) and
	// returns ErrNotFound to every caller until it expires.
	ErrNotFound = errors.New("cache: not found")

	// ErrNoLoader is returned by Get when neither the call nor Config.Load
	// provides a loader for a missing key.
	ErrNoLoader = errors.New("cache: no loader")

	// ErrClosed is returned by calls on a Cache after Close.
	ErrClosed = errors.New("cache: closed")

	// ErrInvalidConfig is wrapped by every *ConfigError.
	ErrInvalidConfig = errors.New("cache: invalid config")

	// ErrCorrupt reports stored bytes that are not a valid entry: truncated,
	// written by another format, or rejected by the codec. The cache treats
	// such an entry as a miss and overwrites it.
	ErrCorrupt = errors.New("cache: corrupt entry")

	// ErrLeaseLost reports, through Hooks.OnError, that a loaded value was not
	// written to the store because its lease was voided by a Delete or taken
	// over after expiring: a newer value or a deletion won.
	ErrLeaseLost = errors.New("cache: lease lost")

	// ErrInvalidTag is wrapped by the error of a load, Set or
	// InvalidateTags given an empty tag, a tag longer than MaxTagLength or
	// more than MaxTags tags for one entry.
	ErrInvalidTag = errors.New("cache: invalid tag")

	// ErrTagsUnsupported is returned by InvalidateTags, and by a load that
	// tags its entry, when the cache's store is not both a TagStore and a
	// Broadcaster: tags would silently fail to invalidate anything.
	ErrTagsUnsupported = errors.New("cache: store does not support tags")
)

// ConfigError reports a Config field that New rejected.
type ConfigError struct {
	Field  string
	Reason string
}

// Error describes the rejected field.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("cache: invalid config: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// PanicError is returned to the callers of a load whose loader panicked. The
// load runs on its own goroutine, where an unrecovered panic would end the
// process, so the panic is turned into this error instead.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the loader goroutine's stack at the panic
}

// Error reports the panic value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("cache: loader panicked: %v", e.Value)
}
