// Package users is accounts and their sessions: signup, password login
// with its rate limits, rotating refresh tokens, logout and the account's
// own view: its routes, handlers and queries.
package users

import (
	"errors"
	"net/http"
	"time"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/password"
	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/ratelimit"

	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// The users' own problem types. A problem with a title of its own needs a
// type of its own: with about:blank the title is the status phrase (RFC
// 9457 §4.2.1). Clients branch on the type, never on the title.
const (
	ProblemEmailTaken     = "https://shop.example/problems/email-taken"
	ProblemBadCredentials = "https://shop.example/problems/bad-credentials"
)

// Config is what the users' handlers need; every field is required unless
// noted.
type Config struct {
	web.Responder
	Store *Store
	// Hasher verifies passwords at login and hashes those of new accounts,
	// which hold at most their share of its slots.
	Hasher *password.Hasher
	Policy password.Policy // optional; password.Policy's defaults when zero
	// Issuer signs access tokens that live TokenTTL; Sessions issues and
	// rotates the refresh tokens.
	Issuer   *token.Issuer
	TokenTTL time.Duration
	Sessions *session.RefreshTokens
	// ClientIP says how the limits find a request's client address, which
	// proxies are trusted to report it; optional.
	ClientIP ratelimit.ClientIPConfig
	// Login and Signup limit those requests; nil fields leave those
	// unlimited.
	Login  LoginLimiters
	Signup SignupLimiters
	// OnSignupHash, optional, is called as each signup starts hashing.
	OnSignupHash func()
}

type handlers struct{ Config }

// Routes registers the users' routes on r.
func Routes(r *web.Router, cfg Config) error {
	if err := cfg.Responder.Check("users"); err != nil {
		return err
	}
	if cfg.Store == nil || cfg.Hasher == nil || cfg.Issuer == nil || cfg.Sessions == nil || cfg.TokenTTL <= 0 {
		return errors.New("users: Config needs Store, Hasher, Issuer, Sessions and a positive TokenTTL")
	}
	r.Describe(openAPI)
	s := &handlers{cfg}
	signup, err := s.signupRoute(cfg.Signup, cfg.ClientIP)
	if err != nil {
		return err
	}
	login, err := s.loginRoute(cfg.Login, cfg.ClientIP)
	if err != nil {
		return err
	}
	r.Handle("POST /v1/auth/signup", signup)
	r.Handle("POST /v1/auth/login", login)
	r.HandleFunc("POST /v1/auth/refresh", s.refresh)
	r.Handle("POST /v1/auth/logout", auth.RequireAuthenticated(http.HandlerFunc(s.logout)))
	r.Handle("GET /v1/me", auth.RequireAuthenticated(http.HandlerFunc(s.me)))
	return nil
}
