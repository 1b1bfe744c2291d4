package idempotency

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Config configures a [Middleware]. The zero value of every field is a
// documented default.
type Config struct {
	// Methods the middleware applies to; POST and PATCH when nil. Requests
	// with other methods pass through untouched.
	Methods []string
	// Required makes a request without a key fail with 400 instead of
	// passing through unprotected.
	Required bool
	// Retention is how long a completed response is kept; 24h when zero.
	Retention time.Duration
	// LockTTL bounds how long a key stays locked by a request whose process
	// died before it could complete or release it; 1m when zero. A handler
	// that runs longer than LockTTL loses its lock: its response reaches its
	// client but is not stored (Hooks.OnLockLost).
	LockTTL time.Duration
	// MaxRequestBytes is the largest request body read to fingerprint it;
	// 1 MiB when zero. A larger body gets 413.
	MaxRequestBytes int64
	// MaxResponseBytes is the largest response body stored; 64 KiB when
	// zero. A larger response is still sent to its client, and the key is
	// recorded as completed without a body: a repeat gets 410 Gone, whose
	// problem says the response was too large to store, rather than a
	// second run of the handler. The default is small because any client
	// may make the store keep one response per key for Retention: API
	// answers to writes are small, and a large one is better fetched again
	// than replayed.
	MaxResponseBytes int
	// StoredHeaders are the response headers kept and replayed, in canonical
	// form; Content-Type, Content-Language, Location, ETag, Last-Modified,
	// Cache-Control and Retry-After when nil.
	StoredHeaders []string
	// SkipClientErrors releases the key after a 4xx answer instead of storing
	// it, so that a client can fix its request and retry with the same key.
	SkipClientErrors bool
	// FailOpen runs the handler without protection when the store fails.
	// When false (the default) such a request gets 503.
	FailOpen bool
	// Principal names the caller, so that keys are scoped per principal;
	// every request is the same principal when nil. Use the authenticated
	// subject, never something the client chooses freely.
	Principal func(*http.Request) string
	// Route names the operation for the fingerprint; the matched
	// http.ServeMux pattern, or the URL path when there is none, when nil.
	Route func(*http.Request) string
	// Fingerprint replaces the default fingerprint (method, route, principal,
	// SHA-256 of the body) when set. body is the whole request body.
	Fingerprint func(r *http.Request, body []byte) Fingerprint
	// KeyPrefix is prepended to every store key; empty by default.
	KeyPrefix string
	// Hooks observe decisions; nil hooks cost nothing.
	Hooks Hooks
}

var (
	defaultMethods       = []string{http.MethodPost, http.MethodPatch}
	defaultStoredHeaders = []string{"Content-Type", "Content-Language", "Location", "Etag", "Last-Modified", "Cache-Control", "Retry-After"}
)

// DefaultMaxResponseBytes is the largest response body stored when
// Config.MaxResponseBytes is zero.
const DefaultMaxResponseBytes = 64 << 10

// ErrInvalidConfig is wrapped by every error [NewMiddleware] returns for a
// bad store or Config.
var ErrInvalidConfig = errors.New("idempotency: invalid config")

// NewMiddleware returns the middleware for store and cfg, or an error
// wrapping [ErrInvalidConfig].
func NewMiddleware(store Store, cfg Config) (*Middleware, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	switch {
	case cfg.Retention < 0, cfg.LockTTL < 0, cfg.MaxRequestBytes < 0, cfg.MaxResponseBytes < 0:
		return nil, fmt.Errorf("%w: negative Retention, LockTTL, MaxRequestBytes or MaxResponseBytes", ErrInvalidConfig)
	}
	if cfg.Retention == 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.LockTTL == 0 {
		cfg.LockTTL = time.Minute
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = 1 << 20
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	methods := cfg.Methods
	if methods == nil {
		methods = defaultMethods
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("%w: empty Methods", ErrInvalidConfig)
	}
	m := make(map[string]bool, len(methods))
	for _, meth := range methods {
		if meth == "" {
			return nil, fmt.Errorf("%w: empty method in Methods", ErrInvalidConfig)
		}
		m[meth] = true
	}
	headers := cfg.StoredHeaders
	if headers == nil {
		headers = defaultStoredHeaders
	}
	canon := make([]string, len(headers))
	for i, h := range headers {
		canon[i] = http.CanonicalHeaderKey(h)
	}
	return &Middleware{store: store, cfg: cfg, methods: m, headers: canon}, nil
}
