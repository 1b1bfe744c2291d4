package good

import (
	"errors"
	"net/http"
)

// ErrInvalidConfig is the config sentinel.
var ErrInvalidConfig = errors.New("good: invalid config")

// Hooks are value hooks.
type Hooks struct {
	// OnAllow runs on each allowed request.
	OnAllow func(r *http.Request)
	// OnReject runs on each refusal.
	OnReject Reject
}

// Reject is a named callback type.
type Reject func(r *http.Request, err error)

// Config configures a Middleware.
type Config struct {
	// Hooks are nil by default.
	Hooks Hooks
}

// Middleware is a value.
type Middleware struct{}

// NewMiddleware builds a Middleware.
func NewMiddleware(cfg Config) (*Middleware, error) { return &Middleware{}, nil }

// Handler serves through next.
func (m *Middleware) Handler(next http.Handler) http.Handler { return next }

// Goodness does not stutter: "good" is not a word of it.
type Goodness int
