// Package web is what the service's domains share over HTTP: the [Router]
// each registers its routes on, and the [Responder] that writes their
// answers and maps the errors they have in common to problem documents.
//
// A domain package (users, apikeys, products, orders) owns its handlers,
// its queries and a small Config of what it needs, and registers its
// routes and their part of the OpenAPI document ([Router.Describe]) with a
// Routes(*web.Router, Config) function, so that an endpoint lives in one
// package; a test fails when the routes and the document disagree.
package web

import "net/http"

// Router is a ServeMux that remembers its patterns, so that a test can hold
// the OpenAPI document to the routes actually served.
type Router struct {
	mux      *http.ServeMux
	patterns []string
	docs     [][]byte // OpenAPI parts, see Describe
}

// NewRouter returns an empty Router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// Handle registers h for pattern, such as "GET /v1/products/{id}".
func (r *Router) Handle(pattern string, h http.Handler) {
	r.mux.Handle(pattern, h)
	r.patterns = append(r.patterns, pattern)
}

// HandleFunc registers h for pattern.
func (r *Router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(h))
}

// Patterns returns the patterns registered, in order.
func (r *Router) Patterns() []string { return append([]string(nil), r.patterns...) }

// Mux returns the ServeMux the routes are registered on.
func (r *Router) Mux() *http.ServeMux { return r.mux }
