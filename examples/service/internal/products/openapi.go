package products

import _ "embed"

// openAPI is this domain's part of the service's OpenAPI document: its
// paths and the schemas they use. Routes hands it to the router next to
// the routes it describes.
//
//go:embed openapi.json
var openAPI []byte
