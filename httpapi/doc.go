// Package httpapi holds what every HTTP API needs around its handlers.
//
// # Problem details
//
// [Problem] is an RFC 9457 problem details document, and [Problem.Write]
// sends one: `Content-Type: application/problem+json`, the status code, and
// a body written by the same code every Bedrock middleware answers with, so
// that a service's own errors and the library's look alike to a client.
//
//	httpapi.Problem{
//		Type:       "https://shop.example/problems/out-of-stock",
//		Title:      "Out of stock",
//		Status:     http.StatusConflict,
//		Detail:     "A product does not have enough stock for this order.",
//		Extensions: map[string]any{"product_id": 42},
//	}.Write(w)
//
// Three rules hold for every problem, because the writer enforces them:
//
//   - with type "about:blank" (the default) the title is the status code's
//     phrase from RFC 9110 (RFC 9457 §4.2.1), whatever Title says: a title
//     of its own needs a type of its own;
//   - the headers that described the representation the handler meant to
//     send (Content-Encoding, ETag, Last-Modified, Location, digests, ...)
//     are dropped, Content-Length is rewritten, and Cache-Control is no-store
//     unless the handler chose one;
//   - an extension never replaces a standard member.
//
// Detail is a sentence for the person reading it, never an error string
// (which would tell an attacker how the service is built); client input is
// echoed only through [Excerpt], so that an answer, and whatever stores it,
// stays small whatever a client sends.
package httpapi
