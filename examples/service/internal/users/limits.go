package users

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/validate"
)

// LoginLimiters limit password guessing; a nil field leaves that limit out.
type LoginLimiters struct {
	// PerIP counts every login request of a client address, malformed ones
	// included: one client guessing at many accounts.
	PerIP *ratelimit.Limiter
	// PerEmailClient counts the attempts at one email from one client
	// address: an attacker exhausts it for himself, never for the owner
	// logging in from elsewhere.
	PerEmailClient *ratelimit.Limiter
	// PerEmail is a slower ceiling on the attempts at one email from all
	// clients together, against guessing spread over many addresses. Only
	// attempts the per-client limit admitted count against it.
	PerEmail *ratelimit.Limiter
}

// maxLoginBody bounds a login body, which is tiny. The body is decoded once,
// under this bound, for both the handler and the limit keys, so that no
// attempt at an email can count under another key.
const maxLoginBody = 8 << 10

// loginKey carries the decoded login request in the request's context.
type loginKey struct{}

// loginRoute wraps the login handler in its limits: per client address
// first, then the one strict decode, then the limits keyed by the decoded
// email.
func (s *handlers) loginRoute(lim LoginLimiters, clientIP ratelimit.ClientIPConfig) (http.Handler, error) {
	decoder, err := validate.New(validate.Config{MaxBodyBytes: maxLoginBody})
	if err != nil {
		return nil, err
	}
	ipKey, err := ratelimit.KeyByClientIP(clientIP)
	if err != nil {
		return nil, err
	}
	var h http.Handler = http.HandlerFunc(s.login)
	wrap := func(l *ratelimit.Limiter, key ratelimit.KeyFunc) error {
		if l == nil {
			return nil
		}
		mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: key})
		if err == nil {
			h = mw.Handler(h)
		}
		return err
	}
	// Innermost first.
	if err := wrap(lim.PerEmail, func(r *http.Request) (string, error) {
		return "login-email:" + emailDigest(loginFrom(r.Context()).Email), nil
	}); err != nil {
		return nil, err
	}
	if err := wrap(lim.PerEmailClient, func(r *http.Request) (string, error) {
		ip, err := ipKey(r)
		if err != nil {
			return "", err
		}
		return "login-email:" + emailDigest(loginFrom(r.Context()).Email) + ":" + ip, nil
	}); err != nil {
		return nil, err
	}
	h = s.decodeLogin(decoder, h)
	if err := wrap(lim.PerIP, ipKey); err != nil {
		return nil, err
	}
	return h, nil
}

// decodeLogin decodes the login body strictly and under maxLoginBody, and
// hands it on in the context. A body it refuses is answered here: it
// attempts nothing.
func (s *handlers) decodeLogin(decoder *validate.Checker, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req loginRequest
		if err := decoder.DecodeJSON(r, &req); err != nil {
			s.Fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loginKey{}, &req)))
	})
}

// loginFrom returns the request decodeLogin decoded.
func loginFrom(ctx context.Context) *loginRequest {
	req, _ := ctx.Value(loginKey{}).(*loginRequest)
	return req
}

// emailDigest names an email in limit keys: fixed length, whatever the
// client sent, and no address in clear in Redis.
func emailDigest(email string) string {
	sum := sha256.Sum256([]byte(CanonicalEmail(email)))
	return hex.EncodeToString(sum[:16])
}

// SignupLimiters limit signups; a nil field leaves that limit out.
type SignupLimiters struct {
	// PerIP counts every signup request of a client address.
	PerIP *ratelimit.Limiter
	// Ceiling counts the signups of all clients together that get as far
	// as hashing a password: it bounds the work anyone can make the
	// service do, while requests refused for cheap reasons never reach it.
	Ceiling *ratelimit.Limiter
}

// signupCeilingKey is the one key of the signup ceiling.
const signupCeilingKey = "signup:all"

// signupRoute wraps the signup handler in its per-address limit; the
// ceiling is taken in the handler, right before hashing.
func (s *handlers) signupRoute(lim SignupLimiters, clientIP ratelimit.ClientIPConfig) (http.Handler, error) {
	var h http.Handler = http.HandlerFunc(s.signup)
	if lim.PerIP == nil {
		return h, nil
	}
	ipKey, err := ratelimit.KeyByClientIP(clientIP)
	if err != nil {
		return nil, err
	}
	mw, err := ratelimit.NewMiddleware(lim.PerIP, ratelimit.MiddlewareConfig{Key: func(r *http.Request) (string, error) {
		ip, err := ipKey(r)
		return "signup:" + ip, err // apart from login's per-address state
	}})
	if err != nil {
		return nil, err
	}
	return mw.Handler(h), nil
}

// admitSignup takes one signup from the ceiling, answering the request
// itself when it cannot: 429 with Retry-After when the ceiling is reached,
// 503 when no decision could be made.
func (s *handlers) admitSignup(w http.ResponseWriter, r *http.Request) bool {
	if s.Signup.Ceiling == nil {
		return true
	}
	res, err := s.Signup.Ceiling.Allow(r.Context(), signupCeilingKey)
	if err != nil {
		s.Log.WarnContext(r.Context(), "signup ceiling unavailable", slog.Any("error", err))
		w.Header().Set("Retry-After", "1")
		httpapi.Problem{Status: http.StatusServiceUnavailable, Detail: "Signups are paused; retry shortly."}.Write(w)
		return false
	}
	if !res.Allowed {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(res.RetryAfter.Seconds())), 10))
		httpapi.Problem{Status: http.StatusTooManyRequests,
			Detail: "Too many signups at the moment; retry after " + res.RetryAfter.Round(time.Second).String() + "."}.Write(w)
		return false
	}
	return true
}
