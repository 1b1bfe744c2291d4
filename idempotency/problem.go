package idempotency

import (
	"net/http"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// Problem type URIs of the answers the middleware writes.
const (
	ProblemMissingKey   = "https://bedrock-go.dev/problems/idempotency-key-missing"
	ProblemInvalidKey   = "https://bedrock-go.dev/problems/idempotency-key-invalid"
	ProblemInProgress   = "https://bedrock-go.dev/problems/idempotency-in-progress"
	ProblemMismatch     = "https://bedrock-go.dev/problems/idempotency-key-reused"
	ProblemNotStored    = "https://bedrock-go.dev/problems/idempotency-response-not-stored"
	ProblemUnavailable  = "https://bedrock-go.dev/problems/idempotency-unavailable"
	ProblemBodyTooLarge = "https://bedrock-go.dev/problems/request-body-too-large"
)

// problemTitles name the middleware's problem types. RFC 9457 wants a title
// that does not change between occurrences of a type.
var problemTitles = map[string]string{
	ProblemMissingKey:   "Idempotency key required",
	ProblemInvalidKey:   "Invalid idempotency key",
	ProblemInProgress:   "Request in progress",
	ProblemMismatch:     "Idempotency key reused",
	ProblemNotStored:    "Response not stored",
	ProblemUnavailable:  "Idempotency unavailable",
	ProblemBodyTooLarge: "Request body too large",
}

// writeProblem answers with a problem of type typ ("" for about:blank).
// Details are written for the client: they never carry error text, nor
// anything the client sent.
func writeProblem(w http.ResponseWriter, status int, typ, detail string) {
	problem.Write(w, problem.Details{Status: status, Type: typ, Title: problemTitles[typ], Detail: detail})
}
