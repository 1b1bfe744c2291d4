// Package httpapi holds what every HTTP API needs around its handlers:
// versions and their retirement, conditional requests and caching, and
// the problem documents that answer a client's mistakes. Its core uses
// the standard library only; observe/httpapiobserve counts its hooks.
//
// # Versions
//
// [Versioning] selects the API version of each request, from a path
// prefix ("/v1/products"), the API-Version field or a media-type parameter
// ("Accept: application/json; version=v1"), gives a request that names
// none the configured default (the first version listed), and refuses an
// unknown version, or two different ones, with a 400 problem. Handlers
// read the version with [VersionFrom].
//
// [Deprecation] marks the routes of an old version: Deprecation
// (RFC 9745), Sunset (RFC 8594) and Link fields with the relations
// deprecation, sunset and successor-version, and, once the sunset has
// passed, a 410 Gone problem if configured. [Hooks].OnDeprecatedCall
// counts who still calls them.
//
//	v0, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
//		Name:       "v0",
//		Deprecated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
//		Sunset:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
//		Successor:  "/v1/products",
//	})
//	mux.Handle("GET /v0/products", v0.Handler(products))
//
// # Conditional requests and caching
//
// A handler that knows the current representation calls [Conditional]
// with its [Validators] before writing it. Conditional evaluates If-Match,
// If-Unmodified-Since, If-None-Match and If-Modified-Since in the order of
// RFC 9110 §13.2.2 (strong comparison for If-Match, weak for
// If-None-Match) and answers 304 Not Modified with only the fields §15.4.5
// allows, or a 412 problem; HEAD is a GET. On a 304 for one ETag it
// allocates nothing.
//
//	policy.Apply(w.Header(), r) // Cache-Control and Vary, before Conditional
//	if httpapi.Conditional(w, r, httpapi.Validators{ETag: httpapi.ETagFromVersion(p.Version)}) {
//		return
//	}
//
// [ConditionalWrites] refuses PUT, PATCH and DELETE without a precondition
// with 428. For optimistic locking in the database, [VersionFromIfMatch]
// reads the version a client expects from If-Match and [ETagFromVersion]
// writes one: the seam with package txn is that number, and neither
// package imports the other.
//
// [CachePolicy] sets Cache-Control: "private, no-store" for answers to
// authenticated requests, "public" with max-age, stale-while-revalidate
// and stale-if-error for the others; [AddVary] merges Vary rather than
// overwriting it.
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
