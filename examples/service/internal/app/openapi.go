package app

import (
	_ "embed"
	"net/http"
)

// openAPIBase is the OpenAPI 3.1 document's frame: info, security schemes,
// the problem schema and the system routes. Each domain adds its own paths
// and schemas (web.Router.Describe), and the whole is served at
// /openapi.json. A test fails when a route is registered but not
// documented, or documented but not registered.
//
//go:embed openapi.json
var openAPIBase []byte

// serveOpenAPI serves the assembled document.
func serveOpenAPI(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	})
}
