package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// StatusError is the failure a [Transport] reports to its pipeline for a
// response it counts as failed (5xx or 429 by default). Its RetryAfter makes
// a [Retry] honour the server's Retry-After header.
type StatusError struct {
	StatusCode int
	// RetryAfter is the parsed Retry-After header, 0 when absent.
	RetryAfter time.Duration
}

// Error names the status code.
func (e *StatusError) Error() string {
	return "resilience: HTTP status " + strconv.Itoa(e.StatusCode)
}

// TransportConfig configures a [Transport].
type TransportConfig struct {
	// Base makes the requests. Default http.DefaultTransport.
	Base http.RoundTripper
	// Pipeline is applied to every request. Required. With a Hedge in it,
	// the responses of the requests that lost are closed by the Transport.
	Pipeline *Pipeline[*http.Response]
	// IsFailure reports whether a response is a failure, to be retried and
	// counted by a breaker. Default: status 5xx or 429.
	IsFailure func(*http.Response) bool
	// RetryNonIdempotent allows retrying requests whose method is not
	// idempotent (POST, PATCH, ...). Default false: such a request is
	// retried only if it carries an Idempotency-Key header.
	RetryNonIdempotent bool
	// Now is the clock used for HTTP-date Retry-After values. Default
	// time.Now.
	Now func() time.Time
}

// Transport is an [http.RoundTripper] that applies a [Pipeline] to each
// request. A failed response (5xx or 429) is a failure for the policies; if
// the policies give up, the caller still gets the last response (and a nil
// error), as from a plain transport. Responses discarded for a retry are
// drained and closed. A request is repeated only when its body can be
// replayed (GetBody) and it is idempotent, has an Idempotency-Key, or
// RetryNonIdempotent is set.
//
// Create one with [NewTransport]; the zero Transport is not usable. A
// Transport is safe for concurrent use.
type Transport struct {
	cfg TransportConfig
}

// NewTransport returns a Transport. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewTransport(cfg TransportConfig) (*Transport, error) {
	if cfg.Pipeline == nil {
		return nil, configError("Pipeline", "required")
	}
	p := *cfg.Pipeline // a copy, so that the caller's pipeline keeps its own discard
	p.discard = discard
	cfg.Pipeline = &p
	if cfg.Base == nil {
		cfg.Base = http.DefaultTransport
	}
	if cfg.IsFailure == nil {
		cfg.IsFailure = func(r *http.Response) bool {
			return r.StatusCode >= 500 || r.StatusCode == http.StatusTooManyRequests
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Transport{cfg: cfg}, nil
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !t.repeatable(req) {
		ctx = WithoutRetries(ctx)
	}
	rt := &roundTrip{t: t, req: req}
	resp, err := t.cfg.Pipeline.Execute(ctx, rt.attempt)
	last := rt.failed.finish()
	if err == nil {
		if last != nil {
			discard(last)
		}
		return resp, nil
	}
	if se := (*StatusError)(nil); errors.As(err, &se) && last != nil {
		return last, nil
	}
	if last != nil {
		discard(last)
	}
	return nil, err
}

// roundTrip is the state of one RoundTrip across its attempts.
type roundTrip struct {
	t        *Transport
	req      *http.Request
	attempts atomic.Int32
	failed   failedResponses
}

func (rt *roundTrip) attempt(ctx context.Context) (*http.Response, error) {
	t := rt.t
	// A new attempt supersedes the kept failure: free its connection
	// before making another request.
	rt.failed.keep(nil)
	r, err := t.prepare(ctx, rt.req, int(rt.attempts.Add(1)-1))
	if err != nil {
		return nil, err
	}
	resp, err := t.cfg.Base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if !t.cfg.IsFailure(resp) {
		return resp, nil
	}
	rt.failed.keep(resp)
	ra, _ := ParseRetryAfter(resp.Header.Get("Retry-After"), t.cfg.Now())
	var serr error = &StatusError{StatusCode: resp.StatusCode, RetryAfter: ra}
	if ra > 0 {
		serr = &RetryAfterError{After: ra, Err: serr}
	}
	return nil, serr
}

// failedResponses keeps the latest failed response of one RoundTrip, for
// the caller should the policies give up, and closes the ones it replaces.
// Hedged attempts make it concurrent; once finished, late arrivals are
// closed at once.
type failedResponses struct {
	mu       sync.Mutex
	last     *http.Response
	finished bool
}

// keep replaces the kept response with r (nil to just release it).
func (f *failedResponses) keep(r *http.Response) {
	f.mu.Lock()
	old := f.last
	if f.finished {
		old, r = r, nil
	}
	f.last = r
	f.mu.Unlock()
	if old != nil {
		discard(old)
	}
}

func (f *failedResponses) finish() *http.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finished = true
	last := f.last
	f.last = nil
	return last
}

// repeatable reports whether req may be sent more than once.
func (t *Transport) repeatable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return t.cfg.RetryNonIdempotent || req.Header.Get("Idempotency-Key") != ""
}

// prepare returns the request for one attempt: req itself with the
// attempt's context, and a fresh body from the second attempt on.
func (t *Transport) prepare(ctx context.Context, req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 0 && ctx == req.Context() {
		return req, nil // nothing to change: spare the copy
	}
	r := req.WithContext(ctx)
	if attempt > 0 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, Permanent(fmt.Errorf("resilience: replaying request body: %w", err))
		}
		r.Body = body
	}
	return r, nil
}

// discard drains a bounded amount of a response body so that the
// connection can be reused, then closes it.
func discard(r *http.Response) {
	_, _ = io.CopyN(io.Discard, r.Body, 64<<10)
	_ = r.Body.Close()
}

// ErrBadRetryAfter is returned by [ParseRetryAfter] for a value that is
// neither delay-seconds nor an HTTP-date.
var ErrBadRetryAfter = errors.New("resilience: malformed Retry-After")

// maxRetryAfter bounds parsed values so that arithmetic cannot overflow; no
// caller waits that long anyway.
const maxRetryAfter = 365 * 24 * time.Hour

// ParseRetryAfter parses an HTTP Retry-After header value (RFC 9110
// 10.2.3): delay-seconds or an HTTP-date, relative to now. An empty value
// is 0 with no error; a date in the past is 0. Values are capped at one
// year.
func ParseRetryAfter(v string, now time.Time) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if v[0] >= '0' && v[0] <= '9' {
		var secs int64
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w: %q", ErrBadRetryAfter, v)
			}
			if secs < int64(maxRetryAfter/time.Second) {
				secs = secs*10 + int64(c-'0')
			}
		}
		return min(time.Duration(secs)*time.Second, maxRetryAfter), nil
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadRetryAfter, v)
	}
	d := at.Sub(now)
	return min(max(d, 0), maxRetryAfter), nil
}

// FaultTransport is an [http.RoundTripper] that injects faults into
// requests: latency, transport errors, or a synthetic response. While its
// injector is disabled it costs one atomic load.
type FaultTransport struct {
	// Base makes the real requests. Default http.DefaultTransport.
	Base http.RoundTripper
	// Injector decides which requests are hit. Required.
	Injector *FaultInjector
	// StatusCode of the response returned for hits with Respond set.
	// Default 503.
	StatusCode int
	// Header of that response, copied for each one. It may carry a
	// Retry-After.
	Header http.Header
	// Body of that response.
	Body string
}

// RoundTrip implements [http.RoundTripper].
func (t *FaultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Injector == nil || t.Injector.active.Load() == nil {
		return base.RoundTrip(req)
	}
	f, ok := t.Injector.Hit()
	if !ok {
		return base.RoundTrip(req)
	}
	if err := backoff.Sleep(req.Context(), f.Latency); err != nil {
		closeBody(req)
		return nil, err
	}
	switch {
	case f.Respond:
		closeBody(req)
		return t.response(req), nil
	case f.Err != nil:
		closeBody(req)
		return nil, f.Err
	}
	return base.RoundTrip(req)
}

// closeBody honours the RoundTripper contract: the request body is closed
// even when no request is sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func (t *FaultTransport) response(req *http.Request) *http.Response {
	code := t.StatusCode
	if code == 0 {
		code = http.StatusServiceUnavailable
	}
	h := t.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(t.Body)),
		ContentLength: int64(len(t.Body)),
		Request:       req,
	}
}
