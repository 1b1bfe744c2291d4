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
// carries no credential of its kind, so the next one may try, and by
// [Middleware.Authenticate] when no authenticator found one and the
// Middleware requires one.
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

// DefaultRealm is the protection space a [Middleware] names when
// MiddlewareConfig.Realm is empty, and the one [Challenge] names for a
// request no Middleware has seen.
const DefaultRealm = "api"

// MiddlewareConfig configures [NewMiddleware].
type MiddlewareConfig struct {
	// Authenticators are tried in order; the first that finds a credential
	// decides. At least one is required.
	Authenticators []Authenticator
	// Required answers 401 to requests without a credential. When false
	// they pass through anonymous, and [RequireAuthenticated] or an
	// authz.Requirement can demand a principal per route, answering with
	// this Middleware's challenge.
	Required bool
	// Realm names the protection space in the WWW-Authenticate challenge
	// of every 401 given to a request this Middleware passed (RFC 9110
	// §11.6.1), its own and those of the guards behind it; [DefaultRealm]
	// when empty. Printable ASCII without '"' and '\'.
	Realm string
	// Hooks receives instrumentation callbacks.
	Hooks Hooks
}

// Hooks are the callbacks of a [Middleware]. Nil fields are skipped.
type Hooks struct {
	// OnFailure is told every credential the Middleware refuses (err wraps
	// ErrInvalidCredential: a 401) and every authenticator error that is
	// not the client's fault (a store outage: a 503), with the reason,
	// which the client never sees. A request without a credential is not
	// a failure.
	OnFailure func(r *http.Request, err error)
}

// Middleware authenticates requests and puts the [Principal] in their
// context. Most callers want [Middleware.Handler] around their whole mux;
// [Middleware.Authenticate] makes the same decision for one request
// without serving it.
//
// A bad credential gets 401 with a WWW-Authenticate challenge (RFC 6750
// §3, error="invalid_token") and a problem+json body that says only that
// the credential was refused; an authenticator's other errors (a store
// outage) get 503 with Retry-After. A Middleware must be created with
// [NewMiddleware]; the zero value is not usable. It is safe for concurrent
// use.
type Middleware struct {
	authenticators []Authenticator
	required       bool
	hooks          Hooks
	// Rendered once: a refusal a client can trigger at will costs nothing
	// to describe.
	challenge, invalidToken []string
	missing, refused        *problem.Rendered
	unavailable             *problem.Rendered
	retryAfter              []string
	// anonymous is the context value of every request that passes without
	// a credential: it carries only the Middleware, for its challenge.
	anonymous *requestAuth
}

// NewMiddleware validates cfg and returns the middleware, or an error
// wrapping [ErrInvalidConfig].
func NewMiddleware(cfg MiddlewareConfig) (*Middleware, error) {
	if len(cfg.Authenticators) == 0 {
		return nil, fmt.Errorf("%w: Authenticators is empty", ErrInvalidConfig)
	}
	for i, a := range cfg.Authenticators {
		if a == nil {
			return nil, fmt.Errorf("%w: Authenticators[%d] is nil", ErrInvalidConfig, i)
		}
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	for i := 0; i < len(cfg.Realm); i++ {
		if c := cfg.Realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, fmt.Errorf("%w: Realm has byte %#x; use printable ASCII without '\"' and '\\'", ErrInvalidConfig, c)
		}
	}
	ch := challengeFor(cfg.Realm)
	m := &Middleware{
		authenticators: cfg.Authenticators,
		required:       cfg.Required,
		hooks:          cfg.Hooks,
		challenge:      []string{ch},
		invalidToken:   []string{ch + `, error="invalid_token"`},
		missing:        problem.Render(problem.Details{Status: http.StatusUnauthorized, Detail: authRequired}),
		refused: problem.Render(problem.Details{Status: http.StatusUnauthorized,
			Type: "https://bedrock-go.dev/problems/invalid-credential", Detail: "The credential was refused."}),
		unavailable: problem.Render(problem.Details{Status: http.StatusServiceUnavailable,
			Detail: "Credentials cannot be checked right now."}),
		retryAfter: []string{"1"},
	}
	m.anonymous = &requestAuth{mw: m}
	return m, nil
}

const authRequired = "Authentication is required."

func challengeFor(realm string) string { return `Bearer realm="` + realm + `"` }

// Authenticate makes the Middleware's decision for r without serving it:
// the principal of the first credential an authenticator finds; a zero
// Principal and a nil error for a request without a credential, or
// [ErrNoCredential] when MiddlewareConfig.Required is set; an error
// wrapping [ErrInvalidCredential] for a refused credential; any other error
// when an authenticator could not decide. Hooks are not called.
func (m *Middleware) Authenticate(r *http.Request) (Principal, error) {
	p, _, err := m.authenticate(r)
	return p, err
}

// authenticate also reports whether a credential was found.
func (m *Middleware) authenticate(r *http.Request) (Principal, bool, error) {
	ctx := r.Context()
	for _, a := range m.authenticators {
		p, err := a.Authenticate(ctx, r)
		if errors.Is(err, ErrNoCredential) {
			continue
		}
		if err != nil {
			return Principal{}, true, err
		}
		return p, true, nil
	}
	if m.required {
		return Principal{}, false, ErrNoCredential
	}
	return Principal{}, false, nil
}

// Handler returns next behind the Middleware: an authenticated request
// reaches next with its principal in the context ([PrincipalFrom]), a
// request without a credential reaches it anonymous unless
// MiddlewareConfig.Required is set, and every other request is answered
// here.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, found, err := m.authenticate(r)
		switch {
		case err == nil && found:
			s := &requestAuth{principal: p, authenticated: true, mw: m}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, s)))
		case err == nil:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, m.anonymous)))
		case errors.Is(err, ErrNoCredential):
			w.Header()["Www-Authenticate"] = m.challenge
			m.missing.Write(w)
		default:
			if m.hooks.OnFailure != nil {
				m.hooks.OnFailure(r, err)
			}
			if errors.Is(err, ErrInvalidCredential) {
				w.Header()["Www-Authenticate"] = m.invalidToken
				m.refused.Write(w)
				return
			}
			w.Header()["Retry-After"] = m.retryAfter
			m.unavailable.Write(w)
		}
	})
}

// RequireAuthenticated returns next behind a guard that answers 401, as
// [Challenge] does, unless an earlier [Middleware] (or [WithPrincipal])
// put a principal with a subject in the request's context. Use it per
// route behind a Middleware whose Required is false; the challenge names
// that Middleware's realm. It is a plain function, as http.StripPrefix is,
// because it has nothing to configure: what it needs travels with the
// request.
func RequireAuthenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := PrincipalFrom(r.Context()); !ok || p.IsAnonymous() {
			Challenge(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Challenge answers r with 401, a problem+json body saying that
// authentication is required, and the WWW-Authenticate challenge of the
// [Middleware] that passed r ([DefaultRealm] when none did), so that every
// guard behind one Middleware names one realm. authz.Requirement answers
// anonymous requests with it; a handler that decides for itself that a
// request needs a principal can too.
func Challenge(w http.ResponseWriter, r *http.Request) {
	if s, ok := r.Context().Value(principalKey{}).(*requestAuth); ok && s.mw != nil {
		w.Header()["Www-Authenticate"] = s.mw.challenge
		s.mw.missing.Write(w)
		return
	}
	w.Header().Set("WWW-Authenticate", challengeFor(DefaultRealm))
	problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Detail: authRequired})
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
