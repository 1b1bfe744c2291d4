package users

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/password"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// CanonicalEmail is the form in which emails are stored and looked up:
// lower case, so that an address has one account whatever its spelling.
func CanonicalEmail(email string) string { return strings.ToLower(email) }

type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Validate checks the shape; the password policy, which may consult a
// breached-password service, runs in the handler.
func (s *signupRequest) Validate(v *validate.Validator) {
	v.String("email", s.Email).Required().MaxRunes(254).Email()
	v.String("password", s.Password).Required()
	v.String("name", s.Name).Required().NotBlank().Runes(1, 100).NoControl()
}

func (s *handlers) signup(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decodeSignup(w, r)
	if !ok {
		return
	}
	// Hashing is the expensive step: everything cheap is refused first.
	// Telling that the email is taken before hashing says no more than the
	// 409 already does.
	email := CanonicalEmail(req.Email)
	if _, err := s.Store.ByEmail(r.Context(), email); err == nil {
		emailTaken(w)
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		s.Fail(w, r, err)
		return
	}
	if !s.admitSignup(w, r) {
		return
	}
	if s.OnSignupHash != nil {
		s.OnSignupHash()
	}
	hash, err := s.Hasher.Hash(r.Context(), req.Password)
	if errors.Is(err, password.ErrBusy) { // signups hold their share of the hashing slots and its queue is full
		w.Header().Set("Retry-After", "1")
		httpapi.Problem{Status: http.StatusServiceUnavailable, Detail: "Too many signups are being processed; retry in a moment."}.Write(w)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// A signup never yields more than customer, whatever it says: its email
	// is not verified, so whoever signs up first with an address would own
	// any role tied to it. The operator grants roles (grant-role).
	u := User{Email: email, Name: req.Name, PasswordHash: hash, Role: access.RoleCustomer}
	if err := s.Store.Create(r.Context(), &u); err != nil {
		if errors.Is(err, store.ErrDuplicate) { // a signup for the same email won the race
			emailTaken(w)
			return
		}
		s.Fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/me")
	web.JSON(w, http.StatusCreated, map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "created_at": u.CreatedAt})
}

// decodeSignup decodes the signup form and checks its rules and the password
// policy; when they fail it answers the request itself and reports false.
func (s *handlers) decodeSignup(w http.ResponseWriter, r *http.Request) (signupRequest, bool) {
	var req signupRequest
	// Broken rules come back together with the password policy's verdict,
	// so that a client sees every problem of the form at once.
	var verrs *validate.Errors
	if err := s.Checker.DecodeJSON(r, &req); err != nil && !errors.As(err, &verrs) {
		s.Fail(w, r, err)
		return req, false
	}
	if req.Password != "" {
		if err := s.Policy.Check(r.Context(), req.Password); err != nil {
			var pe *password.PolicyError
			if !errors.As(err, &pe) {
				s.Fail(w, r, err)
				return req, false
			}
			if verrs == nil {
				verrs = &validate.Errors{}
			}
			verrs.Violations = append(verrs.Violations, validate.Violation{
				Path: validate.Path{validate.Key("password")}, Code: passwordCode(pe),
				Params:   []validate.Param{{Name: "min", Value: pe.Min}, {Name: "max", Value: pe.Max}},
				Template: "must be between {min} and {max} characters long and not a known breached password",
			})
		}
	}
	if verrs != nil && len(verrs.Violations) > 0 {
		s.Fail(w, r, verrs)
		return req, false
	}
	return req, true
}

// emailTaken answers a signup for an email that has an account. It tells
// whoever asks that the email is registered: without verifying emails (a
// link sent to the address), a signup cannot both refuse a taken address
// and hide that it is taken. The signup limits bound how fast anyone can
// ask.
func emailTaken(w http.ResponseWriter) {
	httpapi.Problem{Status: http.StatusConflict, Type: ProblemEmailTaken, Title: "Email already registered",
		Detail: "An account with this email exists; log in instead."}.Write(w)
}

func passwordCode(pe *password.PolicyError) string {
	switch {
	case errors.Is(pe, password.ErrTooShort):
		return validate.CodeTooShort
	case errors.Is(pe, password.ErrTooLong):
		return validate.CodeTooLong
	}
	return "weak_password"
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Validate refuses only a request without credentials. Anything else that
// is wrong with them (too long, control characters, NUL) is a failed login
// like a wrong password: 401, the same for every email.
func (l *loginRequest) Validate(v *validate.Validator) {
	v.String("email", l.Email).Required()
	v.String("password", l.Password).Required()
}

// couldBeAccount reports whether some account could have this canonical
// email and password, without looking. Signup refuses emails longer than
// 254 bytes or with control characters (NUL among them, which PostgreSQL
// cannot even compare), and no hash was ever made of a password that is
// over the byte cap once normalised or not UTF-8: answering those before the
// lookup costs the same whether the email exists or not.
func couldBeAccount(ctx context.Context, email, pw string) bool {
	if len(email) > 254 || strings.ContainsFunc(email, unicode.IsControl) {
		return false
	}
	// The policy normalises as hashing does; length 1 keeps the login of
	// accounts made under an older, shorter minimum.
	return password.Policy{MinLength: 1}.Check(ctx, pw) == nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// badCredentials is the one answer to every failed login or refresh, so that
// it tells nothing about which part was wrong.
func badCredentials(w http.ResponseWriter) {
	httpapi.Problem{Status: http.StatusUnauthorized, Type: ProblemBadCredentials, Title: "Invalid credentials",
		Detail: "The credentials are incorrect or expired."}.Write(w)
}

// login runs behind decodeLogin (see loginRoute), which decoded the body.
func (s *handlers) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req := loginFrom(ctx)
	email := CanonicalEmail(req.Email)
	if !couldBeAccount(ctx, email, req.Password) {
		badCredentials(w)
		return
	}
	u, err := s.Store.ByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the time a real verification takes, so that timing does
		// not reveal which emails have accounts.
		_ = s.Hasher.VerifyDummy(ctx, req.Password)
		badCredentials(w)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	ok, rehash, err := s.Hasher.Verify(ctx, req.Password, u.PasswordHash)
	if err != nil {
		s.verifyFailed(w, r, u, err)
		return
	}
	if !ok {
		badCredentials(w)
		return
	}
	if rehash {
		if h, err := s.Hasher.Hash(ctx, req.Password); err == nil {
			_ = s.Store.SetPasswordHash(ctx, u.ID, h) // best effort: the next login retries
		}
	}
	sess, err := s.Sessions.Issue(ctx, u.ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.writeTokens(w, r, u, sess.Token, sess.FamilyID)
}

// verifyFailed answers a verification that returned an error. Every error
// is a failed login for the client (401), never a 500 that would mark the
// account as existing; a stored hash that cannot be used is the operator's
// problem and is logged.
func (s *handlers) verifyFailed(w http.ResponseWriter, r *http.Request, u User, err error) {
	switch {
	case r.Context().Err() != nil:
		s.Fail(w, r, err) // the client left, or its deadline passed
		return
	case errors.Is(err, password.ErrMalformedHash), errors.Is(err, password.ErrUnsupportedHash),
		errors.Is(err, password.ErrParamsOutOfBounds):
		s.Log.ErrorContext(r.Context(), "stored password hash is unusable; the account cannot log in",
			slog.String("user", u.ID), slog.Any("error", err))
	}
	// Anything else is about the password presented (such as one over
	// bcrypt's 72 bytes for a migrated hash): it cannot match.
	badCredentials(w)
}

func (s *handlers) writeTokens(w http.ResponseWriter, r *http.Request, u User, refresh, family string) {
	access, err := s.Issuer.Issue(access.ClaimsFor(u.ID, u.Role, family))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, tokenResponse{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int64(s.TokenTTL / time.Second)})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (q *refreshRequest) Validate(v *validate.Validator) {
	v.String("refresh_token", q.RefreshToken).Required().MaxBytes(512)
}

func (s *handlers) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := s.Checker.DecodeJSON(r, &req); err != nil {
		s.Fail(w, r, err)
		return
	}
	// A reused token revokes its whole family inside Rotate; the client
	// sees the same 401 as for any other bad token.
	sess, err := s.Sessions.Rotate(r.Context(), req.RefreshToken)
	if errors.Is(err, auth.ErrInvalidCredential) {
		badCredentials(w)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	u, err := s.Store.ByID(r.Context(), sess.Subject)
	if errors.Is(err, store.ErrNotFound) {
		badCredentials(w)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.writeTokens(w, r, u, sess.Token, sess.FamilyID)
}

func (s *handlers) logout(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	sid, _ := p.Attributes["sid"].(string)
	if p.Method != auth.MethodToken || sid == "" {
		httpapi.Problem{Status: http.StatusBadRequest,
			Detail: "Logout ends a token session; revoke an API key with DELETE /v1/apikeys/{id}."}.Write(w)
		return
	}
	if err := s.Sessions.RevokeFamily(r.Context(), sid); err != nil {
		s.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *handlers) me(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	u, err := s.Store.ByID(r.Context(), p.Subject)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{
		"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role, "created_at": u.CreatedAt,
		"auth": map[string]any{"method": p.Method, "credential_id": p.CredentialID, "roles": p.Roles, "scopes": p.Scopes},
	})
}
