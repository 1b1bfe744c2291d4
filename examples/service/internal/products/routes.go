// Package products is the catalogue: its routes, handlers and queries,
// and the cache-aside that serves a product by id.
package products

import (
	"errors"
	"net/http"
	"strings"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/pagination"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// Config is what the catalogue's handlers need; every field is required.
type Config struct {
	web.Responder
	Store *Store
	// Caches serve GET /v1/products/{id} and the pages of GET
	// /v1/products; every write to a product drops what it made stale
	// (Caches.Changed).
	Caches *Caches
	Pager  *pagination.Pager
	Access *access.Control
	// CachePolicy sets Cache-Control (and Vary) on product reads: public
	// for anonymous ones, private and unstored for authenticated ones.
	CachePolicy *httpapi.CachePolicy
	// V0 announces the deprecation of the v0 aliases of the product reads
	// (Deprecation, Sunset and their Link fields).
	V0 *httpapi.Deprecation
}

type handlers struct{ Config }

// Routes registers the catalogue's routes on r: anyone may read it, and
// products:write changes it.
func Routes(r *web.Router, cfg Config) error {
	if err := cfg.Responder.Check("products"); err != nil {
		return err
	}
	if cfg.Store == nil || cfg.Caches == nil || cfg.Pager == nil || cfg.Access == nil || cfg.CachePolicy == nil || cfg.V0 == nil {
		return errors.New("products: Config needs Store, Caches, Pager, Access, CachePolicy and V0")
	}
	r.Describe(openAPI)
	s := &handlers{cfg}
	write := func(h http.HandlerFunc) http.Handler { return cfg.Access.Require(access.PermProductsWrite, h) }
	r.HandleFunc("GET /v1/products", s.listProducts)
	r.HandleFunc("GET /v1/products/{id}", s.getProduct)
	// The v0 reads answer as v1 does, announcing their retirement.
	r.Handle("GET /v0/products", s.v0(s.listProducts))
	r.Handle("GET /v0/products/{id}", s.v0(s.getProduct))
	r.Handle("POST /v1/products", write(s.createProduct))
	r.Handle("PUT /v1/products/{id}", write(s.updateProduct))
	r.Handle("DELETE /v1/products/{id}", write(s.deleteProduct))
	return nil
}

// v0 serves h as a deprecated v0 alias: the Deprecation fields, and a
// successor-version Link to the same resource under /v1 (the one link
// that names each request's own resource, so not in V0's config).
func (s *handlers) v0(h http.HandlerFunc) http.Handler {
	deprecated := s.V0.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		successor := "/v1" + strings.TrimPrefix(r.URL.EscapedPath(), "/v0")
		w.Header().Add("Link", "<"+successor+`>; rel="successor-version"`)
		deprecated.ServeHTTP(w, r)
	})
}

// FilterParams are the query parameters of the product list's filters,
// for the pager's Config.FilterParams: its page links carry them.
func FilterParams() []string { return []string{categoryParam} }
