// Package apikeys lets users issue, list and revoke API keys for their own
// account, with scopes within their own permissions: its routes, handlers
// and the PostgreSQL store of the keys.
package apikeys

import (
	"errors"
	"net/http"

	"github.com/bedrock-go/bedrock/auth/apikey"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// Config is what the API keys' handlers need; every field is required.
type Config struct {
	web.Responder
	Store  *Store
	Keys   *apikey.Keys
	Access *access.Control
}

type handlers struct{ Config }

// Routes registers the API keys' routes on r, all behind apikeys:manage,
// which API keys themselves never hold.
func Routes(r *web.Router, cfg Config) error {
	if err := cfg.Responder.Check("apikeys"); err != nil {
		return err
	}
	if cfg.Store == nil || cfg.Keys == nil || cfg.Access == nil {
		return errors.New("apikeys: Config needs Store, Keys and Access")
	}
	r.Describe(openAPI)
	s := &handlers{cfg}
	manage := func(h http.HandlerFunc) http.Handler { return cfg.Access.Require(access.PermAPIKeysManage, h) }
	r.Handle("POST /v1/apikeys", manage(s.createAPIKey))
	r.Handle("GET /v1/apikeys", manage(s.listAPIKeys))
	r.Handle("DELETE /v1/apikeys/{id}", manage(s.deleteAPIKey))
	return nil
}
