package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Header names.
const (
	KeyHeader      = "Idempotency-Key"
	ReplayedHeader = "Idempotent-Replayed"
)

// Problem type URIs of the answers the middleware writes.
const (
	ProblemMissingKey   = "https://bedrock-go.dev/problems/idempotency-key-missing"
	ProblemInvalidKey   = "https://bedrock-go.dev/problems/idempotency-key-invalid"
	ProblemInProgress   = "https://bedrock-go.dev/problems/idempotency-in-progress"
	ProblemMismatch     = "https://bedrock-go.dev/problems/idempotency-key-reused"
	ProblemNotStored    = "https://bedrock-go.dev/problems/idempotency-response-not-stored"
	ProblemUnavailable  = "https://bedrock-go.dev/problems/idempotency-unavailable"
	ProblemBodyTooLarge = "https://bedrock-go.dev/problems/request-body-too-large"
)

// Config configures [Middleware]. The zero value of every field is a
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

// Hooks are optional callbacks for instrumentation. They run on the request
// goroutine and must not block.
type Hooks struct {
	OnReplay     func(r *http.Request)
	OnConflict   func(r *http.Request)            // key in progress: 409
	OnMismatch   func(r *http.Request)            // key reused for another request: 422
	OnStoreError func(r *http.Request, err error) // the store failed
	OnLockLost   func(r *http.Request, err error) // the lock expired before the handler ended
}

var (
	defaultMethods       = []string{http.MethodPost, http.MethodPatch}
	defaultStoredHeaders = []string{"Content-Type", "Content-Language", "Location", "Etag", "Last-Modified", "Cache-Control", "Retry-After"}
)

// DefaultMaxResponseBytes is the largest response body stored when
// Config.MaxResponseBytes is zero.
const DefaultMaxResponseBytes = 64 << 10

// ErrConfig is wrapped by every error [New] returns for a bad Config.
var ErrConfig = errors.New("idempotency: invalid config")

// Idempotency is the middleware built by [New]. It is safe for concurrent
// use.
type Idempotency struct {
	store   Store
	cfg     Config
	methods map[string]bool
	headers []string
}

// New returns the middleware for store and cfg, or an error wrapping
// [ErrConfig].
func New(store Store, cfg Config) (*Idempotency, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrConfig)
	}
	switch {
	case cfg.Retention < 0, cfg.LockTTL < 0, cfg.MaxRequestBytes < 0, cfg.MaxResponseBytes < 0:
		return nil, fmt.Errorf("%w: negative duration or size", ErrConfig)
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
		return nil, fmt.Errorf("%w: empty Methods", ErrConfig)
	}
	m := make(map[string]bool, len(methods))
	for _, meth := range methods {
		if meth == "" {
			return nil, fmt.Errorf("%w: empty method", ErrConfig)
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
	return &Idempotency{store: store, cfg: cfg, methods: m, headers: canon}, nil
}

// Middleware is New followed by [Idempotency.Handler]. It returns an error
// for a bad Config.
func Middleware(store Store, cfg Config) (func(http.Handler) http.Handler, error) {
	i, err := New(store, cfg)
	if err != nil {
		return nil, err
	}
	return i.Handler, nil
}

// Handler wraps next with idempotency-key handling.
func (i *Idempotency) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !i.methods[r.Method] {
			next.ServeHTTP(w, r)
			return
		}
		i.serve(w, r, next)
	})
}

func (i *Idempotency) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	values := r.Header.Values(KeyHeader)
	key, err := ParseKey(values)
	switch {
	case errors.Is(err, ErrKeyMissing):
		if i.cfg.Required {
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

	body, err := readBody(r, i.cfg.MaxRequestBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge,
				fmt.Sprintf("The request body exceeds %d bytes.", i.cfg.MaxRequestBytes))
			return
		}
		writeProblem(w, http.StatusBadRequest, "", "The request body could not be read.")
		return
	}
	principal := ""
	if i.cfg.Principal != nil {
		principal = i.cfg.Principal(r)
	}
	fp := i.fingerprint(r, principal, body)
	storeKey := i.cfg.KeyPrefix + scopedKey(principal, key)

	look, err := i.store.Begin(r.Context(), storeKey, fp, i.cfg.LockTTL)
	if err != nil {
		i.storeFailed(w, r, next, err)
		return
	}
	switch {
	case look.Fingerprint != fp:
		if h := i.cfg.Hooks.OnMismatch; h != nil {
			h(r)
		}
		writeProblem(w, http.StatusUnprocessableEntity, ProblemMismatch,
			"This Idempotency-Key was already used for a different request.")
	case look.State == InProgress:
		if h := i.cfg.Hooks.OnConflict; h != nil {
			h(r)
		}
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusConflict, ProblemInProgress,
			"A request with this Idempotency-Key is still being processed; retry later.")
	case look.State == Completed:
		if h := i.cfg.Hooks.OnReplay; h != nil {
			h(r)
		}
		replay(w, look.Response)
	default:
		i.run(w, r, next, storeKey, look.Token)
	}
}

// run executes the handler under the lock and stores or releases.
func (i *Idempotency) run(w http.ResponseWriter, r *http.Request, next http.Handler, key, token string) {
	rec := &recorder{ResponseWriter: w, limit: i.cfg.MaxResponseBytes}
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
		i.end(ctx, r, i.store.Release(ctx, key, token))
	}()
	next.ServeHTTP(rec, r)
	finished = true

	status := rec.statusOrOK()
	if status >= 500 || (status >= 400 && i.cfg.SkipClientErrors) {
		i.end(ctx, r, i.store.Release(ctx, key, token))
		return
	}
	resp := &Response{Status: status, Header: i.selectHeaders(rec.Header()), Body: rec.body.Bytes()}
	if rec.overflow {
		resp.Body, resp.BodyOmitted = nil, true
	}
	i.end(ctx, r, i.store.Complete(ctx, key, token, resp, i.cfg.Retention))
}

func (i *Idempotency) end(_ context.Context, r *http.Request, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, ErrLockLost) {
		if h := i.cfg.Hooks.OnLockLost; h != nil {
			h(r, err)
		}
		return
	}
	if h := i.cfg.Hooks.OnStoreError; h != nil {
		h(r, err)
	}
}

func (i *Idempotency) storeFailed(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
	if h := i.cfg.Hooks.OnStoreError; h != nil {
		h(r, err)
	}
	if i.cfg.FailOpen {
		next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "1")
	writeProblem(w, http.StatusServiceUnavailable, ProblemUnavailable,
		"Idempotency keys cannot be checked right now; retry later.")
}

func (i *Idempotency) fingerprint(r *http.Request, principal string, body []byte) Fingerprint {
	if i.cfg.Fingerprint != nil {
		return i.cfg.Fingerprint(r, body)
	}
	route := ""
	if i.cfg.Route != nil {
		route = i.cfg.Route(r)
	} else if r.Pattern != "" {
		route = r.Pattern
	} else {
		route = r.URL.Path
	}
	bodySum := sha256.Sum256(body)
	h := sha256.New()
	for _, part := range []string{r.Method, route, principal} {
		writeField(h, part)
	}
	h.Write(bodySum[:])
	var fp Fingerprint
	h.Sum(fp[:0])
	return fp
}

// writeField writes s length-prefixed, so that fields cannot run into each
// other ("ab"+"c" differs from "a"+"bc").
func writeField(w io.Writer, s string) {
	var n [8]byte
	l := strconv.AppendInt(n[:0], int64(len(s)), 10)
	w.Write(l)
	w.Write([]byte{':'})
	io.WriteString(w, s)
}

// scopedKey hashes the principal with the client's key, so that keys of
// different principals never meet and the store key has a fixed length.
func scopedKey(principal, key string) string {
	h := sha256.New()
	writeField(h, principal)
	writeField(h, key)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func (i *Idempotency) selectHeaders(h http.Header) http.Header {
	out := make(http.Header, len(i.headers))
	for _, k := range i.headers {
		if vs, ok := h[k]; ok {
			out[k] = slices.Clone(vs)
		}
	}
	return out
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func replay(w http.ResponseWriter, resp *Response) {
	if resp == nil || resp.BodyOmitted {
		writeProblem(w, http.StatusGone, ProblemNotStored,
			"The request with this Idempotency-Key was processed, but its response was too large to store.")
		return
	}
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = slices.Clone(vs)
	}
	h.Set(ReplayedHeader, "true")
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// problemTitles name the middleware's problem types. RFC 9457 wants a title
// that does not change between occurrences of a type.
var problemTitles = map[string]string{
	ProblemMissingKey:   "Idempotency key required",
	ProblemInvalidKey:   "Invalid idempotency key",
	ProblemInProgress:   "Request in progress",
	ProblemMismatch:     "Idempotency key reused",
	ProblemNotStored:    "Response not stored",
	ProblemUnavailable:  "Idempotency unavailable",
	ProblemBodyTooLarge: "Request body too large",
}

// writeProblem answers with a problem of type typ ("" for about:blank).
// Details are written for the client: they never carry error text, nor
// anything the client sent.
func writeProblem(w http.ResponseWriter, status int, typ, detail string) {
	problem.Write(w, problem.Details{Status: status, Type: typ, Title: problemTitles[typ], Detail: detail})
}

// recorder passes the response through to the client and keeps a copy of up
// to limit bytes of the body.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	limit    int
	overflow bool
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if !rec.overflow {
		if rec.body.Len()+len(p) > rec.limit {
			rec.overflow = true
			rec.body = bytes.Buffer{}
		} else {
			rec.body.Write(p)
		}
	}
	return rec.ResponseWriter.Write(p)
}

func (rec *recorder) statusOrOK() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush,
// deadlines, hijack).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
