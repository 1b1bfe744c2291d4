package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// ErrNoCredential is returned by an [Authenticator] when the request
// carries no credential of its kind, so the next one may try.
var ErrNoCredential = errors.New("auth: no credential")

// ErrInvalidConfig is wrapped by every error a constructor of this package
// returns for a bad config.
var ErrInvalidConfig = errors.New("auth: invalid config")

// Authenticator turns a request's credential into a Principal. It returns
// ErrNoCredential when the request has no credential it recognises, and an
// error wrapping ErrInvalidCredential when it has one that is wrong.
// auth/token and auth/apikey provide implementations.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (Principal, error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(ctx context.Context, r *http.Request) (Principal, error)

// Authenticate implements [Authenticator].
func (f AuthenticatorFunc) Authenticate(ctx context.Context, r *http.Request) (Principal, error) {
	return f(ctx, r)
}

// MiddlewareConfig configures [Middleware].
type MiddlewareConfig struct {
	// Authenticators are tried in order; the first that finds a credential
	// decides. At least one is required.
	Authenticators []Authenticator
	// Required answers 401 to requests without a credential. When false
	// they pass through anonymous, and [RequireAuthenticated] can demand a
	// principal per route.
	Required bool
	// Realm names the protection space in WWW-Authenticate; "api" when
	// empty.
	Realm string
	// OnFailure is told every refused credential with the reason, which
	// the client never sees; nil ignores them.
	OnFailure func(r *http.Request, err error)
}

// Middleware authenticates each request and puts the [Principal] in its
// context. A bad credential gets 401 with a WWW-Authenticate challenge
// (RFC 6750 §3) and a problem+json body that says only that the credential
// was refused; an authenticator's other errors (a store outage) get 503.
func Middleware(cfg MiddlewareConfig) (func(http.Handler) http.Handler, error) {
	if len(cfg.Authenticators) == 0 {
		return nil, fmt.Errorf("%w: Authenticators is empty", ErrInvalidConfig)
	}
	if cfg.Realm == "" {
		cfg.Realm = "api"
	}
	challenge := `Bearer realm="` + strings.ReplaceAll(cfg.Realm, `"`, "") + `"`
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, a := range cfg.Authenticators {
				p, err := a.Authenticate(r.Context(), r)
				if errors.Is(err, ErrNoCredential) {
					continue
				}
				if err != nil {
					if cfg.OnFailure != nil {
						cfg.OnFailure(r, err)
					}
					if !errors.Is(err, ErrInvalidCredential) {
						w.Header().Set("Retry-After", "1")
						problem.Write(w, problem.Details{Status: http.StatusServiceUnavailable,
							Detail: "Credentials cannot be checked right now."})
						return
					}
					w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token"`)
					problem.Write(w, problem.Details{Status: http.StatusUnauthorized,
						Type: "https://bedrock-go.dev/problems/invalid-credential", Detail: "The credential was refused."})
					return
				}
				next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
				return
			}
			if cfg.Required {
				unauthenticated(w, challenge)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// RequireAuthenticated answers 401 unless an earlier [Middleware] put a
// principal with a subject in the request's context.
func RequireAuthenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := PrincipalFrom(r.Context()); !ok || p.IsAnonymous() {
			unauthenticated(w, `Bearer realm="api"`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func unauthenticated(w http.ResponseWriter, challenge string) {
	w.Header().Set("WWW-Authenticate", challenge)
	problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Detail: "Authentication is required."})
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme compared without case, RFC 6750 §2.1), and false when
// there is none or the header is malformed.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}
