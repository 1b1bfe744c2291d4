// Package products is the catalogue: its routes, handlers and queries,
// and the cache-aside that serves a product by id.
package products

import (
	"errors"
	"net/http"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/pagination"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// Config is what the catalogue's handlers need; every field is required.
type Config struct {
	web.Responder
	Store *Store
	// Cache serves GET /v1/products/{id}; every write to a product deletes
	// its entry.
	Cache  *cache.Cache[int64, Product]
	Pager  *pagination.Pager
	Access *access.Control
}

type handlers struct{ Config }

// Routes registers the catalogue's routes on r: anyone may read it, and
// products:write changes it.
func Routes(r *web.Router, cfg Config) error {
	if err := cfg.Responder.Check("products"); err != nil {
		return err
	}
	if cfg.Store == nil || cfg.Cache == nil || cfg.Pager == nil || cfg.Access == nil {
		return errors.New("products: Config needs Store, Cache, Pager and Access")
	}
	r.Describe(openAPI)
	s := &handlers{cfg}
	write := func(h http.HandlerFunc) http.Handler { return cfg.Access.Require(access.PermProductsWrite, h) }
	r.HandleFunc("GET /v1/products", s.listProducts)
	r.HandleFunc("GET /v1/products/{id}", s.getProduct)
	r.Handle("POST /v1/products", write(s.createProduct))
	r.Handle("PUT /v1/products/{id}", write(s.updateProduct))
	r.Handle("DELETE /v1/products/{id}", write(s.deleteProduct))
	return nil
}
