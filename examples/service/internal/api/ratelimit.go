package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

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
func (s *Server) loginRoute(lim LoginLimiters, clientIP ratelimit.ClientIPConfig) (http.Handler, error) {
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
		mw, err := l.Middleware(ratelimit.MiddlewareConfig{Key: key})
		if err == nil {
			h = mw(h)
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
func (s *Server) decodeLogin(decoder *validate.Checker, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req loginRequest
		if err := decoder.DecodeJSON(r, &req); err != nil {
			s.fail(w, r, err)
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
