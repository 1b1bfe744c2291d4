package httpsec

import (
	"net/http"

	"github.com/bedrock-go/bedrock/internal/problem"
)

// cannedProblem is a problem+json answer rendered once, at construction.
// Refusals are what an attacker can trigger at will, so they must cost no
// more than a granted request: writing a canned answer does not allocate,
// where rendering one per request costs about twenty allocations.
type cannedProblem struct{ *problem.Rendered }

// newCannedProblem renders a refusal whose detail is written for the client
// (a sentence, never the sentinel's text, which is for the program).
func newCannedProblem(status int, detail string, extensions map[string]any, closeConn bool) cannedProblem {
	r := problem.Render(problem.Details{
		Status:     status,
		Detail:     detail,
		Extensions: extensions,
	})
	if closeConn {
		r = r.Closing()
	}
	return cannedProblem{r}
}

func (c *cannedProblem) write(w http.ResponseWriter) { c.Write(w) }

// replace answers in place of a response the handler started but did not
// finish (see problem.Rendered.Replace).
func (c *cannedProblem) replace(w http.ResponseWriter) { c.Replace(w) }
