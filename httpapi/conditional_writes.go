package httpapi

import (
	"net/http"
	"slices"
)

// ConditionalWritesConfig configures [NewConditionalWrites].
type ConditionalWritesConfig struct {
	// Methods are the methods that must be conditional; PUT, PATCH and
	// DELETE when empty. Safe methods (GET, HEAD, OPTIONS, TRACE) cannot
	// be listed: a read needs no protection from lost updates.
	Methods []string
}

// ConditionalWrites refuses writes that carry no precondition with 428
// Precondition Required (RFC 6585 §3), so that a client cannot overwrite a
// change it never saw by leaving If-Match out. If-Match,
// If-Unmodified-Since and If-None-Match each make a request conditional
// (the last guards a PUT that must create). Most callers want
// [ConditionalWrites.Handler]; [ConditionalWrites.Check] makes the same
// decision without serving. It is safe for concurrent use.
type ConditionalWrites struct {
	methods []string
}

// NewConditionalWrites returns the middleware for cfg. An error wraps
// [ErrInvalidConfig].
func NewConditionalWrites(cfg ConditionalWritesConfig) (*ConditionalWrites, error) {
	methods := cfg.Methods
	if len(methods) == 0 {
		methods = []string{http.MethodPut, http.MethodPatch, http.MethodDelete}
	}
	for _, m := range methods {
		switch m {
		case "":
			return nil, configError("ConditionalWritesConfig.Methods", m, "empty method")
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return nil, configError("ConditionalWritesConfig.Methods", m, "a safe method cannot require a precondition")
		}
	}
	return &ConditionalWrites{methods: slices.Clone(methods)}, nil
}

// Check returns [ErrPreconditionRequired] when r's method must be
// conditional and r has none of If-Match, If-Unmodified-Since and
// If-None-Match, and nil otherwise. A field sent empty counts: it is a
// precondition that fails ([EvaluatePreconditions]).
func (c *ConditionalWrites) Check(r *http.Request) error {
	if !slices.Contains(c.methods, r.Method) {
		return nil
	}
	h := r.Header
	if present(h["If-Match"]) || present(h["If-Unmodified-Since"]) || present(h["If-None-Match"]) {
		return nil
	}
	return ErrPreconditionRequired
}

// Handler answers a request that [ConditionalWrites.Check] refuses with a
// 428 problem, and passes the others to next.
func (c *ConditionalWrites) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.Check(r) != nil {
			preconditionRequired.Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
