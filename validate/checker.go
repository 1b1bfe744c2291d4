package validate

import (
	"fmt"
	"sync"
)

// Config configures a [Checker]. The zero Config is ready to use.
type Config struct {
	// MaxBodyBytes bounds the request body [Checker.DecodeJSON] reads; a
	// larger body is refused with [ErrBodyTooLarge] (413). Zero means 1 MiB.
	MaxBodyBytes int64
	// MaxDepth bounds how deeply objects and arrays may nest; a deeper
	// document is refused with [ErrTooDeep]. Zero means 32.
	MaxDepth int
	// MaxViolations bounds the violations one Check or DecodeJSON reports,
	// so that a hostile body cannot produce a huge response. Zero means
	// [DefaultMaxViolations] (20).
	MaxViolations int
	// Translator renders violation messages in problem responses. Nil
	// means the English templates.
	Translator Translator
	// ProblemTypeBase, when set, makes the "type" member of problem
	// responses a URI of its own per kind of failure: the base followed by
	// "validation", "malformed-json", "body-too-large",
	// "unsupported-media-type" or "internal". Empty means "about:blank",
	// which RFC 9457 defines as "no more than the status code says".
	ProblemTypeBase string
	// Hooks observe outcomes, for metrics and logs. Nil fields cost
	// nothing.
	Hooks Hooks
}

// Hooks are callbacks for instrumentation. They run synchronously on the
// request's goroutine and must be safe for concurrent use.
type Hooks struct {
	// OnInvalid is called when Check or DecodeJSON finds rule violations.
	OnInvalid func(err *Errors)
	// OnDecodeError is called when DecodeJSON refuses a body.
	OnDecodeError func(err *DecodeError)
}

// Defaults of [Config].
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxDepth     = 32
	maxMaxDepth         = 10_000 // deeper would risk the goroutine stack
)

// Checker validates values and decodes JSON request bodies strictly. Most
// callers want [Checker.DecodeJSON] in a handler, which decodes a request
// body and runs its rules, then [Checker.WriteProblem] for the error it
// returns (or [Checker.HandlerFunc], which does that for a handler that
// returns errors); [Checker.Check] validates a value from elsewhere. It
// pools Validators, so that validating a valid value allocates nothing, and
// caches what it learns about each decoded type. A Checker is safe for
// concurrent use; create one per service and share it. A zero Checker
// behaves as one made from a zero Config.
type Checker struct {
	cfg     Config
	pool    sync.Pool
	schemas schemaCache
}

// New returns a Checker for cfg, or an error wrapping [ErrInvalidConfig]
// when a limit is negative or MaxDepth is above 10 000.
func New(cfg Config) (*Checker, error) {
	switch {
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("%w: MaxBodyBytes %d is negative", ErrInvalidConfig, cfg.MaxBodyBytes)
	case cfg.MaxDepth < 0 || cfg.MaxDepth > maxMaxDepth:
		return nil, fmt.Errorf("%w: MaxDepth %d is outside 0..%d", ErrInvalidConfig, cfg.MaxDepth, maxMaxDepth)
	case cfg.MaxViolations < 0:
		return nil, fmt.Errorf("%w: MaxViolations %d is negative", ErrInvalidConfig, cfg.MaxViolations)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxViolations == 0 {
		cfg.MaxViolations = DefaultMaxViolations
	}
	return &Checker{cfg: cfg}, nil
}

// Check runs x's rules and returns nil or an [*Errors]. A valid x costs no
// allocation.
func (c *Checker) Check(x Validatable) error {
	v := c.validator()
	x.Validate(v)
	var err error
	if !v.Valid() {
		e := v.errors()
		if h := c.cfg.Hooks.OnInvalid; h != nil {
			h(e)
		}
		err = e
	}
	v.Reset()
	c.pool.Put(v)
	return err
}

func (c *Checker) validator() *Validator {
	if v, ok := c.pool.Get().(*Validator); ok {
		return v
	}
	return &Validator{limit: c.cfg.MaxViolations}
}

func (c *Checker) maxBodyBytes() int64 {
	if c.cfg.MaxBodyBytes == 0 {
		return DefaultMaxBodyBytes
	}
	return c.cfg.MaxBodyBytes
}

func (c *Checker) maxDepth() int {
	if c.cfg.MaxDepth == 0 {
		return DefaultMaxDepth
	}
	return c.cfg.MaxDepth
}
