package apikeys

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

type apiKeyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (a *apiKeyRequest) Validate(v *validate.Validator) {
	v.String("name", a.Name).Required().NotBlank().Runes(1, 100).NoControl()
	validate.Unique(validate.Slice(v, "scopes", a.Scopes).Required().MaxItems(10)).Each(func(v *validate.Validator, s string) {
		v.String("", s).Required().MaxRunes(64)
	})
}

type apiKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Key        string     `json:"key,omitempty"` // only in the answer to creation
}

func viewAPIKey(r apikey.Record) apiKeyView {
	v := apiKeyView{ID: r.ID, Name: r.Name, Scopes: r.Scopes, CreatedAt: r.CreatedAt}
	if !r.LastUsedAt.IsZero() {
		v.LastUsedAt = &r.LastUsedAt
	}
	if !r.RevokedAt.IsZero() {
		v.RevokedAt = &r.RevokedAt
	}
	return v
}

func (s *handlers) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req apiKeyRequest
	if err := s.Checker.DecodeJSON(r, &req); err != nil {
		s.Fail(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	// A key may carry only permissions its owner holds.
	var granted []string
	for _, role := range p.Roles {
		granted = append(granted, s.Access.Permissions(role)...)
	}
	var verrs validate.Errors
	for i, scope := range req.Scopes {
		if scope == access.PermAPIKeysManage || !slices.Contains(granted, scope) {
			verrs.Violations = append(verrs.Violations, validate.Violation{
				Path: validate.Path{validate.Key("scopes"), validate.Index(i)}, Code: validate.CodeNotAllowed,
				Params:   []validate.Param{{Name: "allowed", Value: strings.Join(slices.DeleteFunc(slices.Clone(granted), func(s string) bool { return s == access.PermAPIKeysManage }), ", ")}},
				Template: "must be one of your permissions: {allowed}",
			})
		}
	}
	if len(verrs.Violations) > 0 {
		s.Fail(w, r, &verrs)
		return
	}
	secret, rec, err := s.Keys.Issue(r.Context(), apikey.IssueRequest{Owner: p.Subject, Name: req.Name, Scopes: req.Scopes})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := viewAPIKey(rec)
	v.Key = secret
	w.Header().Set("Location", "/v1/apikeys/"+rec.ID)
	web.JSON(w, http.StatusCreated, v)
}

func (s *handlers) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	recs, err := s.Store.List(r.Context(), auth.SubjectFrom(r.Context()))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	items := make([]apiKeyView, 0, len(recs))
	for _, rec := range recs {
		items = append(items, viewAPIKey(rec))
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *handlers) deleteAPIKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, err := s.Store.Get(r.Context(), id)
	// Someone else's key is as absent as a key that never existed.
	if errors.Is(err, apikey.ErrNotFound) || err == nil && rec.Owner != auth.SubjectFrom(r.Context()) {
		httpapi.Problem{Status: http.StatusNotFound}.Write(w)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if err := s.Keys.Revoke(r.Context(), id); err != nil {
		s.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
