package httpsec

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// DefaultMaxBodyBytes is the body limit when BodyLimitConfig.MaxBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// BodyLimitConfig configures [NewBodyLimit].
type BodyLimitConfig struct {
	// MaxBytes is the largest request body accepted. Zero means
	// DefaultMaxBodyBytes (1 MiB); negative is an error.
	MaxBytes int64
	// Hooks receives instrumentation callbacks; OnReject sees oversize
	// bodies.
	Hooks Hooks
}

// BodyLimit refuses request bodies over a size limit with 413 Content Too
// Large, as problem+json. A body announced too large by
// Content-Length is refused before the handler runs. A body that grows
// past the limit while the handler reads it makes the read fail with an
// error matching both ErrBodyTooLarge and *http.MaxBytesError; if the
// handler has not written its status yet, the 413 answer is sent at that
// moment and the handler's own later writes are discarded. Headers the
// handler set for the response it meant to send (Content-Encoding, ETag,
// Last-Modified, Location, Set-Cookie, ...) are dropped from that answer.
// The 413 answer carries Connection: close, so the rest of the body is
// never read.
//
// A handler may read the body on one goroutine while it writes the response
// on another: the 413 answer and the handler's writes are serialised. Its
// direct changes to the Header() map are not, as with any ResponseWriter.
//
// A BodyLimit must be created with [NewBodyLimit]; the zero value is not
// usable. It is safe for concurrent use. Its one method is
// [BodyLimit.Handler]: the limit holds while the handler reads, so there is
// no answer to give before serving.
type BodyLimit struct {
	max      int64
	err      error
	hooks    Hooks
	tooLarge cannedProblem
}

// NewBodyLimit validates cfg and returns the middleware.
func NewBodyLimit(cfg BodyLimitConfig) (*BodyLimit, error) {
	if cfg.MaxBytes < 0 {
		return nil, configErr("BodyLimitConfig.MaxBytes", strconv.FormatInt(cfg.MaxBytes, 10), ErrInvalidConfig, "must not be negative")
	}
	max := cfg.MaxBytes
	if max == 0 {
		max = DefaultMaxBodyBytes
	}
	return &BodyLimit{
		max:   max,
		err:   fmt.Errorf("%w: %w", ErrBodyTooLarge, &http.MaxBytesError{Limit: max}),
		hooks: cfg.Hooks,
		tooLarge: cannedProblem{problem.Render(problem.Details{
			Status:     http.StatusRequestEntityTooLarge,
			Detail:     "The request body is larger than " + strconv.FormatInt(max, 10) + " bytes.",
			Extensions: map[string]any{"max_bytes": max},
		}).Closing()},
	}, nil
}

// Handler returns next with its request bodies limited.
func (b *BodyLimit) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > b.max {
			b.refuse(w, r)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		// Content-Length is not trusted on its own: an inner layer may
		// have replaced the body, and HTTP/2 bodies may arrive without it.
		s := &limitState{limit: b, req: r, rc: r.Body, remaining: b.max, w: w}
		s.body.s, s.writer.s = s, s
		r.Body = &s.body
		next.ServeHTTP(&s.writer, r)
	})
}

func (b *BodyLimit) refuse(w http.ResponseWriter, r *http.Request) {
	b.hooks.reject(r, b.err)
	// Connection: close spares the server from reading the rest of a body
	// it will never use.
	b.tooLarge.write(w)
}

// limitState is shared by the body reader and the response writer of one
// request; both live in it so that a request costs one allocation.
type limitState struct {
	limit     *BodyLimit
	req       *http.Request
	rc        io.ReadCloser
	remaining int64
	readErr   error
	w         http.ResponseWriter
	body      limitedBody
	writer    limitedWriter

	// mu guards the fields below: a handler may read the body on one
	// goroutine while writing the response on another.
	mu       sync.Mutex
	started  bool // the handler sent its status
	answered bool // the 413 answer was sent
}

type limitedBody struct{ s *limitState }

// Read reads at most the limit plus one byte, to tell a body of exactly
// the limit from a longer one.
func (b *limitedBody) Read(p []byte) (int, error) {
	s := b.s
	if s.readErr != nil {
		return 0, s.readErr
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p))-1 > s.remaining {
		p = p[:s.remaining+1]
	}
	n, err := s.rc.Read(p)
	if int64(n) <= s.remaining {
		s.remaining -= int64(n)
		s.readErr = err
		return n, err
	}
	n = int(s.remaining)
	s.remaining = 0
	s.readErr = s.limit.err
	s.trip()
	return n, s.readErr
}

func (b *limitedBody) Close() error { return b.s.rc.Close() }

// trip answers 413 unless the handler already started its response, and
// reports the refusal either way. The hook runs outside the lock, so that
// it may use the response writer.
func (s *limitState) trip() {
	s.mu.Lock()
	if !s.started && !s.answered {
		s.answered = true
		s.limit.tooLarge.replace(s.w)
	}
	s.mu.Unlock()
	s.limit.hooks.reject(s.req, s.limit.err)
}

type limitedWriter struct{ s *limitState }

// Header returns the response headers; once the 413 answer is sent, it
// returns a detached map, so the handler's late changes touch nothing that
// a wrapper or recorder might still read.
func (w *limitedWriter) Header() http.Header {
	s := w.s
	s.mu.Lock()
	answered := s.answered
	s.mu.Unlock()
	if answered {
		return http.Header{}
	}
	return s.w.Header()
}

func (w *limitedWriter) WriteHeader(code int) {
	s := w.s
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return
	}
	if code >= 200 || code == http.StatusSwitchingProtocols {
		s.started = true
	}
	s.mu.Unlock()
	s.w.WriteHeader(code)
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	s := w.s
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return 0, s.limit.err
	}
	s.started = true
	s.mu.Unlock()
	return s.w.Write(p)
}

// Flush sends buffered data to the client when the underlying writer can.
func (w *limitedWriter) Flush() {
	s := w.s
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	_ = http.NewResponseController(s.w).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *limitedWriter) Unwrap() http.ResponseWriter { return w.s.w }
