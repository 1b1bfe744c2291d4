package idempotency

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Middleware answers repeats of a request that carries an Idempotency-Key
// with the stored response of the first. Its one method is
// [Middleware.Handler]; there is no decision to ask for alone, since
// answering a repeat is serving it. It is safe for concurrent use and may
// wrap any number of handlers, each scoped by its route in the
// fingerprint.
type Middleware struct {
	store   Store
	cfg     Config
	methods map[string]bool
	headers []string
}

// Handler wraps next with idempotency-key handling. Requests with a method
// outside Config.Methods pass through untouched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.methods[r.Method] {
			next.ServeHTTP(w, r)
			return
		}
		m.serve(w, r, next)
	})
}

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	values := r.Header.Values(KeyHeader)
	key, err := ParseKey(values)
	switch {
	case errors.Is(err, ErrKeyMissing):
		if m.cfg.Required {
			writeProblem(w, http.StatusBadRequest, ProblemMissingKey, "This operation requires an Idempotency-Key header.")
			return
		}
		next.ServeHTTP(w, r)
		return
	case err != nil:
		detail := "The Idempotency-Key header must hold 1 to 255 printable ASCII characters, as a token or a quoted string."
		if len(values) > 1 {
			detail = "Send the Idempotency-Key header once."
		}
		writeProblem(w, http.StatusBadRequest, ProblemInvalidKey, detail)
		return
	}

	body, err := readBody(r, m.cfg.MaxRequestBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge,
				fmt.Sprintf("The request body exceeds %d bytes.", m.cfg.MaxRequestBytes))
			return
		}
		writeProblem(w, http.StatusBadRequest, "", "The request body could not be read.")
		return
	}
	principal := ""
	if m.cfg.Principal != nil {
		principal = m.cfg.Principal(r)
	}
	fp := m.fingerprint(r, principal, body)
	storeKey := m.cfg.KeyPrefix + scopedKey(principal, key)

	look, err := m.store.Begin(r.Context(), storeKey, fp, m.cfg.LockTTL)
	if err != nil {
		m.storeFailed(w, r, next, err)
		return
	}
	switch {
	case look.Fingerprint != fp:
		if h := m.cfg.Hooks.OnMismatch; h != nil {
			h(r)
		}
		writeProblem(w, http.StatusUnprocessableEntity, ProblemMismatch,
			"This Idempotency-Key was already used for a different request.")
	case look.State == InProgress:
		if h := m.cfg.Hooks.OnConflict; h != nil {
			h(r)
		}
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusConflict, ProblemInProgress,
			"A request with this Idempotency-Key is still being processed; retry later.")
	case look.State == Completed:
		if h := m.cfg.Hooks.OnReplay; h != nil {
			h(r)
		}
		replay(w, look.Response)
	default:
		m.run(w, r, next, storeKey, look.Token)
	}
}

// run executes the handler under the lock and stores or releases.
func (m *Middleware) run(w http.ResponseWriter, r *http.Request, next http.Handler, key, token string) {
	rec := &recorder{ResponseWriter: w, limit: m.cfg.MaxResponseBytes}
	// A detached context: the outcome must be recorded even if the client
	// went away, or the key stays locked until LockTTL.
	ctx := context.WithoutCancel(r.Context())
	finished := false
	defer func() {
		if finished {
			return
		}
		// The handler panicked: free the key so the client may retry, then
		// let the panic continue to the server.
		m.end(r, m.store.Release(ctx, key, token))
	}()
	next.ServeHTTP(rec, r)
	finished = true

	status := rec.statusOrOK()
	if status >= 500 || (status >= 400 && m.cfg.SkipClientErrors) {
		m.end(r, m.store.Release(ctx, key, token))
		return
	}
	resp := &Response{Status: status, Header: m.selectHeaders(rec.Header()), Body: rec.body.Bytes()}
	if rec.overflow {
		resp.Body, resp.BodyOmitted = nil, true
	}
	m.end(r, m.store.Complete(ctx, key, token, resp, m.cfg.Retention))
}

// end reports what went wrong when the outcome could not be recorded.
func (m *Middleware) end(r *http.Request, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, ErrLockLost) {
		if h := m.cfg.Hooks.OnLockLost; h != nil {
			h(r, err)
		}
		return
	}
	if h := m.cfg.Hooks.OnStoreError; h != nil {
		h(r, err)
	}
}

func (m *Middleware) storeFailed(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
	if h := m.cfg.Hooks.OnStoreError; h != nil {
		h(r, err)
	}
	if m.cfg.FailOpen {
		next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "1")
	writeProblem(w, http.StatusServiceUnavailable, ProblemUnavailable,
		"Idempotency keys cannot be checked right now; retry later.")
}
